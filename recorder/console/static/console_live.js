// uxlab console: the live session page.
//
// State is derived, never kept twice: every event of the session (the database's
// history, the live feed, and this page's own unsent coding) sits in one map keyed by
// (page load, seq); derive() replays them in server-clock order into the current task,
// the outcomes, the criteria met and the ratings. A reload or a server restart
// therefore rebuilds the same page from the history the WebSocket sends first.
import { $, $$, clock, copyText, csrf, h, pageConfig, toast } from './console_ui.js'
import { criterionText, derive, pageKey } from './console_rules.js'
import { Outbox } from './console_outbox.js'
import { AFTER_SESSION, SEQ, ratingText, susScore } from './console_questionnaires.js'

const cfg = pageConfig()
const MOD = cfg.role === 'moderator'
const STUDY = cfg.study
const TASKS = STUDY.tasks
const TASK = Object.fromEntries(TASKS.map((t) => [t.id, t]))
const ASKED = [].concat(STUDY.questionnaires.after_session || [])
const VARIANT_URL = cfg.session.variant_url
const OUTCOMES = [['success', 'Success', 'S'], ['failure', 'Failure', 'F'], ['abandoned', 'Abandoned', 'A'], ['skipped', 'Skipped', 'K']]
const MARKERS = { error: ['Error', 'E'], note: ['Note', 'N'], assist: ['Assist', 'H'], critical: ['Critical incident', 'C'] }
const SKIP_IN_FEED = new Set(['scroll', 'resize', 'reaction'])
const FEED_MAX = 300

// -- every event of the session, and what follows from them --------------------------------
let skew = 0 // the server's clock minus this browser's, from the history's server_now
const serverNow = () => Date.now() + skew
const known = new Map() // "load:seq" -> event
let ordered = []
let status = cfg.session.status
let st = derive([], STUDY, VARIANT_URL)
const ui = { marker: null, questionnaire: null, answers: {}, active: 0, confirmClose: false, skippedSeq: new Set() }
// Questionnaire answers in progress survive a reload (kept apart from the outbox's batches).
const ANSWERS_KEY = MOD ? `uxlab:answers:${cfg.session.token}` : null
let cardSig = ''

const keyOf = (e) => `${e.load}:${e.seq}`
const since = (ts) => clock(ts - (st.first === null ? ts : st.first))

const outbox = MOD
  ? new Outbox({
    url: cfg.urls.events,
    csrf,
    storage: `uxlab:console:${cfg.session.token}:`,
    changed: () => refresh(),
    refused: (code, error, keys) => {
      for (const key of keys) known.delete(key)
      if (code === 403) { setStatus('closed'); toast('This session is closed: that coding was not saved.', true) } else toast(`Not saved (a bug, please report it): ${error}`, true)
      refresh()
    }
  })
  : null
const pendingKeys = outbox ? outbox.pending : new Set()
const unsent = () => (outbox ? outbox.unsent() : 0)

function localEvent (load, ev) {
  return Object.assign({}, ev, { load, source: 'moderator', ts: ev.t + skew, local: true })
}

function refresh () {
  ordered = Array.from(known.values()).sort((a, b) => (a.ts - b.ts) || (a.seq - b.seq))
  st = derive(ordered, STUDY, VARIANT_URL)
  render()
}

function applyState (msg) {
  skew = msg.server_now - Date.now()
  known.clear()
  for (const e of msg.events) known.set(keyOf(e), e)
  for (const batch of outbox ? outbox.batches : []) {
    for (const ev of batch.events) {
      const key = `${batch.page}:${ev.seq}`
      if (!known.has(key)) known.set(key, localEvent(batch.page, ev))
    }
  }
  setStatus(msg.status, true)
  refresh()
  renderFeed(null)
}

function addEvents (events) {
  const fresh = []
  for (const e of events) {
    const key = keyOf(e)
    // The history and the live feed overlap by design (nothing falls between them).
    if (known.has(key) && !known.get(key).local) continue
    known.set(key, e)
    if (e.source === 'participant') fresh.push(e)
  }
  refresh()
  renderFeed(fresh)
}

