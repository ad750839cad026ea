// uxlab console: the studies page and a study's page (sessions, new session, observer link).
import { $, $$, api, copyText, h, pageConfig, toast } from './console_ui.js'

const cfg = pageConfig()
let sessions = []
let skew = 0 // the server's clock minus this browser's
const closing = new Set() // sessions whose Close button was pressed once

document.addEventListener('click', (e) => {
  const button = e.target.closest('.js-copy')
  const source = button && $(button.dataset.copy)
  if (source) copyText(source.value || source.textContent, button)
})

// -- studies: create or update from a file, a path, or the demo ---------------------------
async function loadStudy (form) {
  const result = $('.form-result', form)
  const say = (text) => {
    if (result) { result.textContent = text; result.className = 'form-result bad' } else toast(text, true)
  }
  const data = new FormData()
  const file = $('input[type=file]', form)
  const path = $('input[name=path]', form)
  if (form.dataset.demo) data.append('demo', '1')
  else if (file && file.files.length) data.append('study', file.files[0])
  else if (path && path.value.trim()) data.append('path', path.value.trim())
  else { say('Choose a study file or give its path.'); return }
  const button = $('button[type=submit]', form)
  button.disabled = true
  const { status, body } = await api('POST', '/studies', data)
  button.disabled = false
  if (status !== 200 && status !== 201) { say(body.error || `failed (${status})`); return }
  toast(`Study ${body.study} ${body.created ? 'created' : 'updated'}`)
  location.assign(body.url)
}

for (const form of $$('.js-study-form')) {
  form.addEventListener('submit', (e) => { e.preventDefault(); loadStudy(form) })
}

// -- a study: sessions with their progress, refreshed without reloading -------------------
function ago (seconds) {
  if (seconds === null || seconds === undefined) return '—'
  const s = Math.max(0, Math.round((Date.now() + skew) / 1000 - seconds))
  if (s < 5) return 'just now'
  if (s < 60) return `${s} s ago`
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`
  return new Date(seconds * 1000).toLocaleDateString()
}

function statusPill (s) {
  if (s.status === 'closed') return h('span', { class: 'pill pill-closed' }, 'closed')
  const active = s.last_event_at && (Date.now() + skew) / 1000 - s.last_event_at < 60
  return active
    ? h('span', { class: 'pill pill-ok', title: 'an event arrived in the last minute' }, 'active now')
    : h('span', { class: 'pill pill-wait' }, 'open')
}

function sessionRow (s) {
  const observer = cfg.role === 'observer'
  const tasks = cfg.study.tasks.length
  const pct = tasks ? Math.round(100 * Math.min(s.tasks_done, tasks) / tasks) : 0
  const actions = h('td', { class: 'actions' },
    h('a', { class: 'btn btn-small btn-primary', href: s.url, title: 'the live session page' }, observer ? 'Watch' : 'Open'))
  if (cfg.study.replay) actions.append(h('a', { class: 'btn btn-small', href: s.replay, title: 'replay the recorded session' }, 'Replay'))
  if (!observer && s.status === 'open') {
    const armed = closing.has(s.number)
    actions.append(
      h('button', { class: 'btn btn-small', type: 'button', title: `Copy the participant's link: ${s.link}`, onclick: (e) => copyText(s.link, e.currentTarget) }, 'Link'),
      h('button', { class: 'btn btn-small ' + (armed ? 'btn-danger' : 'btn-danger-quiet'), type: 'button', onclick: () => closeSession(s) }, armed ? 'Confirm' : 'Close'))
  }
  return h('tr', { 'data-session': s.number },
    h('td', { class: 'num' }, String(s.number)),
    h('td', {}, h('b', { class: 'mono' }, s.participant)),
    h('td', {}, h('b', {}, s.variant)),
    h('td', {}, statusPill(s)),
    h('td', {},
      h('span', { class: 'progress' }, h('span', { class: 'bar' }, h('span', { style: `width:${pct}%` })),
        h('span', { class: 'num' }, `${s.tasks_done} / ${tasks}`)),
      s.current_task ? h('span', { class: 'current-task' }, `▶ ${s.current_task}`) : null),
    h('td', { class: 'num' }, String(s.events)),
    h('td', { class: 'num' }, ago(s.last_event_at)),
    actions)
}

function renderSessions () {
  $('#sessions-body').replaceChildren(...sessions.slice().reverse().map(sessionRow))
  $('#sessions-empty').hidden = sessions.length > 0
}

async function refreshSessions () {
  if (document.hidden) return
  const { status, body } = await api('GET', `${cfg.base}/sessions.json`)
  if (status !== 200) return
  skew = body.server_now - Date.now()
  sessions = body.sessions
  renderSessions()
  $('#sessions-updated').textContent = 'updated ' + new Date().toLocaleTimeString()
}

async function closeSession (s) {
  if (!closing.has(s.number)) { // two steps: a stray click closes nothing
    closing.add(s.number)
    renderSessions()
    setTimeout(() => { closing.delete(s.number); renderSessions() }, 4000)
    return
  }
  closing.delete(s.number)
  const { status, body } = await api('POST', `/api/v1/studies/${encodeURIComponent(cfg.study.id)}/sessions/${s.number}/close`)
  if (status === 200) toast(`Session of ${s.participant} closed`)
  else toast(body.error || `could not close (${status})`, true)
  refreshSessions()
}

// -- a new session ------------------------------------------------------------------------
async function createSession (form) {
  const participant = $('#participant').value.trim()
  const variant = (form.querySelector('input[name=variant]:checked') || {}).value
  if (!variant) { toast('Choose a variant', true); return }
  const button = $('button[type=submit]', form)
  button.disabled = true
  const { status, body } = await api('POST', `/api/v1/studies/${encodeURIComponent(cfg.study.id)}/sessions`, { participant, variant })
  button.disabled = false
  if (status !== 201) { toast(body.error || `could not create the session (${status})`, true); return }
  const result = $('#new-session-result')
  $('.created-title', result).textContent = `Session for ${body.participant} on variant ${body.variant}`
  $('#created-link').value = body.link
  $('.created-open', result).href = `${cfg.base}/sessions/${body.session}`
  result.hidden = false
  $('#participant').value = nextId(body.participant)
  const radios = $$('input[name=variant]', form) // alternate the variants
  const next = radios[(radios.findIndex((r) => r.value === variant) + 1) % radios.length]
  if (next) next.checked = true
  toast('Session created: give the participant the link')
  refreshSessions()
}

function nextId (id) {
  const m = /^(.*?)(\d+)$/.exec(id)
  return m ? m[1] + String(Number(m[2]) + 1).padStart(m[2].length, '0') : id
}

if (cfg && cfg.sessions) {
  sessions = cfg.sessions
  renderSessions()
  setInterval(refreshSessions, 5000)
  document.addEventListener('visibilitychange', refreshSessions)
  const form = $('#new-session')
  if (form) form.addEventListener('submit', (e) => { e.preventDefault(); createSession(form) })
}
