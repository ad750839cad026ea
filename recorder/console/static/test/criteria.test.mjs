// The console's success criteria (console_rules.js `meets`) against the cases the analyzer's
// kernels code the same way (tests/test_criteria.py). Run: node --test recorder/console/static/test/
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'

const here = new URL('.', import.meta.url)
const criteria = JSON.parse(readFileSync(new URL('../../../../tests/cases/criteria.json', here), 'utf8'))
// console_rules.js is a browser module without a package.json around it: load it as a data URL.
const source = readFileSync(new URL('../console_rules.js', here), 'utf8')
const rules = await import('data:text/javascript,' + encodeURIComponent(source))

test('a participant event meets a success criterion as the analyzer codes it', () => {
  for (const c of criteria.cases) {
    const what = `${JSON.stringify(c.success)} by ${JSON.stringify(c.event)}`
    assert.equal(rules.meets(c.success, c.event, criteria.variant_url), c.meets, what)
  }
})
