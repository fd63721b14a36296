"""wrong codes in a row: the code step locks after too many

``users`` gains ``failed_codes``, the wrong codes given in a row at the code step of a login.
At ``CODE_FAILURES_BEFORE_LOCK`` (10) the code step refuses every code, the right one too,
until an administrator resets the password: five guesses a minute, without end, would find a
code within weeks for someone who knows the password. Every account starts at 0.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('failed_codes', sa.Integer(), nullable=False,
                                     server_default='0'))


def downgrade():
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_column('users', 'failed_codes')
        return
    with op.batch_alter_table('users', recreate='always') as batch_op:
        batch_op.drop_column('failed_codes')
