"""a unit's name key: names differing only in capital letters are refused by the database

``units`` gains ``name_key``, the name with every letter folded (Python's casefold, after NFC),
under a unique index. Unit names that differ only in capitals were refused by the service's
check alone, which two admins at once could both pass; and SQLite's own lower() and NOCASE fold
ASCII letters only, so no SQL expression could give the same answer for "Äänekosken päiväkoti"
on SQLite and PostgreSQL. The key is computed here in Python, as the model computes it.

A unit that already had such a twin (the one created later) keeps no key: both units stay as
they are, and an admin who saves the later one is asked to choose another name.

Revision ID: 0012
Revises: 0011
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

units = sa.table('units', sa.column('id', sa.Integer), sa.column('name', sa.String),
                 sa.column('name_key', sa.Text))


def upgrade():
    # Plain ADD COLUMN and a unique index, not batch mode (see 0009: batch mode on SQLite would
    # copy and drop the table).
    op.add_column('units', sa.Column('name_key', sa.Text(), nullable=True))
    connection = op.get_bind()
    taken = set()
    for unit_id, name in connection.execute(
            sa.select(units.c.id, units.c.name).order_by(units.c.id)).all():
        # Frozen copy of handover.store.models.accounts.unit_name_key as of this revision.
        key = unicodedata.normalize("NFC", name).casefold()
        if key in taken:
            continue
        taken.add(key)
        connection.execute(units.update().where(units.c.id == unit_id).values(name_key=key))
    op.create_index('ix_units_name_key', 'units', ['name_key'], unique=True)


def downgrade():
    op.drop_index('ix_units_name_key', table_name='units')
    op.drop_column('units', 'name_key')