/** Record one moderator event now (or at t): shown at once, sent until acknowledged. */
function record (fields, t) {
  if (!MOD) return
  if (status === 'closed') { toast('This session is closed: nothing more is recorded.', true); return }
  const ev = outbox.add(fields, t)
  known.set(`${outbox.page}:${ev.seq}`, localEvent(outbox.page, ev))
  refresh()
  return ev
}

window.addEventListener('beforeunload', (e) => {
  if (unsent()) { e.preventDefault(); e.returnValue = '' } // they are kept, but say so
})

// -- the live feed over a WebSocket --------------------------------------------------------
let wsDelay = 500

function connect () {
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + cfg.urls.ws)
  ws.onopen = () => {
    wsDelay = 500
    setConn('live')
    if (outbox) outbox.retryNow() // the server is back: resend at once
  }
  ws.onmessage = (m) => {
    let msg
    try { msg = JSON.parse(m.data) } catch { return }
    if (msg.kind === 'state') applyState(msg)
    else if (msg.kind === 'events') addEvents(msg.events)
    else if (msg.kind === 'status') setStatus(msg.status)
    else if (msg.kind === 'recording') window.dispatchEvent(new CustomEvent('uxlab:recording', { detail: msg.chunks }))
  }
  ws.onclose = async () => {
    setConn('wait')
    // The history over plain HTTP keeps the page current while the socket is down,
    // and tells a signed-out console apart from a server that is restarting.
    try {
      const resp = await fetch(cfg.urls.state, { credentials: 'same-origin' })
      if (resp.status === 200) applyState(await resp.json())
      else if (resp.status === 401 || resp.status === 403) setConn('out')
    } catch { setConn('down') }
    setTimeout(connect, wsDelay)
    wsDelay = Math.min(wsDelay * 2, 5000)
  }
}

function setConn (state) {
  const [cls, text] = {
    live: ['pill-ok', 'Live'],
    wait: ['pill-wait', 'Reconnecting…'],
    down: ['pill-bad', 'Server unreachable'],
    out: ['pill-bad', 'Signed out: reload']
  }[state]
  const el = $('#conn')
  el.className = `pill ${cls}`
  el.textContent = text
}

function setStatus (value, quiet) {
  status = value
  document.body.classList.toggle('closed', status === 'closed')
  $('#closed-banner').hidden = status !== 'closed'
  if (!quiet) render()
}

// -- rendering -----------------------------------------------------------------------------
function render () {
  renderTaskCard()
  renderTasks()
  renderTimeline()
  renderNow()
  renderSaving()
  tick()
}

function renderSaving () {
  const el = $('#saving')
  if (!el) return
  const n = unsent()
  if (!n) { el.className = 'pill pill-ok'; el.textContent = 'All saved'; return }
  el.className = `pill ${outbox.problem ? 'pill-bad' : 'pill-wait'}`
  el.textContent = outbox.problem ? `${n} not saved yet: ${outbox.problem}` : `Saving ${n}…`
}

function seqOwed () {
  if (!MOD || !st.lastEnded || st.open || status === 'closed' || STUDY.questionnaires.after_task !== 'SEQ') return null
  const t = st.lastEnded
  return st.tasks[t.task].seqOwed && !ui.skippedSeq.has(`${t.task}@${t.at}`) ? t.task : null
}

const nextTask = () => TASKS.find((t) => st.tasks[t.id].status === 'todo') || null
const taskNumber = (id) => TASKS.findIndex((t) => t.id === id) + 1

function renderTaskCard () {
  const card = $('#task-card')
  const owed = seqOwed()
  const mode = ui.questionnaire && MOD ? 'q' : st.open ? 'run' : owed ? 'seq' : 'idle'
  // Rebuilt only when what it shows changes, so that a click is never lost to a redraw.
  const sig = JSON.stringify([mode, status, st.open && [st.open.task, st.open.start, st.open.met && st.open.met.ts],
    owed, owed && st.tasks[owed].seq, mode === 'q' ? [ui.questionnaire, ui.answers, ui.active, Object.keys(st.ratings)] : 0,
    mode === 'idle' ? [nextTask(), Object.keys(st.ratings)] : 0])
  if (sig === cardSig) return
  cardSig = sig
  card.className = 'card task-card' + (mode === 'run' ? ' running' : '') + (st.open && st.open.met ? ' met' : '')
  const parts = { q: questionnaireCard, run: runningCard, seq: seqCard, idle: idleCard }[mode](owed)
  card.replaceChildren(...parts.filter(Boolean))
  const active = card.querySelector('.q-item.active')
  if (active) active.scrollIntoView({ block: 'nearest' })
}

