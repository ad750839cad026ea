// The Findings page: observations (markers, observers' notes, suggestions) on the left, findings on
// the right. Select observations and make a finding of them or add them to one (mouse or keyboard);
// edit a finding in place. Every change names the version it read; a 409 offers a reload.
import { $, h, api, toast, pageConfig } from './console_ui.js'

const cfg = pageConfig()
const moderator = cfg.role === 'moderator'
const SEVERITY = ['not a problem', 'cosmetic', 'minor', 'major', 'catastrophe']
const st = { data: null, selected: new Set(), cursor: 0, shown: [] }

async function load () {
  const headers = cfg.observer_key ? { 'X-Observer-Key': cfg.observer_key } : {}
  const resp = await fetch(cfg.data, { headers, credentials: 'same-origin' })
  if (!resp.ok) { toast('Could not load the findings: reload the page.', true); return }
  st.data = await resp.json()
  $('#conflict').hidden = true
  fillFilters()
  renderObservations()
  renderFindings()
  renderMatrix()
}

// -- observations ------------------------------------------------------------------------------

function fillFilters () {
  const obs = st.data.observations
  const fill = (sel, values) => {
    const el = $(sel)
    const keep = el.value
    el.replaceChildren(el.firstElementChild, ...[...new Set(values)].filter(Boolean).sort().map((v) => h('option', { value: v }, v)))
    el.value = keep
  }
  fill('#f-task', st.data.study.tasks)
  fill('#f-variant', st.data.study.variants)
  fill('#f-participant', st.data.sessions.map((s) => s.participant))
  fill('#f-kind', obs.map((o) => o.kind))
}

function matches (o) {
  const task = $('#f-task').value
  const variant = $('#f-variant').value
  const who = $('#f-participant').value
  const kind = $('#f-kind').value
  const text = $('#f-text').value.trim().toLowerCase()
  if (task && o.task !== task) return false
  if (variant && o.variant && o.variant !== variant) return false
  if (who && !(o.participant || '').split(', ').includes(who)) return false
  if (kind && o.kind !== kind) return false
  if (text && !`${o.text} ${o.participant} ${o.task || ''}`.toLowerCase().includes(text)) return false
  return true
}

/** "session 3 at 1:35", linking to that moment of the session's replay. */
const moment = (e) => h('a', { href: `${cfg.base}/sessions/${e.session}/replay?t=${e.t_s}`, class: 'moment' },
  `session ${e.session} at ${mmss(e.t_s)}`)

/** The evidence moments an observation stands for. */
function moments (o) {
  if (o.moments) return o.moments.map((m) => ({ session: m.session, t_s: m.t_s, text: m.text || o.text }))
  return [Object.assign({ session: o.session, t_s: o.t_s }, o.text ? { text: o.text } : {})]
}

/** Findings whose evidence holds this observation's moment. */
function usedBy (o) {
  const holds = (f, m) => f.evidence.some((e) => e.session === m.session && Math.abs(e.t_s - m.t_s) < 0.5) // the same moment, give or take clock correction
  return st.data.findings.filter((f) => moments(o).every((m) => holds(f, m)))
}

