"""Key operations over the whole database: rotating the KEK, retiring an old one, and checking
that every sealed value still opens. `handover keys ...` calls these; each is audited.

Rotation is resumable without bookkeeping of its own: a data key that still names an older KEK
is, by definition, not re-wrapped yet. So a rotation that finds such rows finishes them onto the
active KEK instead of adding yet another KEK, and re-running after a crash simply continues.
Each batch commits on its own, so a crash loses at most one batch of work and never a key: the
old KEK stays in the keyring until `retire` proves no row needs it.

Users' TOTP secrets and webhook endpoints' signing secrets are sealed straight under a KEK
(`crypto.seal_account_secret`; the kinds are listed in `services.sealed_secrets`), so a
rotation re-seals them too, `retire` counts them, and `check` opens them.

The KEKs live in a key backend (`security.key_backends`): the key file or an HSM. A rotation
always goes onto the active backend's KEK, so switching ``HANDOVER_KEY_BACKEND`` from ``file``
to ``pkcs11`` and running `handover keys rotate` moves every handover into the HSM; rows not
yet moved keep opening through the file until `retire` removes its KEK.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

from sqlalchemy import ColumnElement, Row, func, or_, select, update

from handover.security import crypto, key_backends, keys
from handover.services import rows_changed, sealed_secrets
from handover.store import audit
from handover.store.database import db
from handover.store.models import Attachment, Handover, Reply


class KeyOperationRefused(RuntimeError):
    """The operation would lose data or cannot be done here; the message says what to do."""


@dataclass
class RotationResult:
    kek_id: str
    resumed: bool
    rewrapped: int = 0
    #: Handovers whose data key did not open.
    failed: list[int] = field(default_factory=list)
    resealed_secrets: int = 0
    #: Users whose TOTP secret did not open: they need a two-factor reset by an admin.
    failed_secrets: list[int] = field(default_factory=list)
    #: Webhook endpoints whose signing secret did not open: register them again.
    failed_endpoints: list[int] = field(default_factory=list)

    def failed_of(self, kind: sealed_secrets.SealedColumn) -> list[int]:
        return self.failed_secrets if kind is sealed_secrets.TOTP else self.failed_endpoints


class CheckResult(NamedTuple):
    """What `check` found: how many handovers it opened, the parts that failed by handover
    id, the users whose two-factor secret and the webhook endpoints whose signing secret do
    not open."""

    checked: int
    failures: dict[int, list[str]]
    failed_secrets: list[int]
    #: Webhook endpoints whose signing secret does not open.
    failed_endpoints: list[int]


#: Told each step of a long operation (``click.echo`` on the command line).
Echo = Callable[[str], None]


def _after_batch(batch_number: int) -> None:
    """Called after each committed batch; tests replace it to simulate a crash half-way."""


def _not_on(kek_id: str | None) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """Rows whose live data key is wrapped by some KEK other than ``kek_id``."""
    return (
        Handover.wrapped_key.is_not(None),
        or_(Handover.kek_id != kek_id, Handover.kek_id.is_(None)),
    )


#: How often a rotation sweeps again for rows that workers wrapped with the previous KEK
#: while it ran (a worker learns of the new KEK on its next use of the backend).
SWEEPS = 5


def unfinished_count(kek_id: str | None) -> int:
    """Data keys and sealed secrets still on a KEK other than ``kek_id``."""
    return ((db.session.scalar(select(func.count(Handover.id)).where(*_not_on(kek_id))) or 0)
            + sealed_secrets.count_not_on(kek_id))


def rotate(*, batch_size: int = 100, resume_only: bool = False,
           echo: Echo = lambda message: None) -> RotationResult:
    """Make a new KEK active (unless a rotation is unfinished) and re-wrap every data key."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    backend = key_backends.active_backend()
    active_id = _active_id(backend)
    pending = unfinished_count(active_id) if active_id else 0
    resumed = bool(pending) or resume_only
    if resumed and pending:
        echo(f"Continuing the rotation to {active_id}: {pending} data keys left to re-wrap.")
    elif resumed and active_id is None:
        raise KeyOperationRefused(
            f"The {backend.describe()} key backend holds no KEK yet; run `handover keys rotate` "
            "without --resume to create one.")
    elif resumed:
        echo(f"Nothing to resume: every data key is already wrapped by {active_id}.")
    else:
        try:
            active_id = backend.add_kek()
        except keys.KeysFromEnvironment as error:
            raise KeyOperationRefused(str(error)) from None
        except key_backends.KeyBackendUnavailable as error:
            raise KeyOperationRefused(f"The key backend is unavailable: {error}") from None
        audit.record("keys.rotation_started", detail={"kek": active_id})
        db.session.commit()
        pending = unfinished_count(active_id)
        echo(f"Added {active_id} as the active KEK; {pending} data keys to re-wrap.")
    result = RotationResult(kek_id=cast(str, active_id), resumed=resumed)
    for _sweep in range(SWEEPS):
        _rewrap_all(result, batch_size, echo)
        _reseal_secrets(result, batch_size, echo)
        if unfinished_count(active_id) <= (len(result.failed) + len(result.failed_secrets)
                                           + len(result.failed_endpoints)):
            break
    complete = not result.failed and not result.failed_secrets and not result.failed_endpoints
    audit.record("keys.rotated", outcome="ok" if complete else "incomplete",
                 detail={"kek": active_id, "rewrapped": result.rewrapped,
                         "failed": len(result.failed), "resumed": resumed,
                         "resealed_secrets": result.resealed_secrets,
                         "failed_secrets": len(result.failed_secrets),
                         "failed_endpoints": len(result.failed_endpoints)})
    db.session.commit()
    return result


