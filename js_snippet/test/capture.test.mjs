// What the snippet records (src/capture.js): selectors, labels and route changes, on a tiny
// fake DOM (elements, attributes, siblings, and querySelectorAll for the selectors the snippet
// writes: `#id`, `tag`, `tag:nth-of-type(n)`, `tag[attr="value"]` joined by ` > `).
// The real browser runs the same code in tests/test_snippet_browser.py.
import { test } from 'node:test'
import assert from 'node:assert/strict'
/* global document, history, window -- the fakes this file puts on globalThis */

class El {
  constructor (tag, attrs = {}, children = []) {
    Object.assign(this, { localName: tag, tagName: tag.toUpperCase(), nodeType: 1, attrs, parentElement: null })
    this.children = []
    children.forEach((c) => this.append(c))
  }

  append (child) {
    if (typeof child === 'string') child = new Text(child)
    child.parentElement = this
    this.children.push(child)
    return this
  }

  get elements () { return this.children.filter((c) => c.nodeType === 1) }
  get firstChild () { return this.children[0] || null }
  get nextSibling () { return nextSibling(this) }
  get previousElementSibling () { return this._sibling(this.parentElement.elements, -1) }
  get nextElementSibling () { return this._sibling(this.parentElement.elements, 1) }
  _sibling (list, step) { return (this.parentElement && list[list.indexOf(this) + step]) || null }
  get id () { return this.attrs.id || '' }
  getAttribute (name) { return name in this.attrs ? this.attrs[name] : null }
  hasAttribute (name) { return name in this.attrs }
  closest (sel) { return sel.includes('data-uxlab-mask') && this._up((e) => e.hasAttribute('data-uxlab-mask')) }
  _up (fn) { for (let e = this; e; e = e.parentElement) if (fn(e)) return e; return null }
  getRootNode () { return document }
  // Enough of Element.matches for the snippet: `:only-of-type`, and lists of `tag`, `[attr]`,
  // `tag[attr]` and `tag[attr="value"]`.
  matches (sel) {
    if (sel === ':only-of-type') {
      return !this.parentElement || this.parentElement.elements.filter((s) => s.localName === this.localName).length === 1
    }
    return sel.split(',').some((part) => {
      const m = part.trim().match(/^([a-z][\w-]*)?(?:\[([\w-]+)(?:="(.*)")?\])?$/)
      if (!m) return false
      const [, tag, attr, value] = m
      return (!tag || this.localName === tag) && (!attr || (this.hasAttribute(attr) && (value === undefined || this.getAttribute(attr) === value)))
    })
  }
}
class Text {
  constructor (data) { Object.assign(this, { nodeType: 3, data, parentElement: null }) }
  get nextSibling () { return nextSibling(this) }
}
const nextSibling = (node) => {
  const list = node.parentElement ? node.parentElement.children : []
  return list[list.indexOf(node) + 1] || null
}

