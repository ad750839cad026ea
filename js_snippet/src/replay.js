// The recorder module, /uxlab-replay.js: rrweb's recorder, loaded by the snippet only when
// the collector says the study records replays ("replay": true in its 200 answer).
//
// rrweb's events are cut into chunks (at each full snapshot, after CHUNK_MS, or at
// CHUNK_EVENTS) and queued in an outbox of their own with the snippet's identity scheme
// (session, page load, seq), so chunks are delivered at least once and stored once, with
// the snippet's retry, backoff and localStorage copy. Bodies are gzip where the browser
// has CompressionStream, each event packed by rrweb's packer where it has not. A 413 (the session's recording is full) stops the recording; the
// snippet's events go on.
//
// Privacy: every input masked, `data-uxlab-mask` (and the study's) text masked,
// `data-uxlab-ignore` (and the study's) subtrees blocked, no cross-origin frames.

import { pack } from '@rrweb/packer/pack'
import { record } from '@rrweb/record'
import { on } from './capture.js'
import { quietly } from './config.js'
import { createOutbox } from './queue.js'
import { createTransport } from './transport.js'

const PREFIX = 'uxlab:r:' // localStorage keys of unsent chunks (the events' outbox has its own)
const CHUNK_MS = 500 // a chunk leaves at most this long after its first rrweb event (live view)
const CHUNK_EVENTS = 400 // rrweb events per chunk at most
const FULL_SNAPSHOT = 2 // rrweb EventType.FullSnapshot

/** gzip a body (a promise of its bytes), or nothing where the browser cannot. */
const gzip = typeof CompressionStream === 'function'
  ? (text) => new Response(new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer()
  : undefined
/** Without CompressionStream each event is packed by rrweb's packer (zlib, in a string). */
const packed = gzip ? (event) => event : pack

function start (hook) {
  const outbox = createOutbox(hook.s, hook.p, PREFIX, 'chunks')
  outbox.release() // chunks never wait for the load timing
  let buffer = []
  let timer = 0
  let stopRecord = null
  const transport = createTransport(hook.u.replace(/collect$/, 'replay'), outbox, (status, batch, text) => {
    // The session's recording is full (a 413 naming the recording; a 413 for one body too
    // large drops that batch only), the session is unknown or closed, or the study no
    // longer records: stop.
    if ((status === 413 && /recording/.test(text)) || status === 401 || status === 403) {
      stop()
      outbox.dropSession(batch.s)
    }
  }, null, gzip)

  function flush () {
    clearTimeout(timer)
    timer = 0
    if (!buffer.length) return
    if (outbox.push('rr', { events: buffer })) transport.queued()
    buffer = []
  }

  function stop () {
    if (!stopRecord) return
    quietly(stopRecord)
    stopRecord = null
    flush()
    transport.pump()
  }

  outbox.adopt()
  stopRecord = record({
    emit (event) {
      if (event.type === FULL_SNAPSHOT) flush() // a snapshot starts a chunk of its own
      buffer.push(packed(event))
      if (event.type === FULL_SNAPSHOT || buffer.length >= CHUNK_EVENTS) flush()
      else if (!timer) timer = setTimeout(flush, CHUNK_MS)
    },
    maskAllInputs: true,
    maskTextSelector: hook.replay_mask || '[data-uxlab-mask]',
    blockSelector: hook.replay_block || '[data-uxlab-ignore]',
    recordCrossOriginIframes: false,
    recordCanvas: false,
    collectFonts: false,
    inlineImages: false,
    slimDOMOptions: 'all',
    // Heavy pages are throttled, not frozen: one mouse position per 50 ms, one scroll
    // position per 150 ms, only the last value of an input burst.
    sampling: { mousemove: 50, scroll: 150, media: 800, input: 'last' }
  }) || null

  const leave = () => {
    flush()
    transport.leave()
  }
  on(window, 'pagehide', leave)
  on(document, 'visibilitychange', () => document.visibilityState === 'hidden' ? leave() : transport.pump())
  on(window, 'online', transport.retryNow)
  hook.stop = stop
  hook.stats = outbox.stats
  transport.pump()
}

quietly(() => {
  const hook = window.uxlab && window.uxlab.r
  if (hook && !hook.started) {
    hook.started = true
    start(hook)
  }
})
