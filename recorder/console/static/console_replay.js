// The replay page: load the session's recording and timeline, mount uxlab's player
// (recorder/static/uxlab-player.js, rrweb's replayer), and offer to delete the recording.

import { $, api, pageConfig, toast } from './console_ui.js'

const cfg = pageConfig()

async function start () {
  const root = $('#player')
  if (!root) return
  const resp = await fetch(cfg.recording, { credentials: 'same-origin' })
  if (resp.status !== 200) {
    root.textContent = 'The recording could not be loaded; reload the page.'
    return
  }
  const doc = await resp.json()
  window.uxlabPlayer.mount(root, { events: doc.events, timeline: doc.timeline, t: cfg.t })
  root.dataset.ready = '1'
}

const remove = $('#delete-recording')
if (remove) {
  remove.addEventListener('click', async () => {
    if (!window.confirm('Delete this session\'s recording? Its events, tasks and markers stay. This cannot be undone.')) return
    const { status, body } = await api('DELETE', cfg.delete)
    if (status !== 200) return toast(body.error || 'The recording was not deleted.', true)
    $('#player').replaceChildren(document.createTextNode('The recording was deleted; the session\'s events are kept.'))
    remove.remove()
  })
}

start()