def _rewrap_all(result: RotationResult, batch_size: int, echo: Echo) -> None:
    last_id = 0
    batch_number = 0
    while True:
        rows = db.session.execute(
            select(Handover.id, Handover.kek_id, Handover.wrapped_key)
            .where(*_not_on(result.kek_id), Handover.id > last_id)
            .order_by(Handover.id).limit(batch_size)
        ).all()
        if not rows:
            return
        keyring = keys.load_keyring()
        if _active_id(key_backends.active_backend()) != result.kek_id:
            raise KeyOperationRefused(
                "The active KEK changed during the rotation; run `handover keys rotate` again."
            )
        for row in rows:
            if row.id in result.failed:
                continue
            try:
                data_key = crypto.unwrap_data_key(row.kek_id, row.wrapped_key, row.id,
                                                  keyring=keyring)
            except crypto.TamperedRecord:
                result.failed.append(row.id)
                continue
            wrapped = crypto.rewrap_data_key(data_key, row.id, result.kek_id)
            # Compare-and-set: if retention erased the key meanwhile, it must stay erased.
            changed = rows_changed(db.session.execute(
                update(Handover)
                .where(Handover.id == row.id, Handover.kek_id == row.kek_id,
                       Handover.wrapped_key == row.wrapped_key)
                .values(kek_id=result.kek_id, wrapped_key=wrapped)
                .execution_options(synchronize_session=False)
            ))
            result.rewrapped += changed
        db.session.commit()
        batch_number += 1
        last_id = rows[-1].id
        echo(f"Batch {batch_number}: re-wrapped {result.rewrapped} so far.")
        _after_batch(batch_number)


def _reseal_secrets(result: RotationResult, batch_size: int, echo: Echo) -> None:
    """Re-seal every sealed secret onto the new KEK, in committed batches like the data keys."""
    for kind in sealed_secrets.KINDS:
        last_id: int | None = 0
        while last_id is not None:
            failed = result.failed_of(kind)
            last_id, resealed, newly_failed = sealed_secrets.reseal_batch(
                kind, result.kek_id, last_id, batch_size, keys.load_keyring(), set(failed))
            failed.extend(newly_failed)
            if kind is sealed_secrets.TOTP:
                result.resealed_secrets += resealed
            if last_id is not None:
                echo(f"Re-sealed {result.resealed_secrets} two-factor secrets so far."
                     if kind is sealed_secrets.TOTP else f"Re-sealed {kind.label}s up to "
                     f"endpoint {last_id}.")


def _active_id(backend: key_backends.KeyBackend) -> str | None:
    try:
        return cast(str | None, backend.active_kek_id())
    except key_backends.KeyBackendUnavailable as error:
        raise KeyOperationRefused(f"The key backend is unavailable: {error}") from None


def retire(kek_id: str, *, echo: Echo = lambda message: None) -> None:
    """Remove ``kek_id`` from its backend (key file or HSM) once no live data key or
    two-factor secret is wrapped by it."""
    backend = key_backends.backend_for(kek_id)
    try:
        held = backend is not None and kek_id in backend.kek_ids()
    except key_backends.KeyBackendUnavailable as error:
        raise KeyOperationRefused(f"The key backend is unavailable: {error}") from None
    if backend is None or not held:
        raise KeyOperationRefused(f"There is no KEK {kek_id} in the keyring.")
    if kek_id == _active_id(key_backends.active_backend()):
        raise KeyOperationRefused(f"{kek_id} is the active KEK; rotate to a new one first.")
    in_use = db.session.scalar(
        select(func.count(Handover.id))
        .where(Handover.kek_id == kek_id, Handover.wrapped_key.is_not(None))
    )
    if in_use:
        raise KeyOperationRefused(
            f"{kek_id} still wraps {in_use} data keys; run `handover keys rotate` to finish "
            "re-wrapping them first."
        )
    still_sealed = sealed_secrets.count_sealed_by(kek_id)
    if still_sealed:
        counted = " and ".join(f"{count} {label}s" for label, count in still_sealed.items())
        raise KeyOperationRefused(
            f"{kek_id} still seals {counted}; run `handover keys rotate` to finish "
            "re-sealing them first."
        )
    if backend.name == "file" and keys.keys_from_environment():
        raise KeyOperationRefused(
            f"No data key uses {kek_id} any more, but the keys come from HANDOVER_KEYS: "
            "remove it there, in your secret store."
        )
    audit.record("keys.retired", detail={"kek": kek_id})
    db.session.flush()
    backend.retire_kek(kek_id)
    db.session.commit()
    echo(f"Retired {kek_id}.")