function runningCard () {
  const task = TASK[st.open.task]
  const met = st.open.met
  const crit = criterionText(task.success || {}, Boolean(met))
  return [
    h('div', { class: 'task-head' },
      h('div', {}, h('h2', {}, `Task ${taskNumber(task.id)} of ${TASKS.length} · running`),
        h('p', { class: 'task-title mono' }, task.id)),
      h('div', {}, h('div', { class: 'timer', id: 'timer' }, '0:00'), h('div', { class: 'timer-label' }, 'time on task'))),
    h('p', { class: 'task-prompt' }, task.prompt),
    met
      ? h('div', { class: 'criteria', role: 'status' },
        h('span', {}, `✓ Success criterion met at ${clock(met.ts - st.open.start)}: the participant ${crit}. End the task?`),
        MOD ? h('button', { class: 'btn btn-end o-success', type: 'button', onclick: () => endTask('success') }, 'End as success ', h('kbd', {}, '⏎')) : null)
      : crit ? h('div', { class: 'criteria criteria-wait' }, `Watching for the success criterion: the participant ${crit}.`) : null,
    MOD
      ? h('div', { class: 'end-buttons' }, OUTCOMES.map(([o, label, key]) =>
        h('button', { class: `btn btn-end o-${o}`, type: 'button', 'data-outcome': o, onclick: () => endTask(o) },
          h('span', {}, label), h('kbd', {}, key))))
      : null
  ]
}

function seqCard (taskId) {
  const chosen = st.tasks[taskId].seq
  const values = Array.from({ length: SEQ.hi - SEQ.lo + 1 }, (_, k) => SEQ.lo + k)
  return [
    h('div', { class: 'task-head' }, h('div', {},
      h('h2', {}, `SEQ · after task ${taskNumber(taskId)}`),
      h('p', { class: 'task-title' }, SEQ.question))),
    h('p', { class: 'muted' }, `Ask the participant about ${taskId}; press their answer.`),
    h('div', { class: 'scale scale-7', role: 'group', 'aria-label': 'SEQ answer' },
      values.map((v) => h('button', { class: 'btn' + (chosen === v ? ' chosen' : ''), type: 'button', 'data-seq': v, onclick: () => enterSeq(v) }, String(v)))),
    h('div', { class: 'scale-ends' }, h('span', {}, `${SEQ.lo} ${SEQ.ends[0]}`), h('span', {}, `${SEQ.hi} ${SEQ.ends[1]}`)),
    h('div', { class: 'next-line' },
      h('button', { class: 'btn btn-quiet', type: 'button', onclick: () => skipSeq() }, 'Skip ', h('kbd', {}, 'Esc')),
      nextTask() ? h('span', { class: 'muted small' }, 'T starts the next task (and skips this).') : null)
  ]
}

function idleCard () {
  const next = nextTask()
  if (status === 'closed') return [h('h2', {}, 'Session closed'), h('p', { class: 'task-title' }, summaryText())]
  if (!next) {
    const missing = ASKED.filter((q) => !st.ratings[q])
    return [
      h('h2', {}, 'All tasks done'),
      h('p', { class: 'task-title' }, summaryText()),
      MOD && missing.length
        ? h('div', { class: 'next-line' }, h('button', { class: 'btn btn-primary btn-big', type: 'button', onclick: () => openQuestionnaire() }, `Enter ${missing.join(' and ')} `, h('kbd', {}, 'Q')))
        : h('p', { class: 'muted' }, `${ASKED.length ? `${ASKED.join(', ')} entered. ` : ''}Close the session when the participant is done.`)
    ]
  }
  return [
    h('div', { class: 'task-head' }, h('div', {},
      h('h2', {}, `Next · task ${taskNumber(next.id)} of ${TASKS.length}`),
      h('p', { class: 'task-title mono' }, next.id))),
    h('p', { class: 'task-prompt' }, next.prompt),
    MOD
      ? h('button', { class: 'btn btn-primary btn-big', type: 'button', id: 'start-next', onclick: () => startTask(next.id) }, `Start task ${taskNumber(next.id)} `, h('kbd', {}, 'T'))
      : h('p', { class: 'muted' }, 'Waiting for the moderator to start the task.')
  ]
}

