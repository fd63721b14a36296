"""the JSON API's integration clients and idempotency keys (issue 17)

Reserved in the chain so that work on several issues can land in any order; this revision
changes nothing until its issue fills it in.

Revision ID: 0004
Revises: 0003
"""

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
