"""four eyes on memberships: a membership an administrator grants awaits confirmation

``memberships`` gains ``confirmed_at`` and ``confirmed_by_id`` (who confirmed it: a lead of the
unit or another administrator), and ``pending_by_id`` and ``pending_since`` (the administrator
who added the membership or reset its holder's password, and when). Only a confirmed
membership gives access: an administrator who added a membership for an account of their own
making, or reset someone's password and two-factor enrolment, could otherwise sign in and read
the unit's handovers alone.

Every membership that exists before this revision was given under the old rule and stays in
force: it is confirmed as of its creation (or now, should the time be missing).

The two user columns are added with a plain ADD COLUMN ... REFERENCES, which SQLite and
PostgreSQL both accept for a column whose default is NULL: no batch mode, so SQLite does not
copy the table, and its AUTOINCREMENT counter (0013: ids never given twice) stays as it is.
Downgrading drops them; SQLite cannot drop a column a foreign key names, so there the table is
copied (batch mode, keeping AUTOINCREMENT and the counter).

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

from handover.store.models.base import UTCDateTime, utcnow

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

memberships = sa.table('memberships', sa.column('id', sa.Integer),
                       sa.column('created_at', UTCDateTime(timezone=True)),
                       sa.column('confirmed_at', UTCDateTime(timezone=True)))

USER_COLUMNS = ('confirmed_by_id', 'pending_by_id')


def upgrade():
    op.add_column('memberships',
                  sa.Column('confirmed_at', UTCDateTime(timezone=True), nullable=True))
    op.add_column('memberships',
                  sa.Column('pending_since', UTCDateTime(timezone=True), nullable=True))
    for column in USER_COLUMNS:
        op.execute(f'ALTER TABLE memberships ADD COLUMN {column} INTEGER '
                   'REFERENCES users (id)')
    connection = op.get_bind()
    connection.execute(memberships.update().values(confirmed_at=memberships.c.created_at))
    connection.execute(memberships.update().where(memberships.c.confirmed_at.is_(None))
                       .values(confirmed_at=utcnow()))


def downgrade():
    connection = op.get_bind()
    if connection.dialect.name != 'sqlite':
        for column in USER_COLUMNS + ('pending_since', 'confirmed_at'):
            op.drop_column('memberships', column)
        return
    counter = connection.execute(sa.text(
        "SELECT seq FROM sqlite_sequence WHERE name = 'memberships'")).scalar()
    with op.batch_alter_table('memberships', recreate='always',
                              table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        for column in USER_COLUMNS + ('pending_since', 'confirmed_at'):
            batch_op.drop_column(column)
    if counter:
        connection.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = 'memberships'"))
        connection.execute(sa.text(
            "INSERT INTO sqlite_sequence (name, seq) VALUES ('memberships', :seq)"),
            {'seq': counter})
