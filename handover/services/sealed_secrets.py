"""Secrets sealed straight under a KEK, outside any handover: what key maintenance must carry
along when it rotates, retires or checks a KEK.

Two kinds today: users' TOTP secrets and webhook endpoints' signing secrets. Each is stored as
``crypto.seal_account_secret`` text bound to its row's id and its purpose, so a KEK that is
retired while one of them still names it would lock a person out or silence an integration.
Listing them in one place keeps `key_maintenance` from knowing each kind by name.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select, update

from handover.security import crypto
from handover.services import rows_changed
from handover.services.webhooks import SEAL_PURPOSE as WEBHOOK_PURPOSE
from handover.store.database import db
from handover.store.models import User, WebhookEndpoint


@dataclass(frozen=True)
class SealedColumn:
    """One column of sealed secrets: its model, the column, and the purpose it is sealed for."""

    label: str
    model: Any
    column: Any
    purpose: str


TOTP = SealedColumn("two-factor secret", User, User.totp_secret, "totp")
WEBHOOK = SealedColumn("webhook signing secret", WebhookEndpoint, WebhookEndpoint.secret,
                       WEBHOOK_PURPOSE)
KINDS = (TOTP, WEBHOOK)


def sealed_by(kind: SealedColumn, kek_id: str) -> ColumnElement[bool]:
    return kind.column.startswith(f"{crypto.ACCOUNT_SEAL_PREFIX}{kek_id}:", autoescape=True)


def not_on(kind: SealedColumn, kek_id: str | None) -> list[ColumnElement[bool]]:
    """Rows of ``kind`` holding a secret sealed by a KEK other than ``kek_id``."""
    present = kind.column.is_not(None)
    return [present] if kek_id is None else [present, ~sealed_by(kind, kek_id)]


def count_not_on(kek_id: str | None) -> int:
    return sum(db.session.scalar(select(func.count()).select_from(kind.model)
                                 .where(*not_on(kind, kek_id))) or 0 for kind in KINDS)


def count_sealed_by(kek_id: str) -> dict[str, int]:
    """{label: how many} of the secrets ``kek_id`` still seals, kinds with none left out."""
    counts = {kind.label: db.session.scalar(select(func.count()).select_from(kind.model)
                                            .where(sealed_by(kind, kek_id))) or 0
              for kind in KINDS}
    return {label: count for label, count in counts.items() if count}


def reseal_batch(kind: SealedColumn, kek_id: str, after_id: int, batch_size: int,
                 keyring: dict[str, Any], skip: set[int]) -> tuple[int | None, int, list[int]]:
    """Re-seal the next batch of ``kind`` onto the active KEK (``kek_id``) and commit.

    Returns (last id seen or None when none were left, how many were re-sealed, ids whose
    secret did not open). Compare-and-set: a secret replaced meanwhile is left as it is now."""
    rows = db.session.execute(
        select(kind.model.id, kind.column)
        .where(*not_on(kind, kek_id), kind.model.id > after_id)
        .order_by(kind.model.id).limit(batch_size)
    ).all()
    if not rows:
        return None, 0, []
    resealed, failed = 0, []
    for row_id, stored in rows:
        if row_id in skip:
            continue
        try:
            secret = crypto.open_account_secret(stored, user_id=row_id, purpose=kind.purpose,
                                                keyring=keyring)
        except crypto.TamperedRecord:
            failed.append(row_id)
            continue
        sealed = crypto.seal_account_secret(secret, user_id=row_id, purpose=kind.purpose)
        resealed += rows_changed(db.session.execute(
            update(kind.model).where(kind.model.id == row_id, kind.column == stored)
            .values({kind.column.key: sealed}).execution_options(synchronize_session=False)
        ))
    db.session.commit()
    return rows[-1][0], resealed, failed


def failing(kind: SealedColumn, keyring: dict[str, Any]) -> list[int]:
    """Ids of the rows of ``kind`` whose secret does not open."""
    failed: list[int] = []
    for row_id, stored in db.session.execute(
        select(kind.model.id, kind.column).where(kind.column.is_not(None))
        .order_by(kind.model.id)
    ):
        try:
            crypto.open_account_secret(stored, user_id=row_id, purpose=kind.purpose,
                                       keyring=keyring)
        except crypto.TamperedRecord:
            failed.append(row_id)
    return failed
