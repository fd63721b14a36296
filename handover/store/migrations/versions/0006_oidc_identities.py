"""sign-in through the organisation's OpenID Connect provider (issue 19)

Reserved in the chain so that work on several issues can land in any order; this revision
changes nothing until its issue fills it in.

Revision ID: 0006
Revises: 0005
"""

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
