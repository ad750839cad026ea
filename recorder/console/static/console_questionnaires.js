// The questionnaires the moderator enters (SEQ after each task; SUS, UMUX-Lite
// or NPS at the end). Scales match recorder/wire/schema.py's RATING_SCALES.

export const SEQ = {
  question: 'Overall, how difficult or easy was this task to complete?',
  lo: 1, hi: 7, ends: ['Very difficult', 'Very easy']
}

export const AFTER_SESSION = {
  // Brooke (1996), "SUS: a quick and dirty usability scale".
  SUS: {
    lo: 1, hi: 5, ends: ['Strongly disagree', 'Strongly agree'],
    items: ['I think that I would like to use this system frequently.',
      'I found the system unnecessarily complex.',
      'I thought the system was easy to use.',
      'I think that I would need the support of a technical person to be able to use this system.',
      'I found the various functions in this system were well integrated.',
      'I thought there was too much inconsistency in this system.',
      'I would imagine that most people would learn to use this system very quickly.',
      'I found the system very cumbersome to use.',
      'I felt very confident using the system.',
      'I needed to learn a lot of things before I could get going with this system.']
  },
  // Lewis, Utesch & Maher (2013).
  'UMUX-Lite': {
    lo: 1, hi: 7, ends: ['Strongly disagree', 'Strongly agree'],
    items: ["This system's capabilities meet my requirements.", 'This system is easy to use.']
  },
  NPS: {
    lo: 0, hi: 10, ends: ['Not at all likely', 'Extremely likely'],
    items: ['How likely is it that you would recommend this to a friend or colleague?']
  }
}

/** The SUS score, 0-100: odd items score v - 1, even items 5 - v, times 2.5 (cases: tests/cases/questionnaires.json). */
export function susScore (values) {
  return values.reduce((sum, v, i) => sum + (i % 2 === 0 ? v - 1 : 5 - v), 0) * 2.5
}

/** A rating event's result in words: ": score 72.5" for SUS, ": 9" for NPS. */
export function ratingText (e) {
  if (e.item === 'SUS' && e.data) {
    try { return `: score ${susScore(JSON.parse(e.data).values)}` } catch { return '' }
  }
  return e.value !== undefined && e.value !== null ? `: ${e.value}` : ''
}
