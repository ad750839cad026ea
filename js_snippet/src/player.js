// The uxlab player, /console/static/uxlab-player.js: rrweb's Replayer with the session's
// timeline under it (console replay page, live view, and `uxlab clip` files, which inline
// this file). No requests of its own: the page hands it the recording.
//
//   uxlabPlayer.mount(root, {events, timeline: {start_ms, end_ms, items}, t, from, to})
//   uxlabPlayer.live(root) -> {add(events)}: mirror events as they arrive
//
// Times shown are seconds from the session's first event (the timeline's start_ms), the
// clock the moderator's markers and the findings' evidence use.

import { Replayer } from 'rrweb'

const SPEEDS = [1, 2, 4, 8]
const STEP_S = 5 // arrow keys jump this far
const FULL_SNAPSHOT = 2

/** An element with attributes and children (strings become text). */
function h (tag, attrs, ...children) {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'on') for (const [type, fn] of Object.entries(v)) el.addEventListener(type, fn)
    else if (v !== null && v !== undefined && v !== false) el.setAttribute(k, v === true ? '' : v)
  }
  for (const c of children) if (c !== null && c !== undefined) el.append(c)
  return el
}

/** 83.4 -> "1:23" */
export function clock (seconds) {
  const s = Math.max(0, Math.floor(seconds))
  const m = Math.floor(s / 60)
  const rest = String(s % 60).padStart(2, '0')
  return m >= 60 ? `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}:${rest}` : `${m}:${rest}`
}

/** Scale the replayer's wrapper to the width of its stage. */
function fitter (stage, replayer) {
  let size = null
  const fit = () => {
    if (!size) return
    const scale = Math.min(1, stage.clientWidth / size.width)
    replayer.wrapper.style.transform = `scale(${scale})`
    replayer.wrapper.style.transformOrigin = 'top left'
    stage.style.height = `${Math.ceil(size.height * scale)}px`
  }
  replayer.on('resize', (dim) => {
    size = dim
    fit()
  })
  window.addEventListener('resize', fit)
  return fit
}