function summaryText () {
  const done = TASKS.filter((t) => st.tasks[t.id].status === 'done')
  const wins = done.filter((t) => st.tasks[t.id].outcome === 'success').length
  return `${done.length} of ${TASKS.length} tasks ended, ${wins} successful.`
}

function questionnaireCard () {
  const name = ui.questionnaire
  const q = AFTER_SESSION[name]
  const answers = ui.answers[name] || (ui.answers[name] = [])
  const count = q.hi - q.lo + 1
  const complete = q.items.every((_, i) => answers[i] !== undefined)
  const items = q.items.map((text, i) => h('li', { class: 'q-item' + (i === ui.active ? ' active' : ''), onclick: () => { ui.active = i; renderTaskCard() } },
    h('b', { class: 'n' }, String(i + 1)), h('span', { class: 'q-text' }, text),
    h('span', { class: 'scale' }, Array.from({ length: count }, (_, k) => q.lo + k).map((v) =>
      h('button', { class: 'btn' + (answers[i] === v ? ' chosen' : ''), type: 'button', onclick: (e) => { e.stopPropagation(); answer(i, v) } }, String(v))))))
  return [
    h('div', { class: 'task-head' }, h('div', {},
      h('h2', {}, `${name} · end of session`),
      h('p', { class: 'muted' }, `${q.lo} = ${q.ends[0]}, ${q.hi} = ${q.ends[1]}. Digits answer the marked item, Enter saves.`)),
    st.ratings[name] ? h('span', { class: 'pill pill-ok' }, `entered${ratingText(st.ratings[name])}`) : null),
    ASKED.length > 1
      ? h('div', { class: 'next-line' }, ASKED.map((n) => h('button', { class: 'btn btn-small' + (n === name ? ' btn-primary' : ''), type: 'button', onclick: () => openQuestionnaire(n) }, n + (st.ratings[n] ? ' ✓' : ''))))
      : null,
    h('ol', { class: 'q-items' }, items),
    h('div', { class: 'next-line' },
      h('button', { class: 'btn btn-primary btn-big', type: 'button', disabled: !complete || status === 'closed', onclick: () => saveQuestionnaire(name) }, `Save ${name} `, h('kbd', {}, '⏎')),
      h('button', { class: 'btn btn-quiet', type: 'button', onclick: () => closeQuestionnaire() }, 'Back ', h('kbd', {}, 'Esc')),
      h('span', { class: 'muted small' }, `${answers.filter((a) => a !== undefined).length} of ${q.items.length} answered`))
  ]
}

function renderTasks () {
  $('#task-list').replaceChildren(...TASKS.map((t, i) => {
    const s = st.tasks[t.id]
    const badge = s.status === 'running' ? h('span', { class: 'outcome running' }, 'running')
      : s.status === 'done' ? h('span', { class: `outcome ${s.outcome}` }, s.outcome + (s.time !== null ? ` · ${clock(s.time)}` : ''))
        : h('span', { class: 'outcome todo' }, 'not started')
    const canStart = MOD && status !== 'closed' && !st.open
    return h('li', { class: 'task-row' + (s.status === 'running' ? ' running' : ''), 'data-task': t.id },
      h('span', { class: 'n' }, String(i + 1)),
      h('span', { class: 'name' }, h('b', { class: 'mono' }, t.id), h('span', { title: t.prompt }, t.prompt)),
      h('span', {}, badge, ' ', s.seq !== null ? h('span', { class: 'muted small', title: 'SEQ answer' }, `SEQ ${s.seq}`) : null),
      canStart
        ? h('button', { class: 'btn btn-small' + (s.status === 'todo' ? '' : ' btn-quiet'), type: 'button', onclick: () => startTask(t.id) }, s.status === 'todo' ? 'Start' : 'Restart')
        : h('span', {}))
  }))
  const done = TASKS.filter((t) => st.tasks[t.id].status === 'done').length
  $('#tasks-summary').textContent = `${done} of ${TASKS.length} done`
}

