// What the snippet records. Every init* takes `emit(type, fields)` and returns its teardown.
//
// Typed text never leaves the page: `input` carries the field's kind and value length,
// labels skip form values, contenteditable and `data-uxlab-mask` subtrees, and an
// `invalid` message that quotes the value is left out. `data-uxlab-ignore` drops every
// event from inside its subtree. Events inside open shadow roots count like any other.

const LABEL_MAX = 80
const REACT_MS = 1000 // a click with no reaction (page, DOM change, focus, scroll, input) by then is dead
const STABLE_ID = /^[A-Za-z][\w-]*$/
const SKIP_TEXT = /^(SCRIPT|STYLE|TEXTAREA|SELECT|NOSCRIPT|TEMPLATE)$/
// DESIGN "interactive": links, buttons, form controls, labels of a control, summaries, ARIA
// widgets, onclick, and custom elements with a role or a tabindex.
// (A label counts when it has a control: `control` below asks before it matches these.)
const INTERACTIVE = 'a[href],area[href],button,input,select,textarea,summary,option,[onclick],[contenteditable=""],[contenteditable=true]'
const WIDGET_ROLE = /^(button|link|menuitem(checkbox|radio)?|tab|checkbox|radio|switch|option|treeitem|combobox|slider|spinbutton)$/

const cut = (text, max) => (text == null ? undefined : String(text).slice(0, max))
const round = Math.round

/**
 * addEventListener (passive) that returns its removal. Listeners on the document (or a shadow
 * root) take the capture phase, so that they hear what the page stops; those on the window do
 * not (a capturing `error` or `scroll` there would also hear every element's).
 */
export function on (target, type, listener) {
  const options = { capture: target !== window, passive: true }
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

/** An id a framework made up (React's `:r1:`, `item-t3XjHjXGSXH`, `row1234`): different on every load. */
const generated = (id) => !STABLE_ID.test(id) || /\d{3}/.test(id) || id.split(/[-_]/).some((w) => w.length > 7 && /\d/.test(w))

/** Elements of `el`'s document (or shadow root) that `sel` matches; 0 for a selector the browser refuses. */
const count = (el, sel) => { try { return el.getRootNode().querySelectorAll(sel).length } catch { return 0 } }

/**
 * A short CSS selector for `el`, unique in its document (or shadow root) when made: anchored on
 * the nearest ancestor-or-self whose data-testid, made-by-hand id (not a generated one), name or
 * aria-label (in that order) is unique with the path below it, nth-of-type steps below.
 */
export function selector (target) {
  const parts = []
  for (let el = target; el && el !== document.body && el !== document.documentElement; el = el.parentElement) {
    const tag = el.localName
    const attr = ['data-testid', 'id', 'name', 'aria-label'].find((a) => el.getAttribute(a) && (a !== 'id' || !generated(el.id)))
    const anchor = attr && (attr === 'id' ? '#' + CSS.escape(el.id) : tag + '[' + attr + '="' + CSS.escape(el.getAttribute(attr)) + '"]')
    const path = [anchor, ...parts].join(' > ')
    if (anchor && count(target, path) === 1) return cut(path, 512)
    let index = 1
    for (let sib = el.previousElementSibling; sib; sib = sib.previousElementSibling) if (sib.localName === tag) index++
    parts.unshift(el.matches(':only-of-type') ? tag : tag + ':nth-of-type(' + index + ')')
  }
  while (parts.length > 1 && parts.join(' > ').length > 512) parts.shift()
  return cut(parts.join(' > '), 512)
}

/** The visible text of `el` (its own text nodes only when `own`; of no element ''), skipping masked subtrees and form values. */
function textOf (el, own) {
  let text = ''
  const walk = (node) => {
    for (let child = node.firstChild; child && text.length < 2 * LABEL_MAX; child = child.nextSibling) {
      if (child.nodeType === 3) text += child.data
      else if (!own && child.nodeType === 1 && !SKIP_TEXT.test(child.tagName) && !child.hasAttribute('data-uxlab-mask')) {
        text += ' '
        walk(child)
      }
    }
  }
  if (el) walk(el)
  return text.slice(0, 2 * LABEL_MAX).replace(/\s+/g, ' ').trim() // `label` cuts it to LABEL_MAX
}

/**
 * What a participant would call the element, after its accessible name: aria-label,
 * aria-labelledby, a control's label, alt, title, text. Of an element that is not interactive
 * (the page background, a card) only its own text, so that a container gives no label.
 */
export function label (el, interactive = true) {
  // What a participant typed into contenteditable is theirs, like a field's value.
  if (el.closest('[data-uxlab-mask],[contenteditable]:not([contenteditable=false])')) return undefined
  const root = el.getRootNode()
  const by = el.getAttribute('aria-labelledby')
  let text = el.getAttribute('aria-label') ||
    (by && by.split(' ').map((id) => textOf(root.getElementById(id))).join(' ').trim())
  if (!text && /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName)) {
    text = /^(submit|button|reset)$/.test(el.type) ? el.value : textOf(el.labels && el.labels[0]) || el.placeholder || el.name
  }
  text = text || el.getAttribute('alt') || el.getAttribute('title') || textOf(el, !interactive)
  return cut(text && text.trim(), LABEL_MAX) || undefined
}

