// The console's page keys (console_rules.js) against the cases recorder/wire/pages.py passes too.
// Run: node --test recorder/console/static/test/
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'

const here = new URL('.', import.meta.url)
const cases = JSON.parse(readFileSync(new URL('../../../../tests/cases/page_keys.json', here), 'utf8'))
// console_rules.js is a browser module without a package.json around it: load it as a data URL.
const source = readFileSync(new URL('../console_rules.js', here), 'utf8')
const rules = await import('data:text/javascript,' + encodeURIComponent(source))
const pagesOf = (c) => ({ hash_routes: 'auto', patterns: [], aliases: {}, ...(c.pages || {}) })

test('page keys of recorded URLs', () => {
  for (const c of cases.urls) assert.equal(rules.pageKey(c.url, c.variant_url, pagesOf(c)), c.key, c.url)
})

test('page keys written in a study file', () => {
  for (const c of cases.written) assert.equal(rules.writtenKey(c.written, pagesOf(c)), c.key, c.written)
})

test('patterns', () => {
  for (const c of cases.matches) assert.equal(rules.matches(c.pattern, c.key), c.matches, `${c.pattern} ~ ${c.key}`)
})

test('a url criterion meets the page it names, routes and patterns included', () => {
  const page = (url) => ({ type: 'page', url })
  const app = 'http://h/app/'
  assert.equal(rules.meets({ url: '/#/completed' }, page('http://h/app/#/active'), app), false)
  assert.equal(rules.meets({ url: '/#/completed' }, page('http://h/app/#/completed'), app), true)
  assert.equal(rules.meets({ url: '/note/*' }, page('http://h/app/note/x1'), app), true)
  assert.equal(rules.meets({ url: '/note/*' }, page('http://h/app/note/x1/edit'), app), false)
  const pages = { patterns: ['/note/:id'] }
  assert.equal(rules.meets({ url: '/note/abc' }, page('http://h/app/note/x1'), app, pages), true)
})
