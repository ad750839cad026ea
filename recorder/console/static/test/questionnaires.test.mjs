// The console's SUS score (console_questionnaires.js) against the cases analyzer/stats/questionnaires.py
// passes too. Run: node --test recorder/console/static/test/
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'

const here = new URL('.', import.meta.url)
const cases = JSON.parse(readFileSync(new URL('../../../../tests/cases/questionnaires.json', here), 'utf8'))
// A browser module without a package.json around it: load it as a data URL.
const source = readFileSync(new URL('../console_questionnaires.js', here), 'utf8')
const questionnaires = await import('data:text/javascript,' + encodeURIComponent(source))

test('SUS scores by Brooke\'s rule', () => {
  for (const c of cases.sus) assert.equal(questionnaires.susScore(c.answers), c.score, c.answers.join(','))
})

test('a SUS rating in words carries the same score', () => {
  for (const c of cases.sus) {
    const e = { item: 'SUS', data: JSON.stringify({ values: c.answers }) }
    assert.equal(questionnaires.ratingText(e), `: score ${c.score}`)
  }
})
