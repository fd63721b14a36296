// Starts GOV.UK Frontend's components (error summary focus, radios' conditional parts, the
// service menu on a phone). A static file, not an inline script, so that the Content
// Security Policy needs no 'unsafe-inline'. Pages work without it.
import { initAll } from './govuk-frontend.min.js'

document.body.classList.add('js-enabled', 'govuk-frontend-supported')
initAll()
