"""the transactional outbox of deliveries, webhooks and the worker's heartbeat (issue 18)

Reserved in the chain so that work on several issues can land in any order; this revision
changes nothing until its issue fills it in.

Revision ID: 0005
Revises: 0004
"""

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
