"""form definitions uploaded by admins (issue 20)

``uploaded_forms`` keeps each uploaded version of a declarative form (the checked definition,
its checksum, uploader, approver, whether senders get it now, when it was first enabled);
``uploaded_forms_generation`` is the one counter every worker compares to reload its forms
without a restart.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

import handover.store.models.base

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'uploaded_forms',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('form_key', sa.String(length=64), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('checksum', sa.String(length=64), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('definition', sa.Text(), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
        sa.Column('uploaded_at', handover.store.models.base.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column('approved_by_id', sa.Integer(), nullable=True),
        sa.Column('approved_at', handover.store.models.base.UTCDateTime(timezone=True),
                  nullable=True),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('released_at', handover.store.models.base.UTCDateTime(timezone=True),
                  nullable=True),
        sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], ),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('form_key', 'version', name='uq_uploaded_forms_key_version'),
    )
    op.create_table(
        'uploaded_forms_generation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('generation', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    op.drop_table('uploaded_forms_generation')
    op.drop_table('uploaded_forms')
