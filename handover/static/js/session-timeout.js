// The warning before the idle timeout (issue 14). A couple of minutes before the session would
// end, the dialog of templates/_session_warning.html opens (modal: focus moves into it, the
// rest of the page waits); "Stay signed in" or Escape posts to the refresh address and the
// countdown starts again. When the time has run out it says so and offers to log in again.
// A background save on a section page also counts as use: keep-typing.js tells this script
// (event "handover:session-extended"), and tells it when the server answered "logged out".
// Several tabs share one session: each tab tells the others (localStorage, key SHARED_KEY)
// when the session now ends, or that it has ended (logged out, or the server said so), so that
// a tab left open neither warns nor says "logged out" while the user works in another, and
// does not go on looking signed in after a logout elsewhere. What is stored is that time and
// the session's key (data-session-key, a keyed hash that names no one): another session in
// the same browser has another key, and its tabs ignore this one's times.
// A static file, configured by data- attributes: the CSP has no 'unsafe-inline'. Without
// JavaScript nothing here is needed: the page simply goes to the login when it is used.

const dialog = document.querySelector('dialog[data-session-timeout]')
const SHARED_KEY = 'handover.session-ends-at'
const ENDED = 0

if (dialog && typeof dialog.showModal === 'function' && window.fetch) {
  const form = dialog.querySelector('form')
  const stay = dialog.querySelector('[data-session-stay]')
  const login = dialog.querySelector('[data-session-login]')
  const title = dialog.querySelector('#session-warning-title')
  const text = dialog.querySelector('#session-warning-text')
  const warnBefore = Number(dialog.dataset.warnBefore || 120) * 1000
  const session = dialog.dataset.sessionKey
  let warnTimer = null
  let endTimer = null
  let returnFocus = null
  let ended = false
  let endsAt = 0

  const open = (focusOn) => {
    if (!dialog.open) {
      returnFocus = document.activeElement
      dialog.showModal()
    }
    focusOn.focus()
  }

  const close = () => {
    if (dialog.open) dialog.close()
    if (returnFocus && typeof returnFocus.focus === 'function') returnFocus.focus()
    returnFocus = null
  }

  // Tell the other tabs of this session when it ends (ENDED: it has).
  const share = (time) => {
    try {
      window.localStorage.setItem(SHARED_KEY, JSON.stringify({ session, endsAt: time }))
    } catch (error) {} // storage switched off: each tab keeps its own count
  }

  const warn = () => {
    if (!ended) open(stay.querySelector('button'))
  }

  const end = (why) => {
    if (ended) return
    ended = true
    clearTimeout(warnTimer)
    clearTimeout(endTimer)
    title.textContent = dialog.dataset.endedTitle
    text.textContent = why || dialog.dataset.endedText
    stay.hidden = true
    login.hidden = false
    open(login.querySelector('a'))
  }

  // The server says the session is over: this tab and every other one.
  const signedOut = () => {
    share(ENDED)
    end()
  }

  const scheduleUntil = (time) => {
    endsAt = time
    const left = time - Date.now()
    clearTimeout(warnTimer)
    clearTimeout(endTimer)
    warnTimer = setTimeout(warn, Math.max(left - warnBefore, 0))
    endTimer = setTimeout(() => end(), Math.max(left, 0))
  }

  // What this tab learnt from the server (a page, a refresh, a background save), told to the
  // other tabs too.
  const schedule = (seconds) => {
    if (ended || !Number.isFinite(seconds)) return
    scheduleUntil(Date.now() + seconds * 1000)
    share(endsAt)
  }

  window.addEventListener('storage', (event) => {
    if (event.key !== SHARED_KEY || !event.newValue || ended) return
    let told = null
    try {
      told = JSON.parse(event.newValue)
    } catch (error) {
      return
    }
    if (!told || told.session !== session) return
    if (told.endsAt === ENDED) return end(dialog.dataset.endedElsewhereText)
    if (!(told.endsAt > endsAt)) return
    // Another tab used the session: it ends later than this tab counted.
    scheduleUntil(told.endsAt)
    if (told.endsAt - Date.now() > warnBefore) close()
  })

  const refresh = async () => {
    const response = await fetch(form.action, {
      method: 'POST',
      body: new FormData(form),
      credentials: 'same-origin',
      headers: { Accept: 'application/json' }
    })
    if (response.status === 401) return signedOut()
    if (!response.ok) throw new Error('refresh failed: ' + response.status)
    const answer = await response.json()
    close()
    schedule(Number(answer.expires_in))
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault()
    refresh().catch(() => form.submit()) // the plain post works too: back to this page
  })

  dialog.addEventListener('cancel', (event) => {
    if (ended) return // Escape closes the "logged out" notice
    event.preventDefault()
    refresh().catch(() => form.submit())
  })

  document.addEventListener('handover:session-extended', (event) => {
    schedule(Number(event.detail && event.detail.expiresIn))
  })
  document.addEventListener('handover:signed-out', signedOut)
  const logout = document.querySelector('form.logout-form')
  if (logout) logout.addEventListener('submit', () => share(ENDED))

  schedule(Number(dialog.dataset.expiresIn))
}
