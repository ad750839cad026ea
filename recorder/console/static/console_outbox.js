// The moderator's events on their way to the collector: at-least-once, nothing lost.
//
// Each event gets seq (from 0 per page load) and t (Date.now()); the batch carries this
// page load's random id as `page` (DESIGN's wire format). Unsent events are kept in
// localStorage per page load, so a reload (or a crash) resends them under their own
// identity and the collector stores each once.

const MAX_BATCH = 100

export class Outbox {
  /**
   * @param {object} o
   * @param {string} o.url - POST /api/v1/studies/{study}/sessions/{n}/events
   * @param {string} o.csrf - the page's CSRF token
   * @param {string} o.storage - localStorage prefix for this session
   * @param {function} o.changed - called after anything changed (render)
   * @param {function} o.refused - called with (status, error) for events that can never be stored
   */
  constructor ({ url, csrf, storage, changed, refused }) {
    Object.assign(this, { url, csrf, storage, changed, refused })
    this.page = Array.from(crypto.getRandomValues(new Uint32Array(3)), (w) => w.toString(36)).join('')
    this.mine = { page: this.page, events: [] }
    this.batches = [this.mine]
    this.pending = new Set() // "page:seq" of every unacknowledged event
    this.nextSeq = 0
    this.sending = false
    this.retryDelay = 1000
    this.retryTimer = 0
    this.problem = ''
  }

  /** Unsent events of earlier loads of this page go out first. */
  loadLeftovers () {
    try {
      for (let i = 0; i < localStorage.length; i++) {
        const name = localStorage.key(i)
        if (!name.startsWith(this.storage) || name === this.storage + this.page) continue
        const batch = JSON.parse(localStorage.getItem(name))
        if (batch && batch.page && Array.isArray(batch.events) && batch.events.length) {
          this.batches.unshift(batch)
          for (const ev of batch.events) this.pending.add(`${batch.page}:${ev.seq}`)
        }
      }
    } catch {} // storage blocked: nothing was kept
  }

  /** Queue an event now (or at `t`); returns it with its identity. */
  add (fields, t) {
    const ev = Object.assign({ seq: this.nextSeq++, t: t || Date.now() }, fields)
    this.mine.events.push(ev)
    this.keep(this.mine)
    this.pending.add(`${this.page}:${ev.seq}`)
    this.flush()
    return ev
  }

  unsent () { return this.batches.reduce((n, b) => n + b.events.length, 0) }

  keep (batch) {
    try {
      if (batch.events.length) localStorage.setItem(this.storage + batch.page, JSON.stringify(batch))
      else localStorage.removeItem(this.storage + batch.page)
    } catch {} // storage full or blocked: the events still go out from memory
  }

  /** Send the next batch; on failure retry with backoff until acknowledged. */
  async flush () {
    if (this.sending) return
    const batch = this.batches.find((b) => b.events.length)
    if (!batch) { this.problem = ''; this.changed(); return }
    this.sending = true
    clearTimeout(this.retryTimer)
    const events = batch.events.slice(0, MAX_BATCH)
    let status = 0
    let body = {}
    try {
      const resp = await fetch(this.url, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': this.csrf },
        body: JSON.stringify({ v: 1, page: batch.page, sent: Date.now(), events })
      })
      status = resp.status
      body = await resp.json().catch(() => ({}))
    } catch {}
    this.sending = false
    const closed = status === 403 && /^session/.test(body.error || '')
    if (status === 200 || status === 400 || closed) {
      this.settle(batch, events)
      if (status !== 200) this.refused(status, body.error || '', events.map((ev) => `${batch.page}:${ev.seq}`))
      this.retryDelay = 1000
      this.flush()
      return
    }
    this.problem = status === 401 ? 'signed out: sign in again in another tab'
      : status === 403 ? 'refused: reload this page'
        : status === 0 ? 'server unreachable' : `error ${status}`
    this.changed()
    this.retryTimer = setTimeout(() => this.flush(), this.retryDelay)
    this.retryDelay = Math.min(this.retryDelay * 2, 10000)
  }

  /** The server is back: retry at once. */
  retryNow () {
    if (!this.unsent()) return
    this.retryDelay = 1000
    this.flush()
  }

  settle (batch, events) {
    batch.events = batch.events.slice(events.length)
    this.keep(batch)
    for (const ev of events) this.pending.delete(`${batch.page}:${ev.seq}`)
    this.changed()
  }
}
