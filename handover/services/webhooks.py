"""Webhooks: an integration learns that something happened to a handover of its unit.

An administrator registers, for a unit, an HTTPS endpoint and the events it wants. When one of
them happens, the action adds one outbox row per subscribed endpoint in its own transaction
(`record`), and the worker POSTs it (`send_webhook`) with the outbox's retries. The body carries
only the event, the handover id and times, never content: the receiving system fetches the
content with its own API token, through the same policy and audit as everyone else.

Each request is signed with HMAC-SHA256 over ``"{timestamp}.{body}"`` with the endpoint's
secret (header ``Handover-Signature: t=<timestamp>,v1=<hex>``; see docs/api.md). The secret is
shown once when the endpoint is made and stored sealed with the instance key, bound to the
endpoint, like the users' TOTP secrets.
"""

import hashlib
import hmac
import ipaddress
import json
import re
import secrets
import time
import urllib.request
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import bindparam, select

from handover.i18n import lazy_gettext as _l
from handover.security import crypto
from handover.services import LifecycleError, NotFound, bounded_post, deliveries
from handover.store import audit
from handover.store.database import db
from handover.store.models import (
    Delivery,
    Handover,
    HandoverCopy,
    Unit,
    User,
    WebhookEndpoint,
)

#: Every event an endpoint may ask for, in the order the admin page lists them.
EVENTS = ("arrived", "opened", "acknowledged", "replied", "returned", "withdrawn", "updated")
SEAL_PURPOSE = "webhook"
TIMEOUT_SECONDS = 10
#: Hosts a plain-http endpoint may use (a receiver on the same machine, and the tests).
LOOPBACK = ("127.0.0.1", "localhost", "::1")
#: One label of a host name: letters (any script: an IDN), digits and inner hyphens.
_HOST_LABEL = re.compile(r"^(?!-)[^\W_](?:[\w-]{0,61}[^\W_])?$")


class WebhookError(LifecycleError):
    """The endpoint cannot be registered as given; the message is for the administrator."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is a failure: the signed body goes only where it was sent


def check_url(url: str) -> str:
    """``url`` without surrounding spaces, if it is an address a webhook can be POSTed to;
    else `WebhookError` saying what is wrong with it."""
    url = (url or "").strip()
    if len(url) > 500:
        raise WebhookError(_l("The address is too long."))
    if any(character.isspace() or not character.isprintable() for character in url):
        raise WebhookError(_l("The address cannot contain spaces."))
    bad_host = WebhookError(_l("Check the address: the server's name is not valid."))
    bad_port = WebhookError(_l("Check the address: the port must be a number from 1 to "
                               "65535."))
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:   # an IPv6 address without its closing "]"
        raise bad_host from None
    try:
        port = parts.port
    except ValueError:   # out of range, or not a number
        raise bad_port from None
    if not hostname or parts.scheme not in ("https", "http"):
        raise WebhookError(_l("Give the full address, starting with https://."))
    if not _is_host(hostname, ip_literal=parts.netloc.rpartition("@")[2].startswith("[")):
        raise bad_host
    if port == 0:
        raise bad_port
    if parts.scheme == "http" and hostname not in LOOPBACK:
        raise WebhookError(_l("The address must start with https://."))
    return url


def _is_host(hostname: str, ip_literal: bool) -> bool:
    """A DNS name or an IP address; within brackets only an IPv6 address."""
    try:
        address = ipaddress.ip_address(hostname)
    except ValueError:
        address = None
    if ip_literal:
        return address is not None and address.version == 6
    if address is not None:
        return True
    labels = hostname.removesuffix(".").split(".")
    return len(hostname) <= 253 and all(_HOST_LABEL.match(label) for label in labels)


def create_endpoint(actor: User | None, unit_id: int, url: str,
                    events: Iterable[str]) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it and its signing secret, which is shown only now."""
    chosen = [event for event in EVENTS if event in set(events)]
    if not chosen:
        raise WebhookError(_l("Choose at least one event."))
    endpoint = WebhookEndpoint(unit_id=unit_id, url=check_url(url), events=" ".join(chosen),
                               active=True)
    db.session.add(endpoint)
    db.session.flush()
    secret = "whsec_" + secrets.token_urlsafe(32)
    endpoint.secret = crypto.seal_account_secret(secret, user_id=endpoint.id,
                                                 purpose=SEAL_PURPOSE)
    audit.record("admin.webhook_created", actor=actor, unit_id=unit_id,
                 detail={"endpoint": endpoint.id, "events": chosen})
    db.session.commit()
    return endpoint, secret


def remove_endpoint(actor: User | None, endpoint_id: int) -> bool:
    """Switch an endpoint off; its deliveries stay on record, waiting ones are not sent.
    False when it is off already; `NotFound` when there is no such endpoint."""
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(endpoint_id)
    if not endpoint.active:
        return False
    endpoint.active = False
    audit.record("admin.webhook_removed", actor=actor, unit_id=endpoint.unit_id,
                 detail={"endpoint": endpoint.id})
    db.session.commit()
    return True


