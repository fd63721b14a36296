"""seal TOTP secrets with the instance's key

``users.totp_secret`` held each second factor in plain text, so every database backup carried
it beside the password hashes. The column is widened for the sealed form
(``sealed-v1:<kek id>:<blob>``, see ``crypto.seal_account_secret``) and every plain secret is
sealed here, in the same transaction, with the keyring of the app running the migration
(`handover db upgrade` always runs inside it). Sealing here rather than on each user's next
login means no plain secret is left behind by users who seldom log in. A database with no
enrolled user needs no keys; one with enrolled users and no keys stops with what to do.

On SQLite ``secure_delete`` is switched on for the rewrite, so that the plain values are
overwritten in the file rather than left in freed space (PostgreSQL drops the old row versions
at its next VACUUM; they never reach a ``pg_dump``).

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op
from flask import current_app

from handover.config import ConfigurationError
from handover.security import crypto, keys

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

users = sa.table('users', sa.column('id', sa.Integer), sa.column('totp_secret', sa.String))


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        # SQLite ignores the length, so seal first: the table copy of batch mode then only
        # ever copies sealed values.
        bind.exec_driver_sql('PRAGMA secure_delete = ON')
        _seal_plain_secrets(bind)
        _widen()
    else:
        _widen()
        _seal_plain_secrets(bind)


def _widen():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=64),
                              type_=sa.String(length=255), existing_nullable=True)


def _seal_plain_secrets(bind):
    plain = [row for row in bind.execute(
        sa.select(users.c.id, users.c.totp_secret).where(users.c.totp_secret.is_not(None))
    ) if crypto.account_secret_kek(row.totp_secret) is None]
    keyring = _keyring() if plain else None
    for row in plain:
        sealed = crypto.seal_account_secret(row.totp_secret, user_id=row.id, keyring=keyring)
        bind.execute(users.update().where(users.c.id == row.id).values(totp_secret=sealed))


def downgrade():
    """Back to plain secrets: only for going back to a release that cannot read sealed ones."""
    bind = op.get_bind()
    sealed = [row for row in bind.execute(
        sa.select(users.c.id, users.c.totp_secret).where(users.c.totp_secret.is_not(None))
    ) if crypto.account_secret_kek(row.totp_secret) is not None]
    keyring = _keyring() if sealed else None
    for row in sealed:
        secret = crypto.open_account_secret(row.totp_secret, user_id=row.id, keyring=keyring)
        bind.execute(users.update().where(users.c.id == row.id).values(totp_secret=secret))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=255),
                              type_=sa.String(length=64), existing_nullable=True)


def _keyring():
    try:
        return keys.load_keyring(current_app)
    except ConfigurationError as error:
        raise ConfigurationError(
            f"{error} Users have two-factor secrets to seal: run the upgrade with the "
            "instance's key file (or HANDOVER_KEYS) in place."
        ) from None
