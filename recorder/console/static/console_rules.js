// The analyzer's rules, mirrored for the live page (analyzer/load.py, analyzer/kernels/jit.py):
// page keys, success criteria, and the attempts a session's events make. Pure functions.

const bare = (url) => url.split('#')[0].split('?')[0].replace(/\/+$/, '')
const strip = (path) => path.replace(/\/+$/, '') || '/'
const NAME_SEGMENT = /^:[A-Za-z_][A-Za-z0-9_]*$/
const DEFAULT_PAGES = { hash_routes: 'auto', patterns: [], aliases: {} }

/** The route a URL fragment names (`/completed`), or null (recorder/wire/pages.py `route`). */
export function route (fragment, hashRoutes) {
  if (hashRoutes === false || !fragment) return null
  if (fragment.startsWith('!')) fragment = fragment.slice(1)
  if (!fragment.startsWith('/')) {
    if (hashRoutes !== true) return null
    fragment = '/' + fragment
  }
  return fragment.split('?')[0].replace(/\/+$/, '') || null
}

/** The key of a page at `path` (relative to the variant) with `fragment` (recorder/wire/pages.py `key_of`). */
export function keyOf (path, fragment, pages = DEFAULT_PAGES) {
  const aliases = pages.aliases || {}
  path = strip(path)
  if (Object.hasOwn(aliases, path)) path = aliases[path]
  const routed = route(fragment, pages.hash_routes ?? 'auto')
  let key = routed ? path + '#' + routed : path
  if (Object.hasOwn(aliases, key)) key = aliases[key]
  for (const pattern of pages.patterns || []) if (matches(pattern, key)) return pattern
  return key
}

const fragmentOf = (url) => url.includes('#') ? url.slice(url.indexOf('#') + 1) : ''

/** A page's key: its path relative to the variant's URL, then routes, aliases, patterns. */
export function pageKey (url, variantUrl, pages = DEFAULT_PAGES) {
  const base = bare(variantUrl)
  const b = bare(url)
  let path
  if (b === base || b.startsWith(base + '/')) path = b.slice(base.length)
  else { try { path = new URL(url).pathname } catch { path = b } }
  return keyOf(path, fragmentOf(url), pages)
}

/** A page key written in a study file, in the form keys take. */
export function writtenKey (path, pages = DEFAULT_PAGES) {
  return keyOf(bare(path), fragmentOf(path), pages)
}

/** True when a key is a pattern (`*`, `?` or a `:name` segment). */
export function isPattern (key) {
  return key.includes('*') || key.includes('?') || key.split('/').some((s) => NAME_SEGMENT.test(s))
}

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')

function patternRe (pattern) {
  const parts = pattern.split('/').map((segment, i) => {
    if (i && NAME_SEGMENT.test(segment)) return '[^/]+'
    return segment.split('**').map((piece) =>
      Array.from(piece, (c) => c === '*' ? '[^/]*' : c === '?' ? '[^/]' : escape(c)).join('')).join('.*')
  })
  return new RegExp('^' + parts.join('/') + '$')
}

/** True when `key` is one of the pages `pattern` names (or the pattern itself). */
export function matches (pattern, key) {
  return key === pattern || (isPattern(pattern) && patternRe(pattern).test(key))
}

/** The criterion in words: "reaches /cart", or "reached /cart" once met. */
export function criterionText (success, met) {
  if (success.url) return `${met ? 'reached' : 'reaches'} ${success.url}`
  if (success.click) return `${met ? 'clicked' : 'clicks'} ${success.click}`
  if (success.event) return `${met ? 'sent' : 'sends'} the event ${success.event}`
  return null
}

/** True when the participant's event meets the success criterion. */
export function meets (success, e, variantUrl, pages = DEFAULT_PAGES) {
  if (success.url) {
    if (e.type !== 'page' || !e.url) return false
    return matches(writtenKey(success.url, pages), pageKey(e.url, variantUrl, pages))
  }
  if (success.click) return e.type === 'click' && e.sel === success.click
  if (success.event) return e.type === 'custom' && e.label === success.event
  return false
}

/**
 * Replay a session's events (in server-clock order) into what the console shows.
 *
 * A task_start opens an attempt and restarts the one still open; a task_end of the
 * open task ends it, any other re-codes the task's latest attempt; the first
 * participant event inside an attempt that meets the criterion is noted (the
 * moderator decides); the last SEQ per task and the last of each questionnaire win.
 */
export function derive (ordered, study, variantUrl) {
  const afterTask = study.questionnaires.after_task || null
  const success = Object.fromEntries(study.tasks.map((t) => [t.id, t.success || {}]))
  const s = { tasks: {}, open: null, page: null, scroll: null, first: null, lastP: null, lastEnded: null, ratings: {}, attempts: [], met: [] }
  for (const t of study.tasks) s.tasks[t.id] = { status: 'todo', outcome: null, time: null, seq: null, seqOwed: false }
  for (const e of ordered) {
    if (s.first === null) s.first = e.ts
    if (e.source === 'participant') {
      s.lastP = e
      if (e.type === 'page' && !e.kind) { s.page = e; s.scroll = null } // kind: a page inside a frame
      if (e.type === 'scroll') s.scroll = Math.max(s.scroll || 0, e.value || 0)
      if (s.open && !s.open.met && meets(success[s.open.task], e, variantUrl, study.pages)) {
        s.open.met = e
        s.met.push({ ts: e.ts, task: s.open.task, e })
      }
      continue
    }
    const task = e.task ? s.tasks[e.task] : null
    if (e.type === 'task_start' && task) {
      if (s.open) {
        const prev = s.tasks[s.open.task]
        prev.status = prev.outcome ? 'done' : 'todo'
        Object.assign(s.open.attempt, { outcome: 'restarted', end: e.ts })
      }
      const attempt = { task: e.task, start: e.ts, end: null, outcome: null }
      s.attempts.push(attempt)
      s.open = { task: e.task, start: e.ts, met: null, attempt }
      task.status = 'running'
      s.lastEnded = null
    } else if (e.type === 'task_end' && task) {
      if (s.open && s.open.task === e.task) {
        Object.assign(s.open.attempt, { outcome: e.outcome, end: e.ts })
        task.time = e.ts - s.open.start
        s.open = null
      } else {
        const last = s.attempts.filter((a) => a.task === e.task).pop()
        if (last) last.outcome = e.outcome
      }
      Object.assign(task, { status: 'done', outcome: e.outcome, seqOwed: afterTask === 'SEQ' && e.outcome !== 'skipped' })
      s.lastEnded = { task: e.task, at: e.ts }
    } else if (e.type === 'rating') {
      if (e.item === 'SEQ' && task) Object.assign(task, { seq: e.value, seqOwed: false })
      else s.ratings[e.item] = e
    }
  }
  return s
}
