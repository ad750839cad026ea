// The live session page, findings side: an observer's timestamped notes, and the moderator's
// "add the marker I just made to a finding" (one step). Reads the page's state from
// console_live.js (window.uxlabConsole); writes to the findings API.
import { $, api, h, pageConfig, toast } from './console_ui.js'

const cfg = pageConfig()
const study = cfg.study.id
const number = cfg.session.number
const findingsUrl = `/api/v1/studies/${encodeURIComponent(study)}/findings`

// -- observers' notes --------------------------------------------------------------------------

function observerKey () {
  const parts = location.pathname.split('/') // /observe/{study}/{key}/sessions/{n}
  return parts[1] === 'observe' ? decodeURIComponent(parts[3]) : ''
}

async function addNote (e) {
  e.preventDefault()
  const text = $('#note-text').value.trim()
  if (!text) return
  const author = $('#note-author').value.trim()
  try { localStorage.setItem('uxlab:observer:name', author) } catch {}
  const resp = await fetch(`/api/v1/studies/${encodeURIComponent(study)}/sessions/${number}/notes`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Observer-Key': observerKey() },
    body: JSON.stringify(author ? { text, author } : { text })
  }).catch(() => null)
  if (!resp || resp.status !== 201) {
    const body = resp ? await resp.json().catch(() => ({})) : {}
    toast(`Note not saved: ${body.error || 'the server does not answer'}`, true)
    return
  }
  $('#note-text').value = ''
  toast('Note added')
}

// -- attach the last marker to a finding -------------------------------------------------------

let lastMarker = null // the newest marker seen on this page
let chosen = null // what the form adds: the marker just made, or a moment taken with the button
// A marker's text is typed after its key press (a marker_text event): ask the live page for
// its latest text, edits included.
const markerText = (e) => (window.uxlabConsole ? window.uxlabConsole.markerText(e) : e.label || e.text || '')

let findings = []

async function loadFindings () {
  const { status, body } = await api('GET', findingsUrl)
  if (status !== 200) return
  findings = body.findings
  $('#attach-to').replaceChildren(...findings.map((f) => h('option', { value: f.id }, `${f.title} (severity ${f.severity})`)))
  $('#attach-moment-row').hidden = !findings.length
}

function watchMarkers () {
  const live = window.uxlabConsole
  if (!live) return
  const markers = live.events().filter((e) => e.source === 'moderator' && e.type === 'marker')
  const newest = markers[markers.length - 1]
  if (newest && chosen === newest) showLabel(newest)
  if (!newest || newest === lastMarker || (lastMarker && newest.load === lastMarker.load && newest.seq === lastMarker.seq)) return
  const first = lastMarker === null && markers.length && !newest.local // markers from before this page: not "just made"
  lastMarker = newest
  if (first) return
  chosen = newest
  $('#attach-marker').hidden = !findings.length
  showLabel(newest)
}

/** Seconds from the session's first event to a moment (server clock, ms). */
function secondsIn (ts) {
  const first = window.uxlabConsole.state().first
  return Math.max(0, Math.round(ts - (first === null ? ts : first)) / 1000)
}

function showLabel (what) {
  const said = what.kind ? markerText(what) : ''
  const t = secondsIn(what.ts)
  const clock = `${Math.floor(t / 60)}:${String(Math.floor(t % 60)).padStart(2, '0')}`
  const label = what.kind
    ? `Add the ${what.kind} marker${said ? ` “${said}”` : ''} to a finding`
    : `Add this moment (${clock}) to a finding`
  if ($('#attach-label').textContent !== label) $('#attach-label').textContent = label
}

function chooseMoment () {
  const live = window.uxlabConsole
  if (!live || !findings.length) return
  chosen = { ts: live.now() }
  showLabel(chosen)
  $('#attach-marker').hidden = false
  $('#attach-to').focus()
}

async function attach (e) {
  e.preventDefault()
  const live = window.uxlabConsole
  const finding = findings.find((f) => String(f.id) === $('#attach-to').value)
  if (!finding || !chosen || !live) return
  const moment = { session: number, t_s: secondsIn(chosen.ts) }
  if (chosen.kind && markerText(chosen)) moment.text = markerText(chosen)
  const { status, body } = await api('PATCH', `${findingsUrl}/${finding.id}`, { version: finding.version, add_evidence: [moment] })
  if (status === 409) { toast('Someone else changed that finding: try again.', true); await loadFindings(); return }
  if (status !== 200) { toast(body.error || `Not added (${status})`, true); return }
  toast(`Added to “${body.title}”`)
  $('#attach-marker').hidden = true
  await loadFindings()
}

if (cfg.role === 'observer') {
  try { $('#note-author').value = localStorage.getItem('uxlab:observer:name') || '' } catch {}
  $('#observer-note').addEventListener('submit', addNote)
} else {
  $('#attach-marker').addEventListener('submit', attach)
  $('#attach-moment').addEventListener('click', chooseMoment)
  loadFindings()
  setInterval(watchMarkers, 300)
}
