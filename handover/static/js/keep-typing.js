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
  const fingerprint = (data) => new URLSearchParams(data).toString()
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
