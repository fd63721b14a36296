"""why a handover was withdrawn

``handovers`` gains ``withdrawal_reason``: the key of the reason the sender chose when taking
it back (sent to the wrong unit, about another child, a corrected one follows, no longer
needed), shown to its receivers. A key, never free text. Handovers withdrawn before keep none.

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('handovers', sa.Column('withdrawal_reason', sa.String(length=32),
                                         nullable=True))


def downgrade():
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_column('handovers', 'withdrawal_reason')
        return
    with op.batch_alter_table('handovers', recreate='always') as batch_op:
        batch_op.drop_column('withdrawal_reason')
