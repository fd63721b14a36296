"""form definitions uploaded by admins (issue 20)

Reserved in the chain so that work on several issues can land in any order; this revision
changes nothing until its issue fills it in.

Revision ID: 0007
Revises: 0006
"""

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
