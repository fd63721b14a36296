"""The ``Idempotency-Key`` of an API write: the same key again makes nothing new.

A key is one row per (client, key), and the database refuses a second (the unique constraint
on ``idempotency_keys``), so whichever of two concurrent requests inserts it first is the one
that makes the handover. A send writes its key in the send's own transaction (`remember` with
``commit=False``): the key exists exactly when the send does. A draft takes two commits of its
own (`drafts.start`, `drafts.save`), so its key is claimed first, in a transaction of its own,
before anything is made (`claim`), and then names the draft made (`fulfil`); the request that
lost the claim waits for that and answers with the same draft, as a retry would (`remembered`).
"""

import hashlib
import time
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from handover.services import commit_keeping_loaded, rows_changed
from handover.services.integration_clients import ClientActor
from handover.store.database import db
from handover.store.models import IdempotencyKey
from handover.store.models.base import utcnow

#: How long a request waits for the one that claimed its key to make the draft (a draft takes
#: well under a second); past it, `IdempotencyPending`.
WAIT_SECONDS = 10.0
POLL_SECONDS = 0.05
#: A claim this old that names no draft was left by a request that died midway (a worker
#: killed at its timeout, far shorter than this); a retry may then claim the key itself.
ABANDONED_AFTER = timedelta(minutes=5)


class IdempotencyConflict(Exception):
    """The key was already used by this client for a different request."""


class IdempotencyPending(Exception):
    """The request that claimed the key has not yet made its handover."""


def remembered(actor: ClientActor, key: str, operation: str) -> int | None:
    """The handover id an earlier request with ``key`` made, or None when the key is free.
    Raises `IdempotencyConflict` when the key was used for another operation. While another
    request holding the key is still making its handover, waits up to `WAIT_SECONDS` for it
    (then `IdempotencyPending`)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        row = db.session.execute(
            select(IdempotencyKey.operation, IdempotencyKey.handover_id,
                   IdempotencyKey.created_at)
            .where(IdempotencyKey.client_id == actor.client.id, IdempotencyKey.key == key)
        ).first()
        if row is None:
            return None
        if row.operation != operation:
            raise IdempotencyConflict(key)
        if row.handover_id is not None:
            return int(row.handover_id)
        if row.created_at < utcnow() - ABANDONED_AFTER:
            return None   # its request died: `claim_or_wait` takes the key over
        if time.monotonic() > deadline:
            raise IdempotencyPending(key)
        time.sleep(POLL_SECONDS)


def claim_or_wait(actor: ClientActor, key: str, operation: str) -> int | None:
    """None when this request now holds ``key`` and is the one to make the handover (then
    `fulfil` or `release` it); else the id of the handover another request with the key made,
    after waiting for it as `remembered` does. A holder that gave the key back (its request
    failed) lets this one claim it instead."""
    for _attempt in range(3):
        earlier = remembered(actor, key, operation)
        if earlier is not None:
            return earlier
        if _claim(actor, key, operation):
            return None
    raise IdempotencyPending(key)


def _claim(actor: ClientActor, key: str, operation: str) -> bool:
    """Insert the key's row, committed at once, or take over an abandoned claim of it: whether
    this request now holds it. The unique (client, key) lets one request only win."""
    db.session.add(IdempotencyKey(client_id=actor.client.id, key=key, operation=operation))
    try:
        commit_keeping_loaded()
        return True
    except IntegrityError:
        db.session.rollback()
    taken = db.session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.client_id == actor.client.id, IdempotencyKey.key == key,
               IdempotencyKey.operation == operation, IdempotencyKey.handover_id.is_(None),
               IdempotencyKey.created_at < utcnow() - ABANDONED_AFTER)
        .values(created_at=utcnow()).execution_options(synchronize_session=False))
    commit_keeping_loaded()
    return rows_changed(taken) == 1


def fulfil(actor: ClientActor, key: str, handover_id: int) -> int:
    """The claimed ``key`` made ``handover_id``: requests waiting on it answer with that.
    Returns the handover the key names now: another one only when this request was so slow
    that its claim was taken over (`ABANDONED_AFTER`) and the other request finished first;
    the caller then answers with that one and throws its own away."""
    named = db.session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.client_id == actor.client.id, IdempotencyKey.key == key,
               IdempotencyKey.handover_id.is_(None))
        .values(handover_id=handover_id).execution_options(synchronize_session=False))
    commit_keeping_loaded()
    if rows_changed(named) == 1:
        return handover_id
    other = db.session.execute(select(IdempotencyKey.handover_id).where(
        IdempotencyKey.client_id == actor.client.id, IdempotencyKey.key == key)).scalar()
    return int(other) if other is not None else handover_id


def release(actor: ClientActor, key: str) -> None:
    """Give back a claimed ``key`` whose request made nothing, so that a retry may make it."""
    db.session.rollback()
    db.session.execute(
        delete(IdempotencyKey)
        .where(IdempotencyKey.client_id == actor.client.id, IdempotencyKey.key == key,
               IdempotencyKey.handover_id.is_(None))
        .execution_options(synchronize_session=False))
    commit_keeping_loaded()


def remember(actor: ClientActor, key: str, operation: str, handover_id: int, *,
             commit: bool = True) -> None:
    """Keep ``key`` as having made ``handover_id``. With ``commit=False`` the row waits in the
    session for the caller's next commit: a send commits it with the handover's own change, so
    the key exists exactly when the send does, and the send costs no commit of its own."""
    db.session.add(IdempotencyKey(client_id=actor.client.id, key=key, operation=operation,
                                  handover_id=handover_id))
    if commit:
        db.session.commit()


def submission_token(actor: ClientActor, key: str) -> str:
    """The send's submission token for a client's idempotency key: a second send of the same
    draft with the same key finds the first (`sending.send`), whoever retried it."""
    return hashlib.sha256(f"api:{actor.client.id}:{key}".encode()).hexdigest()
