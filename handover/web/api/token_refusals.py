"""Requests refused for their bearer token: limited, and audited without flooding the log.

A system left running with a revoked or expired token is refused on every request, as is
anyone presenting tokens that no client has. Each refusal counts against the client when the
token is one of ours, else against the address it came from (`API_REFUSAL_LIMIT`, default
30 a minute); past the limit the answer is 429 with ``Retry-After`` instead of 401. Only
refusals count: valid tokens from the same address are not slowed down.

An auditor needs to see that a token no longer valid was used, by which client, from where and
why; that it went on, and how much; and whether it was stopped. So the log keeps, per window of
`API_REFUSAL_AUDIT_SECONDS` (default an hour), a client's first refusal from each address
(a token used from a new address is what a stolen one looks like) while under the limit, and
then the 10th, 100th, 1000th... refusal of the client, or of unknown tokens from one address
(one refusal of an unknown token is a typo; guesses alone must not fill the log). Each event's
detail carries the count in its window and whether the limit was passed.
"""

import time

from flask import current_app, g, request
from limits import RateLimitItemPerSecond, parse

from handover.i18n import gettext as _
from handover.i18n import lazy_gettext as _l
from handover.security.throttle import limiter
from handover.services import integration_clients
from handover.web.api.problems import problem

#: Refusals one client (or one address, for tokens no client has) may have per minute.
DEFAULT_LIMIT = "30/minute"
#: The window in which a client's refusals from one address are audited once.
DEFAULT_AUDIT_SECONDS = 3600
#: Why a token of ours is refused, told to whoever presents it: they hold the token, and its
#: integrator needs to know whether to wait for a confirmation or ask for a new token.
REASONS = {
    "awaiting_confirmation": _l("This client's token works once another administrator "
                                "confirms the client."),
    "revoked": _l("This client's token was revoked."),
    "expired": _l("This client's token has expired."),
    "unit_inactive": _l("This client's unit is no longer active."),
}


def answer():
    """The answer to a request refused for its token (401, or 429 past the limit), audited
    as the module says."""
    refused = g.get("api_token_refused")
    app = current_app
    if not app.config.get("RATELIMIT_ENABLED", True):
        if refused is not None:   # nothing to count with: every known client's refusal
            integration_clients.record_refusal(refused, {})
        return _unauthorized(refused)
    subject = (f"client:{refused.client_id}" if refused is not None
               else f"address:{_address()}")
    limit = parse(app.config.get("API_REFUSAL_LIMIT") or DEFAULT_LIMIT)
    limited = not limiter.limiter.hit(limit, "api-token-refused", subject)
    window = int(app.config.get("API_REFUSAL_AUDIT_SECONDS") or DEFAULT_AUDIT_SECONDS)
    count = limiter.storage.incr(f"api-token-refusals/{subject}", window)
    if _worth_an_event(refused, subject, count, limited, window):
        integration_clients.record_refusal(refused, {
            "refusals_in_window": count, "window_seconds": window, "limited": limited})
    if limited:
        reset, _remaining = limiter.limiter.get_window_stats(limit, "api-token-refused",
                                                             subject)
        return problem(429, _("Too many requests. Wait a minute and try again."),
                       headers={"Retry-After": str(max(int(reset - time.time()), 1))})
    return _unauthorized(refused)


def _unauthorized(refused=None):
    reason = REASONS.get(refused.reason) if refused is not None else None
    return problem(401, str(reason) if reason else _("A valid bearer token is required."),
                   headers={"WWW-Authenticate": 'Bearer realm="handover", '
                                                'error="invalid_token"' if reason else
                            'Bearer realm="handover"'})


def _worth_an_event(refused, subject, count, limited, window):
    """Whether this refusal goes into the audit log (see the module's docstring)."""
    if is_milestone(count):
        return True
    if refused is None or limited:
        return False
    once = RateLimitItemPerSecond(1, window)
    return limiter.limiter.hit(once, "api-token-refused-from", subject, _address())


def is_milestone(count):
    """10, 100, 1000...: the counts at which a stream of refusals is logged again, so that
    the log tells its size to within a factor of ten in a handful of events."""
    digits = str(count)
    return count >= 10 and digits == "1" + "0" * (len(digits) - 1)


def _address():
    return request.remote_addr or "unknown"
