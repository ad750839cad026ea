// Delivery: one request at a time, retried with exponential backoff and jitter.
//
// Bodies are text/plain (no CORS preflight). Requests use fetch's keepalive while the
// keepalive budget (64 KB for all such requests in flight) allows, so that a request
// started just before the page goes away still arrives. The collector answers 200 only
// after commit; 400, 401, 403 and 413 are final; network errors, 408, 429 (after its
// Retry-After) and 5xx are tried again.

import { BATCH_EVENTS, FLUSH_MS, KEEPALIVE_BYTES, RETRY_MAX_MS, RETRY_MS, TIMEOUT_MS, utf8Bytes } from './config.js'

/** Milliseconds that a Retry-After header (seconds or an HTTP date; null: none) asks to wait. */
export function retryAfterMs (header) {
  const ms = isNaN(header) ? Date.parse(header) - Date.now() : header * 1000
  return ms > 0 ? Math.min(ms, 600000) : 0
}

// `accepted(text)` hears each 2xx answer's body; `encode(body)` (a promise of the bytes to
// send, e.g. gzip) is used except when the page is leaving, which cannot wait for a promise.
export function createTransport (url, outbox, refused, accepted, encode) {
  const KEEPALIVE = 'keepalive' in Request.prototype // where there is fetch, there is Request
  let inflight = 0
  let keepaliveBytes = 0
  let attempt = 0
  let waitUntil = 0
  let timer = 0
  let timerAt = 0

  /** Make sure that `pump` runs within `ms`. */
  function schedule (ms) {
    const at = Date.now() + ms
    if (timer && timerAt <= at) return
    clearTimeout(timer)
    timerAt = at
    timer = setTimeout(() => {
      timer = 0
      pump()
    }, ms)
  }

  /** Send the next batch unless one is in flight or a retry is waiting. */
  function pump () {
    if (inflight) return
    const wait = waitUntil - Date.now()
    if (wait > 0) return schedule(wait)
    const batch = outbox.next()
    if (batch) send(batch, false)
  }

  function send (batch, leaving) {
    const body = outbox.body(batch)
    const bytes = utf8Bytes(body)
    const keepalive = KEEPALIVE && keepaliveBytes + bytes <= KEEPALIVE_BYTES
    if (leaving && !keepalive) {
      // Browsers without fetch keepalive still deliver a beacon; the stored copy covers the rest.
      if (!KEEPALIVE && navigator.sendBeacon) navigator.sendBeacon(url, body)
      return false
    }
    batch.f = 1
    inflight++
    if (keepalive) keepaliveBytes += bytes
    const settle = (status, retryAfter, text) => {
      batch.f = 0
      inflight--
      if (keepalive) keepaliveBytes -= bytes
      const ok = status >= 200 && status < 300
      if (ok || (status >= 400 && status < 500 && status !== 408 && status !== 429)) {
        attempt = 0
        outbox.remove(batch)
        if (!ok) refused(status, batch, text)
        else if (accepted) accepted(text)
      } else {
        const backoff = Math.min(RETRY_MAX_MS, RETRY_MS * 2 ** attempt++) * (0.5 + Math.random() / 2)
        waitUntil = Date.now() + Math.max(backoff, retryAfterMs(retryAfter))
        outbox.save()
      }
      pump()
    }
    const post = (payload) => fetch(url, {
      method: 'POST',
      body: payload,
      keepalive,
      credentials: 'omit',
      signal: AbortSignal.timeout && AbortSignal.timeout(TIMEOUT_MS)
    })
    ;(encode && !leaving ? encode(body).then(post) : post(body)).then((r) => {
      // Reading the body ends the request, which frees its share of the keepalive budget.
      const done = (text) => settle(r.status, r.headers.get('Retry-After'), text)
      return r.text().then(done, done)
    }, () => settle(0))
    return true
  }

  /** The page is hidden or going away: send all that waits now, keep a copy in storage. */
  function leave () {
    for (const batch of outbox.unsent()) if (!send(batch, true)) break
    outbox.save()
  }

  return {
    pump,
    leave,
    /** An event was queued: send soon, or now when a batch is full. */
    queued () {
      schedule(outbox.live() >= BATCH_EVENTS ? 0 : FLUSH_MS)
    },
    /** The network is back: retry at once. */
    retryNow () {
      waitUntil = 0
      pump()
    }
  }
}