export function mount (root, data) {
  const events = data.events || []
  if (events.length < 2) {
    root.replaceChildren(h('p', { class: 'uxp-empty' }, 'This session has no recording.'))
    return null
  }
  const timeline = data.timeline || {}
  const items = (timeline.items || []).slice().sort((a, b) => a.t - b.t)
  const first = events[0].timestamp
  const last = events[events.length - 1].timestamp
  const start = timeline.start_ms || first // the session's first event
  const from = data.from || 0 // a clip shows a stretch of the session
  const end = Math.max(last, timeline.end_ms || 0)
  const to = data.to || Math.max((end - start) / 1000, ...items.map((i) => i.end || i.t)) // items' times are rounded
  const span = Math.max(0.001, to - from)
  const toReplay = (s) => Math.min(Math.max(0, start + s * 1000 - first), last - first + 1)
  const toSession = (ms) => (first + ms - start) / 1000

  const screen = h('div', { class: 'uxp-screen' })
  const stage = h('div', { class: 'uxp-stage' }, screen)
  const frame = h('div', { class: 'uxp' }, stage)
  root.replaceChildren(frame) // rrweb's iframe needs a connected root
  const replayer = new Replayer(events, {
    root: screen, skipInactive: true, showWarning: false, mouseTail: false, speed: 1, triggerFocus: false
  })
  const fit = fitter(stage, replayer)
  let playing = false

  const play = h('button', { type: 'button', class: 'uxp-play', title: 'Play or pause (space)', on: { click: () => toggle() } }, '▶')
  const time = h('span', { class: 'uxp-time' })
  const speed = h('select', { class: 'uxp-speed', title: 'Speed', on: { change: () => replayer.setConfig({ speed: Number(speed.value) }) } },
    ...SPEEDS.map((s) => h('option', { value: s }, `${s}×`)))
  const skip = h('input', { type: 'checkbox', checked: true, on: { change: () => replayer.setConfig({ skipInactive: skip.checked }) } })
  const progress = h('div', { class: 'uxp-progress' })
  const pct = (s) => `${Math.min(100, Math.max(0, ((s - from) / span) * 100))}%`
  const marks = items.filter((i) => i.end !== undefined || (i.t >= from && i.t <= to)).map((item) => {
    const title = `${clock(item.t)} ${item.label || item.kind}`
    const kind = item.kind === 'marker' ? `marker m-${item.marker}` : item.kind === 'task' ? `task o-${item.outcome || 'open'}` : item.kind
    const el = h('button', { type: 'button', class: `uxp-mark k-${kind}`, title, 'data-t': item.t, on: { click: (e) => { e.stopPropagation(); seek(item.t) } } })
    el.style.left = pct(item.t)
    if (item.kind === 'task') el.style.width = `calc(${pct(item.end === null ? to : item.end)} - ${pct(item.t)})`
    return el
  })
  const track = h('div', { class: 'uxp-track', title: 'Click to jump', on: { click: (e) => {
    const box = track.getBoundingClientRect()
    seek(from + ((e.clientX - box.left) / box.width) * span)
  } } }, progress, ...marks)
  const list = h('ol', { class: 'uxp-list' }, ...items.filter((i) => i.t >= from && i.t <= to).map((item) =>
    h('li', { class: `k-${item.kind}` }, h('a', { href: `?t=${item.t}`, 'data-t': item.t, on: { click: (e) => { e.preventDefault(); seek(item.t) } } }, clock(item.t)),
      ' ', item.kind === 'marker' ? `${item.marker}: ${item.label}` : item.label || item.kind)))
  const controls = h('div', { class: 'uxp-controls' }, play, time, speed, h('label', {}, skip, ' skip inactivity'))
  frame.append(controls, track, list)

  function now () {
    return toSession(replayer.getCurrentTime())
  }
  function show () {
    const s = now()
    time.textContent = `${clock(s)} / ${clock(to)}`
    progress.style.width = pct(s)
    play.textContent = playing ? '❚❚' : '▶'
    root.dataset.t = s.toFixed(1)
    root.dataset.playing = playing ? '1' : ''
  }
  function seek (s) {
    s = Math.min(Math.max(s, from), to)
    if (playing) replayer.play(toReplay(s))
    else replayer.pause(toReplay(s))
    show()
  }
  function toggle () {
    const at = Math.min(now(), to)
    playing = !playing
    if (playing) replayer.play(toReplay(at >= to - 0.05 ? from : at))
    else replayer.pause()
    show()
  }
  replayer.on('finish', () => {
    playing = false
    show()
  })
  setInterval(() => {
    if (playing && now() >= to) {
      playing = false
      replayer.pause(toReplay(to))
    }
    if (playing) show()
  }, 200)
  const jumps = () => items.filter((i) => i.kind === 'marker').map((i) => i.t)
  document.addEventListener('keydown', (e) => {
    if (e.target && /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(e.target.tagName) && e.key !== ' ') return
    const s = now()
    if (e.key === ' ') toggle()
    else if (e.key === 'ArrowLeft') seek(s - STEP_S)
    else if (e.key === 'ArrowRight') seek(s + STEP_S)
    else if (e.key === '[') seek(jumps().filter((t) => t < s - 0.5).pop() ?? from)
    else if (e.key === ']') seek(jumps().find((t) => t > s + 0.5) ?? s)
    else return
    e.preventDefault()
  })
  seek(data.t === undefined || data.t === null ? from : Number(data.t))
  fit()
  return { replayer, seek, toggle, now }
}

/** Mirror a session as its events arrive (they are applied at once: least lag). */
export function live (root) {
  let replayer = null
  let waiting = []
  const screen = h('div', { class: 'uxp-screen' })
  const stage = h('div', { class: 'uxp-stage' }, screen)
  root.replaceChildren(stage)
  return {
    add (events) {
      if (!replayer) {
        waiting = waiting.concat(events)
        const i = waiting.findIndex((e) => e.type === FULL_SNAPSHOT)
        if (i < 0) return
        events = waiting.slice(Math.max(0, i - 1)) // the meta event before it has the size
        waiting = []
        // Events apply at once (no virtual DOM: it waits for a flush that live mode never does).
        replayer = new Replayer([], { root: screen, liveMode: true, useVirtualDom: false, showWarning: false, mouseTail: false, triggerFocus: false })
        fitter(stage, replayer)
        replayer.startLive(Number.MAX_SAFE_INTEGER)
        root.dataset.live = '1'
      }
      for (const e of events) replayer.addEvent(e)
      root.dataset.received = String(Date.now())
    }
  }
}

window.uxlabPlayer = { mount, live, clock, Replayer }
