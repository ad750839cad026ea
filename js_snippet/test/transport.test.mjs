// Delivery (src/transport.js): Retry-After, exponential backoff with jitter, final answers.
// The transport runs against a fake outbox and fetch, on node:test's mocked clock.
import { test, mock, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { RETRY_MAX_MS, RETRY_MS } from '../src/config.js'
import { createTransport, retryAfterMs } from '../src/transport.js'

test('Retry-After in seconds', () => {
  assert.equal(retryAfterMs('2'), 2000)
  assert.equal(retryAfterMs('0.5'), 500)
  assert.equal(retryAfterMs('0'), 0)
  assert.equal(retryAfterMs('-3'), 0)
})

test('Retry-After as an HTTP date, and at most ten minutes', () => {
  const inAMinute = new Date(Date.now() + 60_000).toUTCString()
  const ms = retryAfterMs(inAMinute)
  assert.ok(ms > 58_000 && ms <= 60_000, String(ms))
  assert.equal(retryAfterMs(new Date(Date.now() - 60_000).toUTCString()), 0)
  assert.equal(retryAfterMs('86400'), 600_000)
})

test('no or unreadable Retry-After: no wait of its own', () => {
  assert.equal(retryAfterMs(null), 0)
  assert.equal(retryAfterMs(''), 0)
  assert.equal(retryAfterMs('soon'), 0)
})

// -- the transport on a mocked clock -------------------------------------------------------

const realFetch = globalThis.fetch
const realRandom = Math.random
afterEach(() => {
  mock.timers.reset()
  globalThis.fetch = realFetch
  Math.random = realRandom
})

/** A transport with one batch waiting; `answers` are the statuses (and Retry-After) in turn. */
function rig (answers) {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 })
  const sent = [] // mocked-clock times of every request
  const refused = []
  let batches = [{ n: 1 }]
  const outbox = {
    next: () => batches.find((b) => !b.f),
    body: () => '{}',
    remove: (b) => { batches = batches.filter((x) => x !== b) },
    save () {},
    release () {},
    cut () {},
    pending: () => batches.filter((b) => !b.f),
    live: () => 0
  }
  globalThis.fetch = () => {
    sent.push(Date.now())
    const [status, retryAfter = null] = answers.shift() || [200]
    if (status === 0) return Promise.reject(new TypeError('network'))
    return Promise.resolve({ status, headers: { get: () => retryAfter }, text: () => Promise.resolve('') })
  }
  const transport = createTransport('https://ux.example/api/v1/collect', outbox, (status) => refused.push(status))
  const add = () => batches.push({ n: 1 })
  return { transport, sent, refused, add, waiting: () => batches.length }
}

const settle = () => new Promise((resolve) => setImmediate(resolve)) // let fetch's promises run

/** Run the clock forward until `count` requests were made (or a minute of quiet). */
async function until (sent, count) {
  for (let i = 0; i < 100_000 && sent.length < count; i++) {
    await settle()
    mock.timers.tick(10)
  }
  await settle()
}

const gaps = (sent) => sent.slice(1).map((t, i) => t - sent[i])

test('failures back off exponentially from RETRY_MS up to RETRY_MAX_MS', async () => {
  Math.random = () => 0.999999 // the jitter's top: the whole delay
  const { transport, sent, waiting } = rig([[503], [503], [503], [0], [500], [503], [503], [200]])
  transport.pump()
  await until(sent, 8)
  const expected = [1, 2, 4, 8, 16, 30, 30].map((s) => Math.min(s * RETRY_MS, RETRY_MAX_MS))
  gaps(sent).forEach((gap, i) => assert.ok(Math.abs(gap - expected[i]) <= 10, `retry ${i + 1}: ${gap} ms, not ${expected[i]}`))
  assert.equal(waiting(), 0, 'the batch was delivered in the end')
})

test('jitter: each delay is between half and all of the backoff', async () => {
  Math.random = () => 0 // the jitter's bottom: half the delay
  const { transport, sent } = rig([[503], [503], [503], [200]])
  transport.pump()
  await until(sent, 4)
  assert.deepEqual(gaps(sent).map((g) => Math.round(g / 10) * 10), [500, 1000, 2000])
})

test('429 and 408 are retried, after Retry-After when that is longer', async () => {
  Math.random = () => 0.999999
  const { transport, sent, refused } = rig([[429, '5'], [408], [200]])
  transport.pump()
  await until(sent, 3)
  const [first, second] = gaps(sent)
  assert.ok(Math.abs(first - 5000) <= 10, `after Retry-After: ${first}`)
  assert.ok(Math.abs(second - 2 * RETRY_MS) <= 10, `then the backoff: ${second}`)
  assert.deepEqual(refused, [])
})

test('a success resets the backoff', async () => {
  Math.random = () => 0.999999
  const { transport, sent, add } = rig([[503], [503], [200], [503], [200]])
  transport.pump()
  await until(sent, 3)
  add() // the next batch fails once: its wait starts again from RETRY_MS
  transport.pump()
  await until(sent, 5)
  assert.ok(Math.abs(sent[4] - sent[3] - RETRY_MS) <= 10, `after a success: ${sent[4] - sent[3]} ms`)
})

for (const status of [400, 401, 403, 413]) {
  test(`${status} is final: the batch is dropped and reported, never resent`, async () => {
    const { transport, sent, refused, waiting } = rig([[status]])
    transport.pump()
    await until(sent, 2) // gives up after the clock ran far
    assert.equal(sent.length, 1)
    assert.deepEqual(refused, [status])
    assert.equal(waiting(), 0)
  })
}

test('retryNow skips the wait (the network is back)', async () => {
  Math.random = () => 0.999999
  const { transport, sent } = rig([[503], [200]])
  transport.pump()
  await settle()
  await settle()
  assert.equal(sent.length, 1)
  transport.retryNow()
  await settle()
  assert.equal(sent.length, 2)
  assert.equal(sent[1], sent[0], 'sent again at once')
})
