"""an integration client's name key: names differing only in capital letters are refused by the
database

``integration_clients`` gains ``name_key``, the name with every letter folded (Python's
casefold, after NFC, as 0012 folds unit names), under a unique index. The audit log names a
client as ``api:<name>``, and "Lifecare" beside "lifecare" left an admin reading it to guess
whether one system or two had acted; ``name`` alone was unique only as typed. The key is
computed here in Python, as the model computes it: SQLite's lower() folds ASCII letters only.

A client that already had such a twin (the one created later) keeps no key, as 0012 did for
units: both go on working as they are (their tokens are in use, and their names are in the
audit log), and no third is ever made.

Revision ID: 0014
Revises: 0013
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

clients = sa.table('integration_clients', sa.column('id', sa.Integer),
                   sa.column('name', sa.String), sa.column('name_key', sa.Text))


def upgrade():
    # Plain ADD COLUMN and a unique index, not batch mode (see 0009: batch mode on SQLite would
    # copy and drop the table).
    op.add_column('integration_clients', sa.Column('name_key', sa.Text(), nullable=True))
    connection = op.get_bind()
    taken = set()
    for client_id, name in connection.execute(
            sa.select(clients.c.id, clients.c.name).order_by(clients.c.id)).all():
        # Frozen copy of handover.store.models.integration.client_name_key as of this revision.
        key = unicodedata.normalize("NFC", name).casefold()
        if key in taken:
            continue
        taken.add(key)
        connection.execute(clients.update().where(clients.c.id == client_id)
                           .values(name_key=key))
    op.create_index('ix_integration_clients_name_key', 'integration_clients', ['name_key'],
                    unique=True)


def downgrade():
    op.drop_index('ix_integration_clients_name_key', table_name='integration_clients')
    op.drop_column('integration_clients', 'name_key')
