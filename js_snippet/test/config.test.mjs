// The snippet's settings (src/config.js): where the token and the collector come from.
// Run: node --test js_snippet/test/
import { test, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { SESSION_KEY, quietly, randomId, readConfig, utf8Bytes } from '../src/config.js'

// readConfig reads the page's location and sessionStorage: a fake of each per test.
let stored
beforeEach(() => {
  stored = new Map()
  globalThis.sessionStorage = {
    getItem: (k) => (stored.has(k) ? stored.get(k) : null),
    setItem: (k, v) => stored.set(k, String(v))
  }
})
const at = (href) => {
  const url = new URL(href)
  globalThis.location = { href, search: url.search, origin: url.origin }
}
const tag = (src, dataset = {}) => ({ src, dataset })

test('the token comes from the participant link and is kept for the next page loads', () => {
  at('https://proto.example/shop/?uxlab=TOKEN1&x=2')
  const first = readConfig(tag('https://ux.example/uxlab.js'))
  assert.deepEqual(first, { token: 'TOKEN1', base: 'https://ux.example', collect: 'https://ux.example/api/v1/collect' })
  assert.equal(stored.get(SESSION_KEY), 'TOKEN1')
  at('https://proto.example/shop/cart') // the next page has no parameter: the tab remembers
  assert.equal(readConfig(tag('https://ux.example/uxlab.js')).token, 'TOKEN1')
})

test("the tag's data-session when the URL has none; the URL wins over it", () => {
  at('https://proto.example/')
  assert.equal(readConfig(tag('https://ux.example/uxlab.js', { session: 'FROMTAG' })).token, 'FROMTAG')
  at('https://proto.example/?uxlab=FROMURL')
  assert.equal(readConfig(tag('https://ux.example/uxlab.js', { session: 'FROMTAG' })).token, 'FROMURL')
})

test('no token anywhere: nothing records', () => {
  at('https://proto.example/')
  assert.equal(readConfig(tag('https://ux.example/uxlab.js')).token, null)
})

test("the collector is the script's origin, data-endpoint, or the page's own origin", () => {
  at('https://proto.example/app/')
  assert.equal(readConfig(tag('https://ux.example:8642/static/uxlab.js?v=1')).collect,
    'https://ux.example:8642/api/v1/collect')
  assert.equal(readConfig(tag('/uxlab.js')).collect, 'https://proto.example/api/v1/collect')
  assert.equal(readConfig(tag('https://cdn.example/uxlab.js', { endpoint: 'https://ux.example/base//' })).collect,
    'https://ux.example/base/api/v1/collect')
  assert.equal(readConfig(null).collect, 'https://proto.example/api/v1/collect')
})

test('blocked storage does not stop the snippet', () => {
  globalThis.sessionStorage = { getItem () { throw new Error('denied') }, setItem () { throw new Error('denied') } }
  at('https://proto.example/?uxlab=T')
  assert.equal(readConfig(tag('https://ux.example/uxlab.js')).token, 'T')
  at('https://proto.example/')
  assert.equal(readConfig(tag('https://ux.example/uxlab.js')).token, undefined)
})

test('quietly returns the fallback for what throws', () => {
  assert.equal(quietly(() => 1, 2), 1)
  assert.equal(quietly(() => { throw new Error('x') }, 2), 2)
})

test('utf8Bytes counts bytes, not characters', () => {
  assert.equal(utf8Bytes('abc'), 3)
  assert.equal(utf8Bytes('é'), 2)
  assert.equal(utf8Bytes('😀'), 4)
})

test('page-load ids are fresh and fit the wire format (at most 64 characters)', () => {
  const ids = new Set(Array.from({ length: 200 }, randomId))
  assert.equal(ids.size, 200)
  for (const id of ids) assert.match(id, /^[0-9a-z]{4,64}$/)
})
