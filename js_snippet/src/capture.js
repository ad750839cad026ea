// What the snippet records. Every init* takes `emit(type, fields)` and returns its teardown.
//
// Typed text never leaves the page: `input` carries the field's kind and value length,
// labels skip form values, contenteditable and `data-uxlab-mask` subtrees, and an
// `invalid` message that quotes the value is left out. `data-uxlab-ignore` drops every
// event from inside its subtree.

const LABEL_MAX = 80
const STABLE_ID = /^[A-Za-z][\w-]*$/
const SKIP_TEXT = /^(SCRIPT|STYLE|TEXTAREA|SELECT|NOSCRIPT|TEMPLATE)$/
// DESIGN "interactive": links, buttons, form controls, labels, summaries, ARIA widgets, onclick.
const INTERACTIVE = 'a[href],area[href],button,input,select,textarea,label,summary,option,[onclick],' +
  '[contenteditable=""],[contenteditable=true],' +
  ['button', 'link', 'menuitem', 'menuitemcheckbox', 'menuitemradio', 'tab', 'checkbox', 'radio',
    'switch', 'option', 'treeitem', 'combobox', 'slider', 'spinbutton'].map((r) => '[role=' + r + ']').join(',')
const VALIDITY = ['valueMissing', 'typeMismatch', 'patternMismatch', 'tooLong', 'tooShort', 'rangeUnderflow',
  'rangeOverflow', 'stepMismatch', 'badInput', 'customError']

const cut = (text, max) => (text == null ? undefined : String(text).slice(0, max))
const round = Math.round

/** addEventListener (capture phase, passive) that returns its removal. */
export function on (target, type, listener, capture = true) {
  const options = { capture, passive: true }
  target.addEventListener(type, listener, options)
  return () => target.removeEventListener(type, listener, options)
}

/** One teardown for several. */
const all = (...offs) => () => offs.forEach((off) => off())

/** Call `fn` at most once per `ms`, at the end of the interval (it reads the latest state). */
function throttle (fn, ms) {
  let timer = 0
  return () => {
    if (!timer) {
      timer = setTimeout(() => {
        timer = 0
        fn()
      }, ms)
    }
  }
}

const ignored = (el) => !el || !el.closest || el.closest('[data-uxlab-ignore]')

/** A short CSS selector for `el`: up to the nearest stable id, nth-of-type where needed. */
export function selector (el) {
  const parts = []
  for (; el && el.nodeType === 1 && el !== document.body && el !== document.documentElement; el = el.parentElement) {
    const id = el.id
    if (id && STABLE_ID.test(id) && !/\d{4}/.test(id)) {
      parts.unshift('#' + id)
      break
    }
    const tag = el.localName
    let index = 1
    for (let sib = el.previousElementSibling; sib; sib = sib.previousElementSibling) if (sib.localName === tag) index++
    let alone = index === 1
    for (let sib = el.nextElementSibling; alone && sib; sib = sib.nextElementSibling) if (sib.localName === tag) alone = false
    parts.unshift(alone ? tag : tag + ':nth-of-type(' + index + ')')
  }
  while (parts.length > 1 && parts.join(' > ').length > 512) parts.shift()
  return cut(parts.join(' > '), 512)
}

/** The visible text of `el`, skipping masked subtrees and form values, at most LABEL_MAX long. */
function textOf (el) {
  let text = ''
  const walk = (node) => {
    for (let child = node.firstChild; child && text.length < 2 * LABEL_MAX; child = child.nextSibling) {
      if (child.nodeType === 3) text += child.data
      else if (child.nodeType === 1 && !SKIP_TEXT.test(child.tagName) && !child.hasAttribute('data-uxlab-mask')) {
        text += ' '
        walk(child)
      }
    }
  }
  walk(el)
  return text.slice(0, 2 * LABEL_MAX).replace(/\s+/g, ' ').trim().slice(0, LABEL_MAX)
}

/** What a participant would call the element: its accessible name, more or less. */
export function label (el) {
  // What a participant typed into contenteditable is theirs, like a field's value.
  if (el.closest('[data-uxlab-mask],[contenteditable]:not([contenteditable=false])')) return undefined
  let text = el.getAttribute('aria-label')
  if (!text && /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName)) {
    const own = el.labels && el.labels[0]
    text = /^(submit|button|reset)$/.test(el.type) ? el.value : (own && textOf(own)) || el.placeholder || el.name
  }
  text = text || textOf(el) || el.getAttribute('alt') || el.getAttribute('title')
  return cut(text && text.trim(), LABEL_MAX) || undefined
}

/** The page's own fields for a `page` event. */
export const pageFields = () => ({
  url: cut(location.href, 2048), title: cut(document.title, 256), w: innerWidth, h: innerHeight
})