/** The marker an edit names: "load:seq" (its own fields locally, its stored data from the server). */
function editedKey (e) {
  let ref = e.marker
  if (!ref && e.data) { try { ref = JSON.parse(e.data).marker } catch { ref = null } }
  return ref ? `${ref.page}:${ref.seq}` : null
}

/** Each marker's text: the marker's own, or its latest marker_text edit's. */
function markerTexts () {
  const texts = new Map()
  for (const e of ordered) {
    if (e.type === 'marker') texts.set(keyOf(e), e.label || e.text || '')
    else if (e.type === 'marker_text') {
      const key = editedKey(e)
      if (key && texts.has(key)) texts.set(key, e.label || e.text || '')
    }
  }
  return texts
}

function timelineEntries () {
  const out = []
  const texts = markerTexts()
  for (const e of ordered) {
    if (e.source === 'observer' && e.type === 'note') out.push([e, 'observer', `Observer note${e.author ? ` · ${e.author}` : ''}`, e.label, false])
    if (e.source !== 'moderator') continue
    const pending = pendingKeys.has(keyOf(e))
    if (e.type === 'task_start') out.push([e, 'task_start', `▶ Started ${e.task}`, null, pending])
    else if (e.type === 'task_end') out.push([e, e.outcome, `■ Ended ${e.task}: ${e.outcome}`, null, pending])
    else if (e.type === 'marker') out.push([e, e.kind, `${(MARKERS[e.kind] || [e.kind])[0]}${e.task ? ` · ${e.task}` : ''}`, texts.get(keyOf(e)) || null, pending])
    else if (e.type === 'rating') out.push([e, 'rating', e.item === 'SEQ' ? `SEQ ${e.value} · ${e.task}` : `${e.item}${ratingText(e)}`, null, pending])
  }
  for (const m of st.met) out.push([m, 'criteria', `✓ Criterion met · ${m.task}`, criterionText(TASK[m.task].success, true), false])
  return out.sort((a, b) => b[0].ts - a[0].ts)
}

function renderTimeline () {
  const entries = timelineEntries()
  const editable = MOD && status !== 'closed'
  $('#timeline').replaceChildren(...entries.map(([e, kind, title, text, pending]) =>
    h('li', { class: `tl-${kind}`, 'data-key': keyOf(e) }, h('span', { class: 't' }, since(e.ts)),
      h('span', { class: 'what' }, h('b', {}, title), pending ? h('span', { class: 'pending' }, 'sending…') : null,
        text ? h('span', { class: 'text' }, text) : null,
        editable && e.type === 'marker'
          ? h('button', { class: 'btn-link tl-edit', type: 'button', onclick: () => editMarker(e, text || '', true) }, text ? 'edit text' : 'add text')
          : null))))
  $('#timeline-count').textContent = entries.length ? `${entries.length} entries · newest first` : 'nothing coded yet'
  renderStrip()
}

/** The session at a glance: attempts coloured by outcome, markers as ticks. */
function renderStrip () {
  const strip = $('#strip')
  if (st.first === null) { strip.replaceChildren(); return }
  const span = Math.max(serverNow(), st.first + 60000) - st.first
  const pct = (ms) => `${(100 * ms / span).toFixed(2)}%`
  const parts = st.attempts.map((a) => h('span', {
    class: `s-${a.end === null ? 'running' : a.outcome}`,
    style: `left:${pct(a.start - st.first)};width:${pct((a.end === null ? serverNow() : a.end) - a.start)}`,
    title: `${a.task}: ${a.outcome || 'running'}`
  }))
  for (const e of ordered) {
    if (e.type === 'marker') parts.push(h('span', { class: 's-marker', style: `left:${pct(e.ts - st.first)}`, title: e.kind }))
  }
  strip.replaceChildren(...parts)
}