/** The page's own fields for a `page` event. */
export const pageFields = () => ({
  url: cut(location.href, 2048), title: cut(document.title, 256), w: innerWidth, h: innerHeight
})

/** The first element of a composed path that a participant would take for a control. */
const control = (path) => path.find((n) => n.nodeType === 1 && (n.tagName === 'LABEL' ? n.control
  : n.matches(INTERACTIVE) || WIDGET_ROLE.test(n.getAttribute('role')) ||
    (n.localName.includes('-') && n.matches('[role],[tabindex]'))))

/**
 * Clicks: coordinates, selector, tag, label and whether the target is interactive. A click the
 * page's own script fired (`isTrusted` false, `element.click()`) is sent with `synthetic: true`.
 */
export function initClicks (emit) {
  let forwarded = null // a label passes its click on to its control: count one click
  return on(document, 'click', (e) => {
    const path = e.composedPath()
    let el = path[0]
    if (el && el.nodeType !== 1) el = el.parentElement
    if (el && el.localName === 'slot') el = el.getRootNode().host // the custom element, not its slot
    if (ignored(el)) return
    if (el === forwarded) return
    const hit = control(path.slice(path.indexOf(el)))
    const interactive = !!hit
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
      tag: cut(target.tagName.toLowerCase(), 32), label: label(target, interactive), interactive,
      synthetic: !e.isTrusted || undefined
    })
  })
}

/**
 * Reactions to a click, for dead clicks: within REACT_MS of a participant's click, the first
 * DOM change (also inside the shadow roots it went through), focus change, scroll, input or
 * navigation away is sent as one `reaction {kind}`. Route changes send their `page` anyway.
 * The analyzer counts a click with neither a reaction nor a page event after it as dead.
 */
export function initReactions (emit) {
  let until = 0
  let timer = 0
  const react = (kind) => () => {
    if (performance.now() > until) return
    until = 0
    observer.disconnect()
    emit('reaction', { kind })
  }
  const observer = new MutationObserver(react('mutation'))
  const options = { subtree: true, childList: true, attributes: true, characterData: true }
  return all(
    on(document, 'click', (e) => {
      if (!e.isTrusted) return
      until = performance.now() + REACT_MS
      e.composedPath().forEach((n) => n.nodeType > 8 && observer.observe(n, options)) // the document, shadow roots
      clearTimeout(timer)
      timer = setTimeout(() => observer.disconnect(), REACT_MS)
    }),
    on(document, 'focusin', react('focus')),
    on(document, 'scroll', react('scroll')),
    on(document, 'input', react('input')),
    on(window, 'pagehide', react('navigation')),
    () => observer.disconnect()
  )
}