function stepMatches (el, step) {
  let m = step.match(/^#(.+)$/)
  if (m) return el.id === m[1].replace(/\\(.)/g, '$1')
  m = step.match(/^([a-z][\w-]*)\[([\w-]+)="(.*)"\]$/)
  if (m) return el.localName === m[1] && el.getAttribute(m[2]) === m[3].replace(/\\(.)/g, '$1')
  m = step.match(/^([a-z][\w-]*):nth-of-type\((\d+)\)$/)
  if (m) return el.localName === m[1] && el.parentElement.elements.filter((s) => s.localName === m[1]).indexOf(el) + 1 === +m[2]
  return el.localName === step
}
function matches (el, steps) {
  if (!el || el.nodeType !== 1 || !stepMatches(el, steps[steps.length - 1])) return false
  return steps.length === 1 || matches(el.parentElement, steps.slice(0, -1))
}
const all = (root) => [root, ...root.elements.flatMap(all)]

const body = new El('body')
const html = new El('html', {}, [body])
globalThis.document = {
  body,
  documentElement: html,
  querySelectorAll: (sel) => all(html).filter((el) => matches(el, sel.split(' > '))),
  getElementById: (id) => all(html).find((el) => el.id === id) || null
}
globalThis.CSS = { escape: (s) => String(s).replace(/["\\]/g, '\\$&') }

const capture = await import('../src/capture.js')
const { selector, label } = capture

/** Put `children` into a fresh body. */
function page (...children) {
  body.children = []
  children.forEach((c) => body.append(c))
}

test('an element with a hand-written id is its id', () => {
  const button = new El('button', { id: 'checkout' }, ['Checkout'])
  page(new El('div', {}, [button]))
  assert.equal(selector(button), '#checkout')
})

test('data-testid comes first, then id, name, aria-label', () => {
  const field = new El('input', { 'data-testid': 'email-field', id: 'email', name: 'email' })
  page(new El('form', {}, [field]))
  assert.equal(selector(field), 'input[data-testid="email-field"]')
  const named = new El('input', { name: 'qty' })
  page(new El('form', {}, [named]))
  assert.equal(selector(named), 'input[name="qty"]')
})

test("generated ids (React's :r1:, hashes, long numbers) are skipped", () => {
  for (const id of [':r1:', 'item-t3XjHjXGSXH', 'row1234']) {
    const cell = new El('span', { id }, ['x'])
    page(new El('div', {}, [new El('p'), new El('p', {}, [cell])]))
    assert.equal(selector(cell), 'div > p:nth-of-type(2) > span', id)
  }
})

test('nth-of-type steps below the nearest unique anchor', () => {
  const second = new El('a', {}, ['Trail'])
  const list = new El('ul', { id: 'shoes' }, [new El('li', {}, [new El('a', {}, ['Road'])]), new El('li', {}, [second])])
  page(list)
  assert.equal(selector(second), '#shoes > li:nth-of-type(2) > a')
})

test('an anchor that is not unique is no anchor', () => {
  const first = new El('button', { name: 'add' }, ['Add'])
  const second = new El('button', { name: 'add' }, ['Add'])
  page(new El('section', { id: 'a' }, [first]), new El('section', { id: 'b' }, [second]))
  assert.equal(selector(second), '#b > button')
})

test('every selector made finds exactly its element', () => {
  const leaves = []
  const tree = new El('main', {}, [0, 1, 2].map((i) => new El('div', i === 1 ? { name: 'mid' } : {},
    [0, 1].map(() => { const b = new El('b'); leaves.push(b); return new El('span', {}, [b]) }))))
  page(tree)
  for (const leaf of leaves) assert.deepEqual(document.querySelectorAll(selector(leaf)), [leaf], selector(leaf))
})

test('selectors stay within 512 characters', () => {
  let deepest = new El('i')
  const top = deepest
  for (let i = 0; i < 120; i++) deepest = new El('div', {}, [new El('p'), deepest])
  page(deepest)
  const made = selector(top)
  assert.ok(made.length <= 512, String(made.length))
  assert.ok(made.endsWith(' > i'))
})

test('labels: aria-label, then alt and title, then the text', () => {
  page()
  assert.equal(label(new El('button', { 'aria-label': 'Close dialog' }, ['×'])), 'Close dialog')
  assert.equal(label(new El('img', { alt: 'Trail runner' })), 'Trail runner')
  assert.equal(label(new El('a', {}, ['  Go   to\n cart '])), 'Go to cart')
})

test("labels: a click on something not interactive gets only that element's own text", () => {
  const card = new El('div', {}, ['Sale ', new El('h2', {}, ['Trail runner']), new El('p', {}, ['Light and fast'])])
  page(card)
  assert.equal(label(card, true), 'Sale Trail runner Light and fast')
  assert.equal(label(card, false), 'Sale')
  assert.equal(label(new El('div', {}, [new El('p', {}, ['only inside'])]), false), undefined)
})

test('labels: a masked subtree gives none', () => {
  const secret = new El('span', {}, ['4111 1111'])
  page(new El('div', { 'data-uxlab-mask': '' }, [secret]))
  assert.equal(label(secret), undefined)
})

test('route changes: a new path or a hash route sends a page event, an in-page anchor does not', () => {
  globalThis.window = new EventTarget()
  globalThis.innerWidth = 1280
  globalThis.innerHeight = 800
  document.title = 'App'
  const loc = { href: 'https://proto.example/app/' }
  globalThis.location = loc
  const go = (href) => { loc.href = new URL(href, loc.href).href }
  globalThis.history = { pushState: (_s, _t, href) => go(href), replaceState: (_s, _t, href) => go(href) }
  const pushState = history.pushState
  const { initRoutes } = capture
  const sent = []
  const stop = initRoutes((type, fields) => sent.push([type, fields.url, fields.spa]))
  history.pushState({}, '', '/app/inbox') // a new path
  history.pushState({}, '', '/app/inbox') // the same URL: nothing
  history.replaceState({}, '', '/app/inbox#/done') // a hash route
  history.pushState({}, '', '/app/inbox#top') // an anchor after a route: leaving the route counts
  history.pushState({}, '', '/app/inbox#section-2') // anchor to anchor: nothing
  go('/app/inbox#!/active') // the browser changed the fragment itself
  window.dispatchEvent(new Event('hashchange'))
  assert.deepEqual(sent, [
    ['page', 'https://proto.example/app/inbox', true],
    ['page', 'https://proto.example/app/inbox#/done', true],
    ['page', 'https://proto.example/app/inbox#top', true],
    ['page', 'https://proto.example/app/inbox#!/active', true]
  ])
  stop()
  assert.equal(history.pushState, pushState, 'the teardown puts history back')
})
