// The outbox: every event not yet acknowledged by the collector, in batches.
//
// An event's identity (session, page, seq) is fixed when it is queued, so a batch can be
// sent as often as it takes: the collector stores each identity once. Unsent batches are
// written to localStorage under this page load's key (at pagehide, and after a failed
// send); the next page load of the origin adopts them and sends them again.

import { BATCH_BYTES, BATCH_EVENTS, OUTBOX_PREFIX, QUEUE_LIMIT, WIRE_VERSION, now, quietly } from './config.js'

// `prefix` and `field` let the recorder module keep recording chunks in an outbox of its own
// (key prefix, and the body's list name: "events" or "chunks").
export function createOutbox (session, page, prefix = OUTBOX_PREFIX, field = 'events') {
  const key = prefix + page
  let live = [] // this page load's events not yet cut into a batch
  const batches = [] // {s: session, p: page, e: events as JSON text, n: count, f: in flight}
  let seq = 0
  let count = 0 // events held: live and in batches
  let dropped = 0
  let held = true // the first batch waits until the page event has its load timing
  let stored = false

  /** Queue an event; returns it, or nothing when the outbox is full (the seq gap shows it). */
  function push (type, fields) {
    const event = { seq: seq++, t: now(), type, ...fields }
    if (count >= QUEUE_LIMIT) {
      dropped++
      return
    }
    count++
    live.push(event)
    return event
  }

  /** Move the live events into batches of at most BATCH_EVENTS and about BATCH_BYTES. */
  function cut () {
    let batch
    for (const event of live) {
      const text = JSON.stringify(event)
      if (batch && batch.n < BATCH_EVENTS && batch.e.length + text.length < BATCH_BYTES) {
        batch.e += ',' + text
        batch.n++
      } else batches.push((batch = { s: session, p: page, e: text, n: 1 }))
    }
    live = []
  }

  /** The first batch to send (cutting the live events when they may go). */
  function next () {
    if (!held) cut()
    return batches.find((b) => !b.f)
  }

  function remove (batch) {
    const i = batches.indexOf(batch)
    if (i >= 0) {
      batches.splice(i, 1)
      count -= batch.n
    }
    // A stored copy may hold batches already delivered: resending them is harmless, and
    // rewriting storage on every answer is not free. Clear it once nothing is left.
    if (stored && !batches.length && !live.length) save()
  }

  /** Keep every unsent batch under this page load's key (or clear the key when none). */
  function save () {
    if (!held) cut()
    quietly(() => {
      if (batches.length) {
        localStorage.setItem(key, JSON.stringify(batches, ['s', 'p', 'e', 'n'])) // not `f`
        stored = true
      } else if (stored) {
        localStorage.removeItem(key)
        stored = false
      }
    })
  }

  /** Take over the batches that earlier page loads could not send. */
  function adopt () {
    for (const k of quietly(() => Object.keys(localStorage), [])) {
      if (k.indexOf(prefix) || k === key) continue
      // What is not a list of batches (storage blocked, a damaged copy) is skipped.
      quietly(() => {
        const kept = localStorage.getItem(k)
        localStorage.removeItem(k)
        for (const { s, p, e, n } of JSON.parse(kept) || []) {
          if (typeof e !== 'string' || !(n > 0)) continue
          if (count + n > QUEUE_LIMIT) dropped += n
          else {
            batches.push({ s, p, e, n })
            count += n
          }
        }
      })
    }
    if (batches.length) save()
  }

  /** The request body of a batch; `sent` is the time of this attempt. */
  function body (batch) {
    const head = JSON.stringify({ v: WIRE_VERSION, session: batch.s, page: batch.p, sent: now(), [field]: [] })
    return head.slice(0, -2) + batch.e + ']}' // the events are JSON text already
  }

  return {
    push,
    next,
    save,
    adopt,
    body,
    /** Forget a batch: acknowledged, or refused for good. */
    remove,
    /** Forget every batch of a session the collector refused (unknown or closed). */
    dropSession (s) {
      for (const batch of batches.slice()) if (batch.s === s && !batch.f) remove(batch)
      if (s === session) {
        count -= live.length
        live = []
      }
    },
    release () {
      held = false
    },
    /** The page is leaving: every batch not in flight, the live events cut too (nothing waits). */
    unsent () {
      held = false
      cut()
      return batches.filter((b) => !b.f)
    },
    live: () => live.length,
    stats: () => ({ page, seq, queued: count, dropped, batches: batches.length })
  }
}
