// Stride, the uxlab demo shop: cart in sessionStorage, checkout, help centre tabs.
// Plain JavaScript for both variants; <body data-variant> says which design this is.
(function () {
  'use strict'
  const body = document.body
  const variant = body.dataset.variant
  const base = body.dataset.base
  const catalog = JSON.parse(document.getElementById('catalog').textContent)
  const byId = {}
  catalog.forEach(function (shoe) { byId[shoe.id] = shoe })
  const $ = function (id) { return document.getElementById(id) }

  function load (key, fallback) {
    try { return JSON.parse(sessionStorage.getItem(key)) || fallback } catch (e) { return fallback }
  }
  function keep (key, value) {
    try { sessionStorage.setItem(key, JSON.stringify(value)) } catch (e) {}
  }
  const cart = {
    items: function () { return load('stride:cart', []).filter(function (i) { return byId[i.id] }) },
    save: function (items) { keep('stride:cart', items); showCount() },
    add: function (id) {
      const items = cart.items()
      const found = items.find(function (i) { return i.id === id })
      if (found) found.qty++
      else items.push({ id: id, qty: 1 })
      cart.save(items)
    },
    count: function () { return cart.items().reduce(function (n, i) { return n + i.qty }, 0) },
    total: function () { return cart.items().reduce(function (n, i) { return n + i.qty * byId[i.id].price }, 0) }
  }

  function showCount () {
    const n = cart.count()
    document.querySelectorAll('[data-cart-count]').forEach(function (el) { el.textContent = n })
    // Variant A: a small dot on the menu icon is all that changes.
    document.querySelectorAll('[data-cart-dot]').forEach(function (el) { el.hidden = n === 0 })
  }

  function menu () {
    const toggle = $('menu-toggle')
    const list = $('menu-list')
    if (!toggle) return
    toggle.addEventListener('click', function () { list.hidden = !list.hidden })
    document.addEventListener('click', function (e) {
      if (!list.hidden && !e.target.closest('.menu')) list.hidden = true
    })
  }

  function productPage () {
    const button = $('add-to-cart')
    if (!button) return
    const id = Number(document.querySelector('[data-shoe]').dataset.shoe)
    button.addEventListener('click', function () {
      cart.add(id)
      if ($('added')) $('added').hidden = false
    })
  }

  function cartPage () {
    const list = $('cart-items')
    if (!list) return
    const render = function () {
      const items = cart.items()
      list.textContent = ''
      items.forEach(function (item) {
        const shoe = byId[item.id]
        const row = document.createElement('tr')
        row.innerHTML = '<td class="item-name"></td><td><button type="button" class="qty" data-step="-1" aria-label="One less">−</button>' +
          ' <span class="qty-n"></span> <button type="button" class="qty" data-step="1" aria-label="One more">+</button></td>' +
          '<td class="item-price"></td><td><button type="button" class="link remove">Remove</button></td>'
        row.id = 'item-' + shoe.id
        row.querySelector('.item-name').textContent = shoe.name
        row.querySelector('.qty-n').textContent = item.qty
        row.querySelector('.item-price').textContent = '$' + shoe.price * item.qty
        row.addEventListener('click', function (e) {
          const step = e.target.closest('[data-step]')
          const all = cart.items()
          const mine = all.find(function (i) { return i.id === item.id })
          if (step) mine.qty += Number(step.dataset.step)
          else if (e.target.closest('.remove')) mine.qty = 0
          else return
          cart.save(all.filter(function (i) { return i.qty > 0 }))
          render()
        })
        list.appendChild(row)
      })
      $('cart-total').textContent = '$' + cart.total()
      $('cart-empty').hidden = items.length > 0
      $('cart-table').hidden = items.length === 0
      $('checkout-button').hidden = items.length === 0
    }
    render()
  }

  // Variant B explains each field's problem next to it; A leaves it to the browser.
  const MESSAGES = {
    name: 'Enter your name as it appears on your card.',
    email: 'Enter an email address like jo@example.com.',
    address: 'Enter the street address to ship to.',
    zip: 'A ZIP code has exactly 5 digits.',
    card: 'A card number has 16 digits.',
    expiry: 'Write the expiry date as MM/YY, for example 09/28.'
  }

  function checkoutPage () {
    const form = $('checkout-form')
    if (!form) return
    const count = cart.count()
    $('checkout-summary').textContent = count
      ? count + (count === 1 ? ' pair' : ' pairs') + ' of shoes, $' + cart.total() + ' with free shipping.'
      : 'Your cart is empty.'
    if (variant === 'B') {
      form.addEventListener('invalid', function (e) {
        const error = $(e.target.id + '-error')
        error.textContent = e.target.validity.valueMissing ? 'Required. ' + MESSAGES[e.target.id] : MESSAGES[e.target.id]
        error.hidden = false
        e.target.setAttribute('aria-invalid', 'true')
      }, true)
      form.addEventListener('input', function (e) {
        if (e.target.validity.valid && $(e.target.id + '-error')) {
          $(e.target.id + '-error').hidden = true
          e.target.removeAttribute('aria-invalid')
        }
      })
    }
    form.addEventListener('submit', function (e) {
      e.preventDefault()
      if (variant === 'B' && !form.checkValidity()) {
        form.querySelector('[aria-invalid]').focus()
        return
      }
      if (!cart.count()) {
        $('checkout-summary').textContent = 'Your cart is empty: add shoes before you check out.'
        return
      }
      keep('stride:order', { number: 'S' + Math.floor(100000 + Math.random() * 900000), items: cart.count(), total: cart.total(), email: form.email.value })
      cart.save([])
      location.assign(base + '/done')
    })
  }

  function donePage () {
    if (!$('done')) return
    const order = load('stride:order', null)
    if (!order) {
      $('done').hidden = true
      $('no-order').hidden = false
      return
    }
    $('order-number').textContent = order.number
    $('order-email').textContent = order.email
    // The study's success criterion for the checkout task; sent once per order.
    window.uxlab.track('order-placed', { items: order.items, total: order.total })
    try { sessionStorage.removeItem('stride:order') } catch (e) {}
  }

  function helpPage () {
    const tabs = $('help-tabs')
    if (!tabs) return
    const show = function (topic) {
      document.querySelectorAll('.topic').forEach(function (el) { el.hidden = el.dataset.topic !== topic })
      tabs.querySelectorAll('[data-topic]').forEach(function (el) {
        if (el.dataset.topic === topic) el.setAttribute('aria-selected', 'true')
        else el.removeAttribute('aria-selected')
      })
      document.title = 'Help: ' + tabs.querySelector('[data-topic="' + topic + '"]').textContent + ' · Stride'
    }
    const topicOf = function (path) {
      const m = /\/help\/(\w+)$/.exec(path)
      return m ? m[1] : 'shipping'
    }
    tabs.addEventListener('click', function (e) {
      const tab = e.target.closest('[data-topic]')
      if (!tab || e.metaKey || e.ctrlKey) return
      e.preventDefault()
      if (topicOf(location.pathname) === tab.dataset.topic) return
      show(tab.dataset.topic)
      history.pushState({ topic: tab.dataset.topic }, '', tab.href)
    })
    window.addEventListener('popstate', function () { show(topicOf(location.pathname)) })
  }

  showCount()
  menu()
  productPage()
  cartPage()
  checkoutPage()
  donePage()
  helpPage()
}())
