"""four eyes on the administrator role: a role given on the admin pages awaits confirmation

``users`` gains ``admin_requested_at`` and ``admin_requested_by_id``: set while an
administrator role that one administrator gave (or took back into review by resetting the
person's password or linking an organisation account to them) awaits another administrator's
confirmation. Without it one administrator could make a second administrator account, sign in
with it and confirm the memberships they added for a third account of their own: reading a
unit's handovers alone, which the membership confirmation of 0015 exists to prevent.

Every administrator of an existing instance keeps the role: both columns start empty.

As in 0015 the columns are added with a plain ADD COLUMN ... REFERENCES (default NULL), which
SQLite and PostgreSQL both accept without copying the table. Downgrading drops them; SQLite
cannot drop a column a foreign key names, so there the table is copied (batch mode).

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

from handover.store.models.base import UTCDateTime

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users',
                  sa.Column('admin_requested_at', UTCDateTime(timezone=True), nullable=True))
    op.execute('ALTER TABLE users ADD COLUMN admin_requested_by_id INTEGER '
               'REFERENCES users (id)')


def downgrade():
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_column('users', 'admin_requested_by_id')
        op.drop_column('users', 'admin_requested_at')
        return
    with op.batch_alter_table('users', recreate='always') as batch_op:
        batch_op.drop_column('admin_requested_by_id')
        batch_op.drop_column('admin_requested_at')
