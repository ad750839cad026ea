// Where the snippet's settings come from: the page URL, the script tag, sessionStorage.

export const WIRE_VERSION = 1
export const BATCH_EVENTS = 200 // events per request (the collector takes at most 500)
export const BATCH_BYTES = 48000 // keeps one request under the 64 KB keepalive budget
export const KEEPALIVE_BYTES = 60000 // what all keepalive requests in flight may carry together
export const QUEUE_LIMIT = 2000 // unsent events kept at most; later ones are counted and dropped
export const FLUSH_MS = 250 // a batch leaves at most this long after its first event (the console shows clicks live)
export const READY_MS = 10000 // the first batch waits for the load timing at most this long
export const RETRY_MS = 1000 // first retry delay; doubles up to RETRY_MAX_MS
export const RETRY_MAX_MS = 30000
export const TIMEOUT_MS = 20000 // a request without an answer by then counts as failed
export const SESSION_KEY = 'uxlab:session'
export const OUTBOX_PREFIX = 'uxlab:q:'
export const REPLAY_KEY = 'uxlab:replay' // sessionStorage: the collector's last word on recording

/** Epoch milliseconds on the page's monotonic clock (DESIGN: `t` and `sent`). */
export const now = () => Math.round((performance.timeOrigin + performance.now()) * 10) / 10

/** The UTF-8 size of a string (Blob would be exact too, but costs an IPC round). */
export const utf8Bytes = (text) => new TextEncoder().encode(text).length

/** Run `fn`; whatever it throws stays inside the snippet (storage may be blocked). */
export function quietly (fn, fallback) {
  try {
    return fn()
  } catch {
    return fallback
  }
}

/** A random id, new on every page load: the batch's `page`. */
export function randomId () {
  const words = crypto.getRandomValues(new Uint32Array(4))
  return Array.from(words, (w) => w.toString(36)).join('')
}

/**
 * The session token, the collector's base and collect URLs, or no token (then nothing records).
 *
 * The token comes from the page's `uxlab` query parameter (the participant's link) or
 * the script tag's `data-session`, and is kept in sessionStorage so that it survives
 * page loads in the tab. The collector is the script's own origin or `data-endpoint`.
 */
export function readConfig (script) {
  const data = (script && script.dataset) || {}
  let token = new URLSearchParams(location.search).get('uxlab') || data.session
  if (token) quietly(() => sessionStorage.setItem(SESSION_KEY, token))
  else token = quietly(() => sessionStorage.getItem(SESSION_KEY))
  const base = (data.endpoint || (script && script.src ? new URL(script.src, location.href).origin : location.origin)).replace(/\/+$/, '')
  return { token, base, collect: base + '/api/v1/collect' }
}
