"""the JSON API's integration clients and idempotency keys (issue 17)

An integration client acts for one unit with scopes (or, for an auditor's archive, reads the
audit log); only the SHA-256 of its bearer token is stored. An idempotency key remembers which
handover a client's write made, so that the same key again makes no second one.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

import handover.store.models.base

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('integration_clients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('scopes', sa.String(length=500), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('token_prefix', sa.String(length=16), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', handover.store.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', handover.store.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', handover.store.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('integration_clients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_integration_clients_unit_id'), ['unit_id'],
                              unique=False)

    op.create_table('idempotency_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('operation', sa.String(length=64), nullable=False),
    sa.Column('handover_id', sa.Integer(), nullable=True),
    sa.Column('created_at', handover.store.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['integration_clients.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('client_id', 'key')
    )


def downgrade():
    op.drop_table('idempotency_keys')
    with op.batch_alter_table('integration_clients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_integration_clients_unit_id'))
    op.drop_table('integration_clients')