function mmss (s) {
  if (s === null || s === undefined) return ''
  const whole = Math.floor(s)
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`
}

function renderObservations () {
  st.shown = st.data.observations.filter(matches)
  st.cursor = Math.min(st.cursor, Math.max(0, st.shown.length - 1))
  const list = $('#observations')
  list.replaceChildren(...st.shown.map((o, i) => {
    const used = usedBy(o)
    const kindClass = `kind kind-${o.kind.split(' ')[0]}`
    const meta = h('div', { class: 'obs-meta' },
      h('span', { class: kindClass }, o.source === 'analyzer' ? `suggestion · ${o.detector.replace('_', ' ')}` : o.kind),
      o.source === 'analyzer' ? h('span', {}, `${o.participants} participant${o.participants === 1 ? '' : 's'}: ${o.participant}`)
        : h('span', {}, `${o.participant} · ${o.variant} · `, moment(o)),
      o.task ? h('span', { class: 'mono' }, o.task) : null,
      o.author ? h('span', {}, `by ${o.author}`) : null,
      used.length ? h('span', { class: 'obs-used' }, `✓ in ${used.map((f) => `“${f.title}”`).join(', ')}`) : null)
    const li = h('li', {
      class: `obs${st.selected.has(o.id) ? ' selected' : ''}${i === st.cursor ? ' cursor' : ''}`,
      'data-id': o.id
    },
    moderator ? h('input', { type: 'checkbox', 'aria-label': 'Select', checked: st.selected.has(o.id), tabindex: '-1' }) : h('span'),
    h('div', {}, meta, h('div', { class: 'obs-text' }, o.text || h('span', { class: 'muted' }, '(no text)')),
      moderator && o.source === 'analyzer' ? h('button', { type: 'button', class: 'btn btn-small accept', onclick: (e) => { e.stopPropagation(); accept(o) } }, 'Accept as finding') : null))
    if (moderator) li.addEventListener('click', () => { st.cursor = i; toggle(o.id) })
    return li
  }))
  $('#obs-count').textContent = `${st.shown.length} of ${st.data.observations.length}`
  updateSelection()
}

function toggle (id) {
  if (st.selected.has(id)) st.selected.delete(id)
  else st.selected.add(id)
  renderObservations()
}

function updateSelection () {
  if (!moderator) return
  const n = st.selected.size
  $('#selected-count').textContent = n ? `${n} observation${n === 1 ? '' : 's'} selected` : 'no observation selected'
  $('#add-selected').disabled = !n || !st.data.findings.length
}

function selectedObservations () {
  return st.data.observations.filter((o) => st.selected.has(o.id))
}

function tasksOf (observations) {
  return [...new Set(observations.map((o) => o.task).filter(Boolean))]
}

// -- changes -----------------------------------------------------------------------------------

async function send (method, url, body) {
  const { status, body: answer } = await api(method, url, body)
  if (status === 409) { $('#conflict').hidden = false; $('#conflict-reload').focus(); return null }
  if (status >= 400 || status === 0) { toast(answer.error || `Failed (${status})`, true); return null }
  return answer || {}
}

async function createFinding (title, severity, observations) {
  const evidence = observations.flatMap(moments)
  const made = await send('POST', cfg.api, { title, severity, tasks: tasksOf(observations), evidence })
  if (!made) return false
  st.selected.clear()
  toast(`Finding “${made.title}” made of ${evidence.length} moment${evidence.length === 1 ? '' : 's'}`)
  await load()
  return true
}

async function addToFinding (finding, observations) {
  const tasks = [...new Set([...finding.tasks, ...tasksOf(observations)])]
  const made = await send('PATCH', `${cfg.api}/${finding.id}`, { version: finding.version, add_evidence: observations.flatMap(moments), tasks })
  if (!made) return
  st.selected.clear()
  toast(`Added to “${made.title}”`)
  await load()
}

function accept (o) {
  const severity = o.detector === 'js_error' || o.detector === 'low_success' ? 3 : 2
  createFinding(o.text, severity, [o])
}

async function patch (finding, field, value) {
  const made = await send('PATCH', `${cfg.api}/${finding.id}`, { version: finding.version, [field]: value })
  if (made) { toast('Saved'); await load() }
}

// -- findings ----------------------------------------------------------------------------------

function field (label, control) {
  return [h('label', { for: control.id }, label), control]
}

function renderFindings () {
  const findings = [...st.data.findings].sort((a, b) => b.severity - a.severity || ((b.figures || {}).frequency || 0) - ((a.figures || {}).frequency || 0))
  $('#findings-count').textContent = `(${findings.length})`
  $('#findings').replaceChildren(...(findings.length ? findings.map(findingCard) : [h('p', { class: 'muted' }, moderator ? 'No findings yet: select observations on the left and make one.' : 'No findings yet.')]))
  if (moderator) {
    const add = $('#add-to')
    add.replaceChildren(...findings.map((f) => h('option', { value: f.id }, `${f.title} (${f.severity})`)))
    updateSelection()
  }
}

function findingCard (f) {
  const ro = !moderator
  const id = (name) => `f${f.id}-${name}`
  const text = (name, tag, value) => {
    const el = h(tag, { id: id(name), class: 'input', readonly: ro, maxlength: name === 'title' ? 200 : 10000 })
    el.value = value
    if (!ro) el.addEventListener('change', () => patch(f, name, name === 'tags' ? el.value.split(',').map((t) => t.trim()).filter(Boolean) : el.value))
    return el
  }
  const severity = h('select', { id: id('severity'), class: 'input input-small', disabled: ro, 'aria-label': 'Severity' },
    ...SEVERITY.map((label, n) => h('option', { value: n, selected: n === f.severity }, `${n} ${label}`)).reverse())
  if (!ro) severity.addEventListener('change', () => patch(f, 'severity', Number(severity.value)))
  const fig = f.figures
  const freq = fig ? `${fig.participants_affected} of ${fig.participants_observed} participants · ${Math.round(100 * fig.frequency)}% (95% CI ${Math.round(100 * fig.frequency_ci_low)}–${Math.round(100 * fig.frequency_ci_high)}%)` : ''
  const title = text('title', 'input', f.title)
  title.classList.add('finding-title')
  title.setAttribute('aria-label', 'Title')
  return h('article', { class: `card finding sev-${f.severity}`, 'data-finding': f.id, 'data-title': f.title },
    h('div', { class: 'finding-head' }, title, severity,
      ro ? null : h('button', { type: 'button', class: 'btn btn-small btn-danger-quiet', onclick: () => remove(f) }, 'Delete')),
    h('div', { class: 'freq muted' }, freq, f.tasks.length ? ` · tasks: ${f.tasks.join(', ')}` : ''),
    h('div', { class: 'finding-fields' },
      ...field('Description', text('description', 'textarea', f.description)),
      ...field('Recommendation', text('recommendation', 'textarea', f.recommendation)),
      ...field('Tags', text('tags', 'input', f.tags.join(', ')))),
    h('ol', { class: 'evidence' }, ...f.evidence.map((e) => h('li', {},
      h('b', {}, e.participant), ' · ', moment(e), e.text ? ` — “${e.text}”` : ''))))
}

async function remove (f) {
  if (!window.confirm(`Delete the finding “${f.title}”?`)) return
  const { status, body } = await api('DELETE', `${cfg.api}/${f.id}?version=${f.version}`)
  if (status === 409) { $('#conflict').hidden = false; return }
  if (status !== 204) { toast(body.error || `Failed (${status})`, true); return }
  toast('Deleted')
  await load()
}

function renderMatrix () {
  const people = [...new Set(st.data.sessions.map((s) => s.participant))].sort()
  const findings = st.data.findings.filter((f) => f.figures)
  if (!findings.length) { $('#matrix').replaceChildren(h('tbody', {}, h('tr', {}, h('td', { class: 'muted' }, 'No findings yet.')))); return }
  $('#matrix').replaceChildren(
    h('thead', {}, h('tr', {}, h('th', {}, 'Finding'), ...people.map((p) => h('th', { scope: 'col' }, p)), h('th', {}, 'k of n'))),
    h('tbody', {}, ...findings.map((f) => {
      const hit = new Set(f.figures.affected ? f.figures.affected.split(', ') : [])
      return h('tr', {}, h('th', { class: 'rowhead', scope: 'row', title: f.title }, f.title),
        ...people.map((p) => h('td', { class: hit.has(p) ? 'hit' : '' }, hit.has(p) ? '●' : '')),
        h('td', {}, `${f.figures.participants_affected}/${f.figures.participants_observed}`))
    })))
}

// -- keyboard and wiring -----------------------------------------------------------------------

function moveCursor (step) {
  if (!st.shown.length) return
  st.cursor = Math.max(0, Math.min(st.shown.length - 1, st.cursor + step))
  renderObservations()
  const el = $('#observations .cursor')
  if (el) el.scrollIntoView({ block: 'nearest' })
}

function onKey (e) {
  if (!moderator || e.ctrlKey || e.metaKey || e.altKey) return
  const typing = ['INPUT', 'TEXTAREA', 'SELECT'].includes(document.activeElement.tagName)
  if (e.key === 'Escape') { if (typing) document.activeElement.blur(); else { st.selected.clear(); renderObservations() } return }
  if (typing) return
  const key = e.key.toLowerCase()
  if (key === 'j' || e.key === 'ArrowDown') { e.preventDefault(); moveCursor(1) } else if (key === 'k' || e.key === 'ArrowUp') { e.preventDefault(); moveCursor(-1) } else if (key === 'x' || e.key === ' ') {
    e.preventDefault()
    if (st.shown[st.cursor]) toggle(st.shown[st.cursor].id)
  } else if (key === 'n') { e.preventDefault(); $('#new-title').focus() } else if (key === 'a') { e.preventDefault(); $('#add-to').focus() }
}

function init () {
  for (const sel of ['#f-task', '#f-variant', '#f-participant', '#f-kind', '#f-text']) $(sel).addEventListener('input', renderObservations)
  $('#conflict-reload').addEventListener('click', load)
  document.addEventListener('keydown', onKey)
  if (moderator) {
    $('#new-finding').addEventListener('submit', async (e) => {
      e.preventDefault()
      const title = $('#new-title').value.trim()
      if (!title) { toast('Give the finding a title', true); return }
      if (await createFinding(title, Number($('#new-severity').value), selectedObservations())) $('#new-title').value = ''
    })
    const add = () => {
      const finding = st.data.findings.find((f) => String(f.id) === $('#add-to').value)
      if (finding && st.selected.size) addToFinding(finding, selectedObservations())
    }
    $('#add-selected').addEventListener('click', add)
    $('#add-to').addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); add() } })
  }
  load()
}

init()
