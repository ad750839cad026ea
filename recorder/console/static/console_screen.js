// The live session page's view of the participant's screen: the latest page load's
// recording, then every chunk the live feed brings (console_live.js re-dispatches them
// as `uxlab:recording` events), mirrored by rrweb's replayer in live mode.

import { $, pageConfig } from './console_ui.js'

const cfg = pageConfig()
const root = $('#screen')
const state = $('#screen-state')
let view = null
const seen = new Set()
let early = [] // chunks that arrive before the latest page load is read

function add (chunks) {
  const events = []
  for (const chunk of chunks) {
    const id = `${chunk.load}:${chunk.seq}`
    if (seen.has(id)) continue
    seen.add(id)
    events.push(...chunk.events)
  }
  if (!events.length) return
  view.add(events)
  if (root.dataset.live) state.textContent = 'Live'
}

window.addEventListener('uxlab:recording', (e) => {
  if (view) add(e.detail)
  else early = early.concat(e.detail)
})

async function start () {
  let doc = { events: [], chunks: [] }
  try {
    const resp = await fetch(cfg.urls.screen, { credentials: 'same-origin' })
    if (resp.status === 200) doc = await resp.json()
  } catch {}
  view = window.uxlabPlayer.live(root)
  doc.chunks.forEach((id) => seen.add(id))
  if (doc.events.length) view.add(doc.events)
  if (root.dataset.live) state.textContent = 'Live'
  add(early)
  early = []
}

start()
