// The uxlab snippet: <script src="https://COLLECTOR/uxlab.js" async></script>
//
// window.uxlab.track(name, data) records a custom event; uxlab.stop() ends the recording
// (what is queued is still delivered); uxlab.stats() tells what the snippet holds. Calls
// made and errors thrown before the script loads wait in the README's inline stub
// (`q`: track calls, `e`: error events). Inside a frame every event carries `frame` (the
// frame's URL). Without a session token nothing is recorded and nothing is sent.

import { READY_MS, REPLAY_KEY, quietly, randomId, readConfig, utf8Bytes } from './config.js'
import { initClicks, initErrors, initForms, initReactions, initResize, initRoutes, initScroll, initVisibility, on, pageFields } from './capture.js'
import { createOutbox } from './queue.js'
import { createTransport } from './transport.js'

const MAX_CUSTOM_BYTES = 4000 // the collector refuses custom data over 4096 bytes

/** Navigation Timing of this page load, in ms from navigation start (only the figures reached). */
function navigationTiming () {
  const nav = performance.getEntriesByType('navigation')[0]
  const paint = performance.getEntriesByName('first-contentful-paint')[0]
  const timing = {}
  const set = (name, ms) => ms > 0 && (timing[name] = Math.round(ms * 10) / 10)
  if (nav) {
    set('ttfb', nav.responseStart)
    set('dom', nav.domInteractive)
    set('dcl', nav.domContentLoadedEventEnd)
    set('load', nav.loadEventEnd)
  }
  if (paint) set('fcp', paint.startTime)
  return timing
}

function start (api, stub) {
  const config = readConfig(document.currentScript || document.querySelector('script[src*="uxlab"]'))
  if (!config.token || !window.fetch) return
  const session = config.token
  const page = randomId()
  const outbox = createOutbox(session, page)
  let recording = true
  // A study with `replay = true` says so in the collector's answers: then (and only then)
  // load the recorder module, which finds what it needs in `api.r` (the answer, with this page
  // load and the collect URL). The last answer is kept for the tab, so that the next page load
  // starts recording at once.
  const replay = (answer) => {
    quietly(() => sessionStorage.setItem(REPLAY_KEY, JSON.stringify(answer)))
    if (api.r || !recording || !answer.replay) return
    api.r = { ...answer, p: page, u: config.collect }
    const script = document.createElement('script') // async, as every script made so
    script.src = config.base + '/uxlab-replay.js'
    document.head.append(script)
  }
  const transport = createTransport(config.collect, outbox, (status, batch) => {
    // An unknown or closed session will not take anything more: stop recording it.
    if ((status === 401 || status === 403) && batch.s === session) api.stop()
    outbox.dropSession(batch.s)
  }, (text) => {
    const answer = quietly(() => JSON.parse(text))
    if (answer) replay({ ...answer, s: session })
  })
  const frame = window !== top && location.href
  const push = (type, fields) => outbox.push(type, { ...fields, ...(frame && { frame }) })
  const known = quietly(() => JSON.parse(sessionStorage.getItem(REPLAY_KEY)))
  if (known && known.s === session) replay(known) // another session's word is replaced by the first answer
  const emit = (type, fields) => {
    if (recording && push(type, fields)) transport.queued()
  }

  outbox.adopt()
  const first = push('page', pageFields())
  let ready = false
  const release = () => {
    if (ready) return
    ready = true
    if (first) first.timing = navigationTiming()
    outbox.release()
    transport.pump()
  }
  if (document.readyState === 'complete') setTimeout(release)
  else on(window, 'load', () => setTimeout(release))
  setTimeout(release, READY_MS)

  const teardowns = [initRoutes, initClicks, initReactions, initForms, initScroll, initResize, initErrors, initVisibility].map((init) => init(emit, stub))
  on(window, 'pagehide', () => {
    release()
    transport.leave()
  })
  on(document, 'visibilitychange', () => {
    if (document.visibilityState === 'hidden') {
      release()
      transport.leave()
    } else transport.pump()
  })
  on(window, 'online', transport.retryNow)

  api.track = (name, data) => {
    if (!recording) return false
    const fields = { name: String(name).slice(0, 128) }
    if (data !== undefined) {
      const text = quietly(() => JSON.stringify({ data }))
      if (!text || utf8Bytes(text) > MAX_CUSTOM_BYTES) return false
      fields.data = JSON.parse(text).data
    }
    emit('custom', fields)
    return true
  }
  api.stop = () => {
    recording = false
    if (api.r && api.r.stop) api.r.stop()
    teardowns.splice(0).forEach((off) => off())
    transport.pump()
  }
  api.stats = outbox.stats
  for (const [name, data] of (stub && stub.q) || []) api.track(name, data)
  transport.pump()
}

(function () {
  const stub = window.uxlab
  if (stub && stub.stats) return // loaded twice
  const api = { track: () => false, stop () {}, stats: () => null }
  window.uxlab = api
  quietly(() => start(api, stub))
})()
