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

This module changes keys (`rotate`, `retire`); checking that everything still opens (`check`,
`check_secrets`, `CheckResult`) lives beside it in `key_maintenance_checks`, and is answered
here too, so callers ask this one module.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import ColumnElement, func, or_, select, update

from handover.security import crypto, key_backends, keys
from handover.services import rows_changed, sealed_secrets
from handover.services.key_maintenance_checks import (  # noqa: F401  (asked through here)
    CheckResult,
    check,
    check_secrets,
)
from handover.store import audit
from handover.store.database import db
from handover.store.models import Handover


class KeyOperationRefused(RuntimeError):
    """The operation would lose data or cannot be done here; the message says what to do."""


#: The label of handovers' data keys beside the sealed secrets' (`sealed_secrets.KINDS`).
DATA_KEY = "data key"


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
    #: Webhook endpoints' signing secrets re-sealed (``resealed_secrets`` counts TOTP's).
    resealed_endpoints: int = 0

    def failed_of(self, kind: sealed_secrets.SealedColumn) -> list[int]:
        return self.failed_secrets if kind is sealed_secrets.TOTP else self.failed_endpoints

    def done(self) -> dict[str, int]:
        """How many of each kind moved onto the new KEK, as `unfinished_by_kind` counts them."""
        return {DATA_KEY: self.rewrapped, sealed_secrets.TOTP.label: self.resealed_secrets,
                sealed_secrets.WEBHOOK.label: self.resealed_endpoints}


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


def unfinished_by_kind(kek_id: str | None) -> dict[str, int]:
    """What `unfinished_count` adds up, by kind: data keys, then each kind of sealed secret
    by its label, for telling the operator."""
    counts = {DATA_KEY: db.session.scalar(
        select(func.count(Handover.id)).where(*_not_on(kek_id))) or 0}
    for kind in sealed_secrets.KINDS:
        counts[kind.label] = db.session.scalar(
            select(func.count()).select_from(kind.model)
            .where(*sealed_secrets.not_on(kind, kek_id))) or 0
    return counts


def counted(counts: dict[str, int]) -> str:
    """Counts by kind in words, e.g. "10 data keys and 13 two-factor secrets": data keys
    always, a kind of secret when there is any, so that what a rotation has to do and what it
    did read alike."""
    parts = [f"{count} {label}{'' if count == 1 else 's'}" for label, count in counts.items()
             if count or label == DATA_KEY]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def rotate(*, batch_size: int = 100, resume_only: bool = False,
           echo: Echo = lambda message: None) -> RotationResult:
    """Make a new KEK active (unless a rotation is unfinished) and re-wrap every data key."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    backend = key_backends.active_backend()
    active_id = _active_id(backend)
    pending = unfinished_by_kind(active_id) if active_id else {}
    resumed = any(pending.values()) or resume_only
    if resumed and any(pending.values()):
        echo(f"Continuing the rotation to {active_id}: {counted(pending)} left to re-wrap.")
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
        echo(f"Added {active_id} as the active KEK; "
             f"{counted(unfinished_by_kind(active_id))} to re-wrap.")
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
            else:
                result.resealed_endpoints += resealed
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