function feedLine (e) {
  const kind = (text) => h('span', { class: 'kind' }, text)
  const sel = e.sel ? h('span', { class: 'sel' }, e.sel) : null
  switch (e.type) {
    case 'page': return [kind('page'), pageKey(e.url || '', VARIANT_URL, STUDY.pages), e.label ? ` · ${e.label}` : '']
    case 'click': return [kind('click'), e.label ? `“${e.label}” ` : '', sel,
      e.interactive === false ? h('span', { class: 'miss', title: 'not a link, button or field' }, 'not a control') : null]
    case 'input': return [kind('typed'), sel, e.value !== undefined ? ` ${e.value} characters` : '']
    case 'submit': return [kind('submit'), sel]
    case 'invalid': return [kind('invalid'), sel, e.label ? ` ${e.label}` : '']
    case 'error': return [kind('page error'), e.label || '']
    case 'custom': return [kind('event'), e.label || '']
    case 'visibility': return [kind(e.kind === 0 ? 'left the tab' : 'back in the tab')]
    default: return [kind(e.type)]
  }
}

function feedItem (e, fresh) {
  return h('li', { class: `k-${e.type}` + (fresh ? ' fresh' : ''), 'data-type': e.type },
    h('span', { class: 't' }, since(e.ts)), h('span', { class: 'what' }, feedLine(e)))
}

function renderFeed (fresh) {
  const feed = $('#feed')
  if (fresh === null) { // everything again, from the history
    const items = ordered.filter((e) => e.source === 'participant' && !SKIP_IN_FEED.has(e.type)).slice(-FEED_MAX).reverse()
    feed.replaceChildren(...items.map((e) => feedItem(e, false)))
  } else {
    const items = fresh.filter((e) => !SKIP_IN_FEED.has(e.type)).sort((a, b) => a.ts - b.ts)
    if (items.length) $$('li.empty-feed', feed).forEach((li) => li.remove())
    for (const e of items) feed.prepend(feedItem(e, true))
    while (feed.children.length > FEED_MAX) feed.lastChild.remove()
  }
  if (!feed.children.length) {
    feed.append(h('li', { class: 'muted empty-feed' }, h('span', {}), h('span', {}, 'Nothing yet: the participant\'s clicks and pages appear here as they happen.')))
  }
}

function renderNow () {
  if (!st.page) return
  const detail = [st.page.label || '', st.scroll !== null ? `scrolled ${Math.round(st.scroll)}%` : ''].filter(Boolean).join(' · ')
  $('#now-page').replaceChildren(h('span', { class: 'mono' }, pageKey(st.page.url || '', VARIANT_URL, STUDY.pages)), h('span', { class: 'title' }, detail))
}

function tick () {
  const timer = $('#timer')
  if (timer && st.open) timer.textContent = clock(serverNow() - st.open.start)
  $('#session-clock').textContent = st.first === null ? '0:00' : clock(serverNow() - st.first)
  if (st.lastP) {
    const s = Math.round((serverNow() - st.lastP.ts) / 1000)
    $('#last-activity').textContent = s < 3 ? 'active now' : s < 60 ? `last activity ${s} s ago` : `last activity ${clock(s * 1000)} ago`
  }
}

// -- actions -------------------------------------------------------------------------------
function startTask (id) {
  if (st.open) { toast(`End ${st.open.task} first.`, true); return }
  ui.questionnaire = null
  record({ type: 'task_start', task: id })
}

function endTask (outcome) {
  if (!st.open) return
  const task = st.open.task
  record({ type: 'task_end', task, outcome })
  toast(`${task} ended: ${outcome}`)
}

function enterSeq (value) {
  const owed = seqOwed()
  if (owed) record({ type: 'rating', item: 'SEQ', task: owed, value })
}

function skipSeq () {
  if (!st.lastEnded) return
  ui.skippedSeq.add(`${st.lastEnded.task}@${st.lastEnded.at}`)
  render()
}

// A marker is recorded at the key press, without text; the text is optional and comes
// afterwards as a marker_text event naming the marker by (page load, seq). The text field
// never takes the focus by itself, so the next shortcut does what it says.
function recordMarker (kind) {
  if (status === 'closed') { toast('This session is closed: nothing more is recorded.', true); return }
  const task = st.open ? st.open.task : null
  const ev = record(Object.assign({ type: 'marker', kind }, task ? { task } : {}))
  if (ev) editMarker(known.get(`${outbox.page}:${ev.seq}`), '', false)
  toast(`${MARKERS[kind][0]} marker recorded`)
}