def check(*, batch_size: int = 100) -> CheckResult:
    """Open every sealed value; ``(checked, failures, failed_secrets)`` where failures maps
    handover id to the parts that failed ("data key", "content", "reply 7", ...) and
    failed_secrets lists the users whose two-factor secret does not open. Erased handovers are
    skipped."""
    keyring = keys.load_keyring()
    failures: dict[int, list[str]] = {}
    checked = 0
    last_id = 0
    while True:
        handovers = db.session.execute(
            select(Handover.id, Handover.status, Handover.form_key, Handover.form_version,
                   Handover.kek_id, Handover.wrapped_key, Handover.erased_at,
                   Handover.content, Handover.summary, Handover.acknowledgement_note)
            .where(Handover.id > last_id).order_by(Handover.id).limit(batch_size)
        ).all()
        if not handovers:
            break
        for handover in handovers:
            if handover.erased_at is not None and handover.wrapped_key is None:
                continue
            checked += 1
            failed = _check_handover(handover, keyring)
            if failed:
                failures[handover.id] = failed
        last_id = handovers[-1].id
    # Two-factor secrets are sealed under the KEKs too: a key problem locks people out.
    failed_secrets = check_secrets()
    failed_endpoints = sealed_secrets.failing(sealed_secrets.WEBHOOK, keyring)
    audit.record("keys.checked",
                 outcome="ok" if not (failures or failed_secrets or failed_endpoints)
                 else "failed",
                 detail={"checked": checked, "failed": len(failures),
                         "failed_secrets": len(failed_secrets),
                         "failed_endpoints": len(failed_endpoints)})
    db.session.commit()
    return CheckResult(checked, failures, failed_secrets, failed_endpoints)


def check_secrets() -> list[int]:
    """Open every user's TOTP secret; the ids of users whose secret does not open."""
    return sealed_secrets.failing(sealed_secrets.TOTP, keys.load_keyring())


def _check_handover(handover: Row[*tuple[Any, ...]], keyring: dict[str, Any]) -> list[str]:
    binding = {"handover_id": handover.id, "form_key": handover.form_key,
               "form_version": handover.form_version}
    stored: list[tuple[str, bytes | None, str, int | None]] = [
        ("content", handover.content,
         crypto.Purpose.DRAFT if handover.status == "draft" else crypto.Purpose.CONTENT, None),
        ("summary", handover.summary, crypto.Purpose.SUMMARY, None),
        ("acknowledgement note", handover.acknowledgement_note,
         crypto.Purpose.ACKNOWLEDGEMENT, None)]
    for reply_id, body in db.session.execute(
        select(Reply.id, Reply.body).where(Reply.handover_id == handover.id).order_by(Reply.id)
    ):
        stored.append((f"reply {reply_id}", body, crypto.Purpose.REPLY, reply_id))
    attachment_ids = db.session.scalars(
        select(Attachment.id).where(Attachment.handover_id == handover.id).order_by(Attachment.id)
    ).all()
    sealed = [(label, blob, purpose, record_id) for label, blob, purpose, record_id in stored
              if blob is not None]
    if handover.wrapped_key is None:
        # A draft that never got a key is fine; sealed values without a key are not.
        return ["data key"] if sealed or attachment_ids else []
    try:
        data_key = crypto.unwrap_data_key(handover.kek_id, handover.wrapped_key, handover.id,
                                          keyring=keyring)
    except crypto.TamperedRecord:
        return ["data key"]
    failed = [label for label, blob, purpose, record_id in sealed
              if not _opens(data_key, blob, purpose=purpose, record_id=record_id, **binding)]
    # One attachment at a time: bodies may be megabytes each.
    for attachment_id in attachment_ids:
        filename, body = db.session.execute(
            select(Attachment.filename, Attachment.body).where(Attachment.id == attachment_id)
        ).one()
        for part, blob, purpose in (("name", filename, crypto.Purpose.ATTACHMENT_NAME),
                                    ("body", body, crypto.Purpose.ATTACHMENT)):
            if blob is not None and not _opens(data_key, blob, purpose=purpose,
                                               record_id=attachment_id, **binding):
                failed.append(f"attachment {attachment_id} {part}")
    return failed


def _opens(data_key: bytes, blob: bytes, **binding: object) -> bool:
    try:
        crypto.open_sealed(data_key, blob, **binding)
    except crypto.TamperedRecord:
        return False
    return True
