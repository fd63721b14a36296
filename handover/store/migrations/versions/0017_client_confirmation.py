"""four eyes on integration clients: a client's token works once another administrator confirms

``integration_clients`` gains ``confirmed_at`` and ``confirmed_by_id``. A client made on the
admin pages awaits confirmation by an administrator other than the one who made it (or the
operator's ``handover clients confirm``): its creator sees the token, and could otherwise read
a unit's handovers, or export the audit log, through it alone.

Every client that exists before this revision stays in force: it is confirmed as of its
creation. The user column is added with a plain ADD COLUMN ... REFERENCES (default NULL), as
in 0015 and 0016; downgrading on SQLite copies the table (batch mode).

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

from handover.store.models.base import UTCDateTime

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

clients = sa.table('integration_clients',
                   sa.column('created_at', UTCDateTime(timezone=True)),
                   sa.column('confirmed_at', UTCDateTime(timezone=True)))


def upgrade():
    op.add_column('integration_clients',
                  sa.Column('confirmed_at', UTCDateTime(timezone=True), nullable=True))
    op.execute('ALTER TABLE integration_clients ADD COLUMN confirmed_by_id INTEGER '
               'REFERENCES users (id)')
    op.get_bind().execute(clients.update().values(confirmed_at=clients.c.created_at))


def downgrade():
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_column('integration_clients', 'confirmed_by_id')
        op.drop_column('integration_clients', 'confirmed_at')
        return
    with op.batch_alter_table('integration_clients', recreate='always') as batch_op:
        batch_op.drop_column('confirmed_by_id')
        batch_op.drop_column('confirmed_at')