/** Clicks: coordinates, selector, tag, label and whether the target is interactive. */
export function initClicks (emit) {
  let forwarded = null // a label passes its click on to its control: count one click
  return on(document, 'click', (e) => {
    let el = e.composedPath ? e.composedPath()[0] : e.target
    if (el && el.nodeType !== 1) el = el.parentElement
    if (ignored(el)) return
    if (el === forwarded) return
    const hit = el.closest(INTERACTIVE)
    const target = hit || el
    forwarded = target.tagName === 'LABEL' && target.control
    if (forwarded) setTimeout(() => (forwarded = null))
    let { pageX: x, pageY: y, clientX: vx, clientY: vy } = e
    if (!e.detail && !vx && !vy) {
      // Keyboard activation has no pointer position: use the element's centre.
      const box = target.getBoundingClientRect()
      vx = box.left + box.width / 2
      vy = box.top + box.height / 2
      x = vx + scrollX
      y = vy + scrollY
    }
    emit('click', {
      x: round(x), y: round(y), vx: round(vx), vy: round(vy), sel: selector(target),
      tag: cut(target.tagName.toLowerCase(), 32), label: label(target), interactive: !!hit
    })
  })
}

/** Form use: `input` (kind and length, never the value), `submit`, `invalid`. */
export function initForms (emit) {
  const changed = on(document, 'change', (e) => {
    const el = e.target
    if (ignored(el)) return
    const kind = el.type || el.tagName.toLowerCase()
    const len = /^(checkbox|radio)$/.test(kind) ? +el.checked : el.files ? el.files.length : String(el.value || '').length
    emit('input', { sel: selector(el), kind: cut(kind, 32), len })
  })
  const submitted = on(document, 'submit', (e) => {
    if (!ignored(e.target)) emit('submit', { sel: selector(e.target) })
  })
  // The validity kind only: browsers quote (part of) the typed value in validationMessage.
  const invalid = on(document, 'invalid', (e) => {
    const el = e.target
    if (!ignored(el)) emit('invalid', { sel: selector(el), kind: VALIDITY.find((k) => el.validity && el.validity[k]) })
  })
  return all(changed, submitted, invalid)
}

/** The deepest point of the page seen, in steps of 10% (and 100%), anew on every route. */
export function initScroll (emit) {
  let max = 0
  let page = ''
  const measure = throttle(() => {
    if (page !== (page = location.pathname + location.search)) max = 0
    const height = Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0)
    const depth = Math.min(100, round(((scrollY + innerHeight) / height) * 100))
    if (depth >= max + 10 || (depth === 100 && max < 100)) emit('scroll', { depth: (max = depth) })
  }, 250)
  return on(window, 'scroll', measure, false)
}

/** Window size changes, at most one event per half second. */
export function initResize (emit) {
  let w = innerWidth
  let h = innerHeight
  return on(window, 'resize', throttle(() => {
    if (innerWidth !== w || innerHeight !== h) emit('resize', { w: (w = innerWidth), h: (h = innerHeight) })
  }, 500), false)
}

/** The page's JavaScript errors and unhandled rejections (the prototype's faults), at most 25 per load. */
export function initErrors (emit) {
  let left = 25
  const report = (fields) => left-- > 0 && emit('error', fields)
  const errors = on(window, 'error', (e) => report({
    msg: cut(e.message, 1024) || 'error', src: cut(e.filename, 2048) || undefined, line: e.lineno || undefined, col: e.colno || undefined
  }), false)
  const rejections = on(window, 'unhandledrejection', (e) => {
    const reason = e.reason
    let msg = 'unhandled rejection'
    try {
      msg = reason instanceof Error ? reason.name + ': ' + reason.message : String(reason)
    } catch (err) {}
    report({ msg: cut(msg, 1024) })
  }, false)
  return all(errors, rejections)
}

/** Hidden and visible again; not the hiding that comes with leaving the page. */
export function initVisibility (emit) {
  let leaving = false
  return all(
    on(document, 'visibilitychange', () => {
      if (!leaving) emit('visibility', { state: document.visibilityState === 'hidden' ? 'hidden' : 'visible' })
    }),
    on(window, 'pagehide', () => (leaving = true)),
    on(window, 'pageshow', () => (leaving = false))
  )
}

/**
 * SPA route changes (pushState, replaceState, popstate, hashchange) and pages restored from
 * the back-forward cache. A change of the fragment alone counts only for hash routes
 * (`#/...`, `#!...`), not for in-page anchors.
 */
export function initRoutes (emit) {
  let last = location.href
  const route = () => {
    const href = location.href
    if (href === last) return
    const [before, beforeHash = ''] = last.split('#')
    const [after, afterHash = ''] = href.split('#')
    last = href
    if (before === after && !/^[/!]/.test(beforeHash) && !/^[/!]/.test(afterHash)) return
    emit('page', Object.assign(pageFields(), { spa: true }))
  }
  const patch = (name) => {
    const original = history[name]
    const ours = function () {
      const result = original.apply(this, arguments)
      route()
      return result
    }
    history[name] = ours
    return () => history[name] === ours && (history[name] = original)
  }
  return all(
    patch('pushState'),
    patch('replaceState'),
    on(window, 'popstate', route, false),
    on(window, 'hashchange', route, false),
    on(window, 'pageshow', (e) => {
      if (e.persisted) {
        last = ''
        route()
      }
    }, false)
  )
}