/** Show the text field for a marker; focus it only when asked (a click on "add text"). */
function editMarker (e, text, focus) {
  ui.marker = { page: e.load, seq: e.seq, text }
  $$('.btn-marker').forEach((b) => b.classList.toggle('armed', b.dataset.marker === e.kind))
  $('#marker-label').textContent = `${(MARKERS[e.kind] || [e.kind])[0]}${e.task ? ` in ${e.task}` : ''} at ${since(e.ts)} recorded. Its text (optional, any time):`
  $('#marker-form').hidden = false
  $('#marker-text').value = text
  if (focus) $('#marker-text').focus()
}

function saveMarkerText () {
  const m = ui.marker
  if (!m) return
  const text = $('#marker-text').value.trim()
  closeMarkerForm()
  if (text === m.text) return
  record(Object.assign({ type: 'marker_text', marker: { page: m.page, seq: m.seq } }, text ? { text } : {}))
}

function closeMarkerForm () {
  ui.marker = null
  $$('.btn-marker').forEach((b) => b.classList.remove('armed'))
  $('#marker-form').hidden = true
  $('#marker-text').blur()
}

function openQuestionnaire (name) {
  if (!ASKED.length) { toast('This study asks no end-of-session questionnaire.'); return }
  if (st.open) { toast(`End ${st.open.task} first: the questionnaire comes at the end.`, true); return }
  ui.questionnaire = name || ASKED.find((q) => !st.ratings[q]) || ASKED[0]
  ui.active = 0
  keepAnswers()
  render()
}

function closeQuestionnaire () { ui.questionnaire = null; keepAnswers(); render() }

const answered = (name) => (ui.answers[name] || []).filter((a) => a !== undefined && a !== null).length
const complete = (name) => answered(name) === AFTER_SESSION[name].items.length

function keepAnswers () {
  if (!ANSWERS_KEY) return
  try {
    const open = Object.keys(ui.answers).filter((n) => answered(n))
    if (!open.length && !ui.questionnaire) localStorage.removeItem(ANSWERS_KEY)
    else localStorage.setItem(ANSWERS_KEY, JSON.stringify({ open: ui.questionnaire, active: ui.active, answers: ui.answers }))
  } catch {} // storage blocked or full: the answers stay in this page only
}

function restoreAnswers () {
  try {
    const kept = JSON.parse(localStorage.getItem(ANSWERS_KEY) || 'null')
    if (!kept || typeof kept.answers !== 'object') return
    for (const [name, values] of Object.entries(kept.answers)) {
      if (AFTER_SESSION[name] && Array.isArray(values)) ui.answers[name] = values.map((v) => (typeof v === 'number' ? v : undefined))
    }
    if (kept.open && ASKED.includes(kept.open)) { ui.questionnaire = kept.open; ui.active = Number(kept.active) || 0 }
  } catch {}
}

function answer (i, v) {
  const q = AFTER_SESSION[ui.questionnaire]
  if (v < q.lo || v > q.hi) return
  ui.answers[ui.questionnaire][i] = v
  ui.active = Math.min(i + 1, q.items.length - 1)
  keepAnswers()
  renderTaskCard()
}

function saveQuestionnaire (name) {
  const values = ui.answers[name] || []
  const q = AFTER_SESSION[name]
  if (!q.items.every((_, i) => values[i] !== undefined)) return
  record(q.items.length === 1 ? { type: 'rating', item: name, value: values[0] } : { type: 'rating', item: name, values: values.slice() })
  toast(`${name} saved${name === 'SUS' ? `: score ${susScore(values)}` : ''}`)
  delete ui.answers[name] // saved: the rating is in the outbox now, kept there until acknowledged
  const left = ASKED.filter((n) => n !== name && !st.ratings[n])
  if (left.length) openQuestionnaire(left[0])
  else closeQuestionnaire()
}

async function closeSession () {
  const button = $('#close-session')
  if (!ui.confirmClose) { // two steps: a stray click closes nothing
    ui.confirmClose = true
    button.textContent = 'Confirm: close this session'
    button.className = 'btn btn-small btn-danger'
    setTimeout(() => { ui.confirmClose = false; button.textContent = 'Close session'; button.className = 'btn btn-small btn-danger-quiet' }, 4000)
    return
  }
  button.disabled = true
  for (let i = 0; i < 50 && unsent(); i++) await new Promise((resolve) => setTimeout(resolve, 200))
  const resp = await fetch(cfg.urls.close, { method: 'POST', credentials: 'same-origin', headers: { 'X-CSRF-Token': csrf } }).catch(() => null)
  button.disabled = false
  if (resp && resp.status === 200) {
    setStatus('closed')
    toast('Session closed: the participant\'s link records nothing more.')
  } else {
    const body = resp ? await resp.json().catch(() => ({})) : {}
    toast(`Could not close: ${body.error || 'server unreachable'}`, true)
  }
}