/**
 * Form use: `input` (kind and length, never the value), `submit`, `invalid`. These events do
 * not leave a shadow root, so every open shadow root a participant's focus or pointer passes
 * through gets the same listeners (before its form can change: focus and pointer come first).
 */
export function initForms (emit) {
  const changed = (e) => {
    const el = e.target
    if (ignored(el)) return
    const kind = el.type || el.tagName.toLowerCase()
    const len = /^(checkbox|radio)$/.test(kind) ? +el.checked : el.files ? el.files.length : String(el.value || '').length
    emit('input', { sel: selector(el), kind: cut(kind, 32), len })
  }
  const submitted = (e) => {
    if (!ignored(e.target)) emit('submit', { sel: selector(e.target) })
  }
  const invalid = (e) => {
    const el = e.target
    if (ignored(el)) return
    let kind // the first failed check, in ValidityState's order (valueMissing, typeMismatch, ...)
    for (const k in el.validity) if (!kind && k !== 'valid' && el.validity[k]) kind = k
    // The validity kind only: browsers quote (part of) the typed value in validationMessage.
    emit('invalid', { sel: selector(el), kind })
  }
  const offs = []
  const seen = new WeakSet()
  const listen = (root) => {
    if (seen.has(root)) return
    seen.add(root)
    offs.push(on(root, 'change', changed), on(root, 'submit', submitted), on(root, 'invalid', invalid))
  }
  const enter = (e) => e.composedPath().forEach((n) => n.nodeType === 11 && listen(n))
  listen(document)
  offs.push(on(document, 'focusin', enter), on(document, 'pointerdown', enter))
  return () => offs.forEach((off) => off())
}

/** The deepest point of the page seen, in steps of 10% (and 100%), anew on every route. */
export function initScroll (emit) {
  let max = 0
  let page = ''
  return on(window, 'scroll', throttle(() => {
    if (page !== (page = location.pathname + location.search)) max = 0
    const height = Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0)
    const depth = Math.min(100, round(((scrollY + innerHeight) / height) * 100))
    if (depth >= max + 10 || (depth === 100 && max < 100)) emit('scroll', { depth: (max = depth) })
  }, 250))
}

/** Window size changes, at most one event per half second. */
export function initResize (emit) {
  let w = innerWidth
  let h = innerHeight
  return on(window, 'resize', throttle(() => {
    if (innerWidth !== w || innerHeight !== h) emit('resize', { w: (w = innerWidth), h: (h = innerHeight) })
  }, 500))
}

/**
 * The page's JavaScript errors and unhandled rejections (the prototype's faults), at most 25 per
 * load; those the inline stub caught before the script arrived first, at the time they happened.
 */
export function initErrors (emit, stub) {
  let left = 25
  const report = (e) => {
    const reason = e.reason
    let msg = 'unhandled rejection'
    try {
      msg = e.type === 'error' ? e.message || 'error' : reason instanceof Error ? reason.name + ': ' + reason.message : String(reason)
    } catch {}
    return left-- > 0 && emit('error', {
      msg: cut(msg, 1024), src: cut(e.filename, 2048) || undefined, line: e.lineno || undefined, col: e.colno || undefined, t: performance.timeOrigin + e.timeStamp
    })
  }
  if (stub) {
    (stub.e || []).forEach(report)
    stub.e = null // the stub stops collecting: the listeners below take over
  }
  return all(on(window, 'error', report), on(window, 'unhandledrejection', report))
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
    emit('page', { ...pageFields(), spa: true })
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
    on(window, 'popstate', route),
    on(window, 'hashchange', route),
    on(window, 'pageshow', (e) => {
      if (e.persisted) {
        last = ''
        route()
      }
    })
  )
}