def endpoints(unit_id: int | None = None) -> list[WebhookEndpoint]:
    query = select(WebhookEndpoint).where(WebhookEndpoint.active)
    if unit_id is not None:
        query = query.where(WebhookEndpoint.unit_id == unit_id)
    return list(db.session.execute(query.order_by(WebhookEndpoint.id)).scalars())


def secret_of(endpoint: WebhookEndpoint) -> str:
    if endpoint.secret is None:
        raise crypto.TamperedRecord(f"webhook endpoint {endpoint.id} has no secret")
    return crypto.open_account_secret(endpoint.secret, user_id=endpoint.id,
                                      purpose=SEAL_PURPOSE)


#: Events of the thread, which a copy unit does not see (it gets neither the thread nor the
#: replies), so it is not told of them either.
THREAD_EVENTS = ("replied",)


def _units_told(event: str, handover: Handover,
                receiving: Iterable[int | None] | None) -> list[int]:
    """Who hears of an event: the receiving side of an arrival; the sender and the receiver
    of a reply (`THREAD_EVENTS`); every unit of the handover (sender, receiver, copies) of
    anything else. ``receiving`` (receiver, then copies) saves asking when the caller has just
    read them."""
    if event in THREAD_EVENTS:
        receiving = [handover.receiver_unit_id]
    if receiving is None:
        receiving = [handover.receiver_unit_id, *db.session.execute(
            select(HandoverCopy.unit_id).where(HandoverCopy.handover_id == handover.id)
        ).scalars()]
    units = list(receiving)
    if event != "arrived":
        units.append(handover.sender_unit_id)
    return [unit_id for unit_id in dict.fromkeys(units) if unit_id is not None]


def record(event: str, handover: Handover, *, occurrence: str = "",
           receiving: Iterable[int | None] | None = None,
           now: datetime | None = None) -> list[int]:
    """Add the event's rows for every subscribed endpoint to the caller's transaction.
    ``occurrence`` tells apart events that may happen more than once (each reply)."""
    unit_ids = _units_told(event, handover, receiving)
    if not unit_ids:
        return []
    subscribed = db.session.execute(_SUBSCRIBED, {"unit_ids": unit_ids}).all()
    added = [deliveries.add(deliveries.WEBHOOK, event, handover.id, f"endpoint:{endpoint.id}",
                            unit_id=endpoint.unit_id, endpoint_id=endpoint.id,
                            occurrence=occurrence, now=now)
             for endpoint in subscribed if event in endpoint.events.split()]
    return [delivery_id for delivery_id in added if delivery_id is not None]


#: The active endpoints of some units, built once: every send and first view asks it, and
#: most units subscribe nothing.
_SUBSCRIBED = (select(WebhookEndpoint.id, WebhookEndpoint.unit_id, WebhookEndpoint.events)
               .join(Unit, Unit.id == WebhookEndpoint.unit_id)
               .where(WebhookEndpoint.unit_id.in_(bindparam("unit_ids", expanding=True)),
                      WebhookEndpoint.active, Unit.is_active))


def body_of(row: Delivery) -> bytes:
    """The JSON body: the event, the handover, the unit whose endpoint it is, and times."""
    return json.dumps({
        "event": row.event,
        "handover_id": row.handover_id,
        "unit_id": row.unit_id,
        "occurred_at": row.occurred_at.isoformat(timespec="seconds"),
        "delivery_id": deliveries.message_id(row).strip("<>").split("@")[0],
    }, separators=(",", ":"), sort_keys=True).encode("utf-8")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 over ``"{timestamp}.{body}"``, as hex; see docs/api.md."""
    signed = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def send_webhook(row: Delivery) -> None:
    """POST one event; any answer but 2xx (or no answer) raises `DeliveryFailed`."""
    endpoint = db.session.get(WebhookEndpoint, row.endpoint_id)
    if endpoint is None or not endpoint.active:
        # Dropped, as removing it promises: not tried for three days and then "failed".
        raise deliveries.NoLongerDue("endpoint removed")
    unit = db.session.get(Unit, endpoint.unit_id)
    if unit is None or not unit.is_active:   # its system is refused on the API too
        raise deliveries.NoLongerDue("unit deactivated")
    body = body_of(row)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Handover-Webhooks/1",
        "Handover-Event": row.event,
        "Handover-Delivery": json.loads(body)["delivery_id"],
        "Handover-Signature": f"t={timestamp},v1={signature(secret_of(endpoint), timestamp, body)}",
    }
    url = check_url(endpoint.url)  # http(s) only
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310
    # The whole try, not each wait on the socket: see `bounded_post`.
    timeout = float(current_app.config.get("WEBHOOK_TIMEOUT") or TIMEOUT_SECONDS)
    try:
        status = bounded_post.status_of(request, timeout, _NoRedirect())
    except bounded_post.TookTooLong as error:
        raise deliveries.DeliveryFailed("timeout") from error
    except (OSError, ValueError) as error:
        raise deliveries.DeliveryFailed(type(error).__name__) from error
    if not 200 <= status < 300:
        raise deliveries.DeliveryFailed(f"HTTP {status}")

