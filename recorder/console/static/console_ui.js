// Shared by the console's pages: elements, toasts, clocks, the clipboard, requests.
// ES modules served as written: no framework, no build step, nothing from other sites.

export const $ = (sel, root = document) => root.querySelector(sel)
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel))

/** The page's CSRF token (empty for observers): sent with every change. */
export const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || ''

/** The JSON the page was rendered with, or null. */
export function pageConfig () {
  const el = document.getElementById('console-config')
  return el ? JSON.parse(el.textContent) : null
}

/** An element with attributes and children (strings become text, never HTML). */
export function h (tag, attrs, ...children) {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue
    if (k === 'class') el.className = v
    else if (k === 'style') el.style.cssText = v // CSSOM: allowed by the pages' CSP
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v)
    else el.setAttribute(k, v === true ? '' : v)
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue
    el.append(child instanceof Node ? child : document.createTextNode(String(child)))
  }
  return el
}

let toastTimer = 0

/** A short message at the bottom of the page; `bad` ones stay longer. */
export function toast (message, bad) {
  const el = $('#toast')
  el.textContent = message
  el.className = 'toast' + (bad ? ' bad' : '')
  el.hidden = false
  clearTimeout(toastTimer)
  toastTimer = setTimeout(() => { el.hidden = true }, bad ? 7000 : 2500)
}

/** Milliseconds as m:ss (h:mm:ss from an hour on). */
export function clock (ms) {
  if (ms === null || ms === undefined || !isFinite(ms)) return '–:––'
  const s = Math.max(0, Math.floor(ms / 1000))
  const hh = Math.floor(s / 3600)
  const mm = Math.floor((s % 3600) / 60)
  const ss = String(s % 60).padStart(2, '0')
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`
}

/** Copy text; plain http on a LAN address has no clipboard API, so fall back. */
export async function copyText (text, button) {
  let done = false
  if (navigator.clipboard && window.isSecureContext) {
    try { await navigator.clipboard.writeText(text); done = true } catch {}
  }
  if (!done) {
    const area = h('textarea', { style: 'position:fixed;opacity:0' }, text)
    document.body.append(area)
    area.select()
    try { done = document.execCommand('copy') } catch {}
    area.remove()
  }
  toast(done ? 'Copied to the clipboard' : 'Select the text and copy it by hand', !done)
  if (done && button) {
    const label = button.textContent
    button.textContent = 'Copied ✓'
    setTimeout(() => { button.textContent = label }, 1500)
  }
}

/** A request to the console's server: JSON (or a form) in, JSON out, CSRF header on. */
export async function api (method, url, body) {
  const headers = { 'X-CSRF-Token': csrf }
  let payload = body
  if (body && !(body instanceof FormData)) {
    headers['Content-Type'] = 'application/json'
    payload = JSON.stringify(body)
  }
  let resp
  try {
    resp = await fetch(url, { method, headers, body: payload, credentials: 'same-origin' })
  } catch {
    return { status: 0, body: { error: 'the uxlab server does not answer; is it still running?' } }
  }
  let data = {}
  try { data = await resp.json() } catch {}
  if (resp.status === 401) toast('You are signed out: reload the page to sign in again.', true)
  return { status: resp.status, body: data }
}