// -- keyboard ------------------------------------------------------------------------------
function onKey (e) {
  if (e.ctrlKey || e.metaKey || e.altKey) return
  const help = $('#help')
  if (e.target.closest && e.target.closest('input, textarea, select')) {
    if (e.key === 'Escape' && ui.marker) { e.preventDefault(); closeMarkerForm() }
    return
  }
  if (!help.hidden) {
    if (e.key === 'Escape' || e.key === '?') { help.hidden = true; e.preventDefault() }
    return
  }
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key
  if (key === '?') help.hidden = false
  else if (ui.questionnaire) {
    if (!questionnaireKey(key)) return
  } else if (!codingKey(key, e)) return
  e.preventDefault()
}

function questionnaireKey (key) {
  const last = AFTER_SESSION[ui.questionnaire].items.length - 1
  if (key === 'Escape') closeQuestionnaire()
  else if (key === 'Enter') {
    if (complete(ui.questionnaire)) saveQuestionnaire(ui.questionnaire)
    else toast(`${ui.questionnaire}: ${AFTER_SESSION[ui.questionnaire].items.length - answered(ui.questionnaire)} items not answered yet`, true)
  }
  else if (/^[0-9]$/.test(key)) answer(ui.active, Number(key))
  else if (key === 'ArrowDown' || key === 'ArrowUp') {
    ui.active = Math.max(0, Math.min(last, ui.active + (key === 'ArrowDown' ? 1 : -1)))
    renderTaskCard()
  } else return false
  return true
}

function codingKey (key, e) {
  const owed = seqOwed()
  const marker = Object.keys(MARKERS).find((k) => MARKERS[k][1].toLowerCase() === key)
  const outcome = OUTCOMES.find(([, , k]) => k.toLowerCase() === key)
  const next = nextTask()
  if (marker) recordMarker(marker)
  else if (st.open && outcome) endTask(outcome[0])
  else if (st.open && key === 'Enter' && st.open.met && e.target === document.body) endTask('success')
  else if (!st.open && key === 't' && next) startTask(next.id)
  else if (owed && /^[1-7]$/.test(key)) enterSeq(Number(key))
  else if (owed && key === 'Escape') skipSeq()
  else if (key === 'q') openQuestionnaire()
  else return false
  return true
}

// -- start ---------------------------------------------------------------------------------
if (MOD) {
  document.addEventListener('keydown', onKey)
  $$('.btn-marker').forEach((b) => b.addEventListener('click', () => { recordMarker(b.dataset.marker); b.blur() }))
  $('#marker-form').addEventListener('submit', (e) => { e.preventDefault(); saveMarkerText() })
  $('#marker-cancel').addEventListener('click', closeMarkerForm)
  $('#open-questionnaire').addEventListener('click', () => openQuestionnaire())
  $('#close-session').addEventListener('click', closeSession)
  $('#show-help').addEventListener('click', () => { $('#help').hidden = false })
  $('#help-close').addEventListener('click', () => { $('#help').hidden = true })
  $('#copy-link').addEventListener('click', (e) => copyText(e.currentTarget.dataset.copyText, e.currentTarget))
  restoreAnswers()
  outbox.loadLeftovers()
  for (const batch of outbox.batches) {
    for (const ev of batch.events) known.set(`${batch.page}:${ev.seq}`, localEvent(batch.page, ev))
  }
  outbox.flush()
}
setStatus(status, true)
refresh()
renderFeed(null)
setInterval(() => { tick(); renderStrip() }, 250)
connect()
window.uxlabConsole = { state: () => st, events: () => ordered, unsent, now: serverNow, markerText: (e) => markerTexts().get(keyOf(e)) || '' } // for tests, curious moderators and console_live_notes.js
