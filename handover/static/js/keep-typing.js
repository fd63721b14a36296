// Saves a section page's draft in the background while the user types (issue 14): a few
// seconds after the last change, and when the page is left, it posts the form's own fields
// (its CSRF and keep tokens included) to the form's own address, marked background_save=1, so
// the server answers JSON instead of leading to the next page. Nothing is sent when nothing
// changed. If the session has ended, the server keeps the text for this user and answers 401;
// the session warning (session-timeout.js) then says so. Every flow works without this file:
// the buttons post the same form.

const form = document.querySelector('form[data-keep-typing]')

if (form && window.fetch && window.FormData && window.URLSearchParams) {
  const delay = Number(form.dataset.saveDelay || 4000)
  const status = form.querySelector('[data-keep-typing-status]')
  const language = document.documentElement.lang || undefined
  let timer = null
  let submitting = false

  // The typed fields only: a chosen file is sent by the "Attach" button, not in the background.
  const typed = () => {
    const data = new FormData(form)
    for (const [name, value] of Array.from(data.entries())) {
      if (value instanceof File) data.delete(name)
    }
    return data
  }
  // The digests of what the page was loaded with (see services/draft_merging.py) are not
  // typing: the server gives new ones after each save, which must not count as a change.
  const digests = form.querySelector('[data-loaded-digests]')
  const alsoChanged = form.querySelector('[data-keep-typing-also-changed]')
  const fingerprint = (data) => {
    const copy = new URLSearchParams(data)
    copy.delete('loaded_digests')
    return copy.toString()
  }
  let lastSaved = fingerprint(typed())

  const tell = (text) => {
    if (!status) return
    const time = new Date().toLocaleTimeString(language, { hour: '2-digit', minute: '2-digit' })
    status.textContent = text + ' ' + time
  }

  const save = async (leaving) => {
    clearTimeout(timer)
    const data = typed()
    const now = fingerprint(data)
    if (submitting || now === lastSaved) return
    data.append('background_save', '1')
    try {
      const response = await fetch(form.action, {
        method: 'POST',
        body: data,
        credentials: 'same-origin',
        keepalive: leaving === true,
        headers: { Accept: 'application/json' }
      })
      if (response.ok) {
        lastSaved = now
        const answer = await response.json()
        if (digests && typeof answer.digests === 'string') digests.value = answer.digests
        if (alsoChanged && Array.isArray(answer.also_changed) && answer.also_changed.length) {
          alsoChanged.hidden = false
          alsoChanged.textContent = alsoChanged.dataset.alsoChangedText
            .replace('__FIELDS__', answer.also_changed.join('; '))
        }
        tell(form.dataset.savedText)
        document.dispatchEvent(new CustomEvent('handover:session-extended',
          { detail: { expiresIn: Number(answer.expires_in) } }))
      } else if (response.status === 401) {
        lastSaved = now // kept on the server for this user; restored after logging in
        document.dispatchEvent(new CustomEvent('handover:signed-out'))
      } else {
        tell(form.dataset.failedText)
      }
    } catch (error) {
      if (!leaving) tell(form.dataset.failedText)
    }
  }

  const later = () => {
    clearTimeout(timer)
    timer = setTimeout(save, delay)
  }

  // A file larger than the server takes is refused here, before anything is sent: posted, it
  // would be refused with the whole post, and the typing since the last save with it. The
  // message beside the input says the limit (the server says the same without this script).
  const tooLarge = (input) => {
    const most = Number(input.dataset.maxBytes || 0)
    return Boolean(most && input.files && Array.from(input.files).some((f) => f.size > most))
  }
  const fileInputs = () => Array.from(form.elements).filter(
    (element) => element.type === 'file' && element.dataset.maxBytes)
  const showSize = (input) => {
    const message = document.getElementById(input.id + '-too-large')
    const wrong = tooLarge(input)
    if (message) message.hidden = !wrong
    const described = (input.getAttribute('aria-describedby') || '').split(' ')
      .filter((id) => id && id !== input.id + '-too-large')
    if (wrong) described.push(input.id + '-too-large')
    input.setAttribute('aria-describedby', described.join(' '))
    if (wrong) input.setAttribute('aria-invalid', 'true')
    else input.removeAttribute('aria-invalid')
    return wrong
  }
  for (const input of fileInputs()) input.addEventListener('change', () => showSize(input))
  form.addEventListener('submit', (event) => {
    const wrong = fileInputs().filter(showSize)
    if (wrong.length) {
      event.preventDefault()
      event.stopImmediatePropagation()
      wrong[0].focus()
    }
  })

  form.addEventListener('input', later)
  form.addEventListener('change', later)
  form.addEventListener('submit', () => {
    submitting = true
    clearTimeout(timer)
  })
  window.addEventListener('pagehide', () => save(true))
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') save(true)
  })
}
