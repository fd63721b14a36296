"""the child's journey: threads that live as long as the stay, return to sender, custody and
consent, the disclosure record (issue 15)

Reserved in the chain so that work on several issues can land in any order; this revision
changes nothing until its issue fills it in.

Revision ID: 0009
Revises: 0008
"""

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
