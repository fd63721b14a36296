"""the child's journey: threads that live as long as the stay, return to sender, custody and
consent, the disclosure record (issue 15)

``handovers`` gains ``closed_at`` (the receiving unit closed the thread),
``last_activity_at`` and the indexed ``erase_after``, which every action keeps current so that
`handover purge` reads only the due handovers. Existing handovers get ``erase_after`` here, by
the rule of this revision and their form's periods as the app running the migration knows them
(the defaults when it does not), so no stored handover is kept for ever or erased early.

``handover_returns`` records each return to sender (the reason from a fixed list; any free text
is a sealed reply). ``disclosures`` is the disclosure record (what, by whom, to whom, on what
basis, when) that outlives the content; ``replies.legal_basis`` is a reply's own basis. Earlier
handovers are not backfilled into the record: what they disclosed is in the audit trail.

Revision ID: 0009
Revises: 0008
"""
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op
from flask import current_app, has_app_context

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

handovers = sa.table(
    'handovers', sa.column('id', sa.Integer), sa.column('form_key', sa.String),
    sa.column('form_version', sa.Integer), sa.column('status', sa.String),
    sa.column('updated_at', sa.DateTime), sa.column('sent_at', sa.DateTime),
    sa.column('acknowledged_at', sa.DateTime), sa.column('erased_at', sa.DateTime),
    sa.column('last_activity_at', sa.DateTime), sa.column('erase_after', sa.DateTime))
replies = sa.table('replies', sa.column('handover_id', sa.Integer),
                   sa.column('created_at', sa.DateTime))
DEFAULTS = {"after_acknowledged_days": 30, "unopened_days": 90, "max_days": 365}
BATCH = 1000
COLUMNS = ('closed_at', 'last_activity_at', 'erase_after')


def upgrade():
    # Plain ADD COLUMN, not batch mode: on SQLite batch mode copies ``handovers`` and drops the
    # old table, and with foreign keys on that drop deletes every reply and attachment through
    # their ON DELETE CASCADE.
    for column in COLUMNS:
        op.add_column('handovers', sa.Column(column, sa.DateTime(timezone=True), nullable=True))
    _backfill(op.get_bind())
    op.create_index('ix_handovers_erase_after', 'handovers', ['erase_after'], unique=False)
    op.add_column('handovers', sa.Column('prefilled_from_id', sa.Integer(), nullable=True))
    op.add_column('handovers', sa.Column('prefilled_sections', sa.String(length=500),
                                         nullable=True))
    op.add_column('handovers', sa.Column('update_of_id', sa.Integer(), nullable=True))
    op.create_index('ix_handovers_update_of_id', 'handovers', ['update_of_id'], unique=False)
    op.create_table(
        'handover_returns',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('handover_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=32), nullable=False),
        sa.Column('reply_id', sa.Integer(), nullable=True),
        sa.Column('returned_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=True),
        sa.Column('rerouted_to_unit_id', sa.Integer(), nullable=True),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['handover_id'], ['handovers.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['reply_id'], ['replies.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['rerouted_to_unit_id'], ['units.id']),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_handover_returns_handover_id', 'handover_returns', ['handover_id'],
                    unique=False)
    op.add_column('replies', sa.Column('legal_basis', sa.String(length=100), nullable=False,
                                       server_default=''))
    op.create_table(
        'disclosures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('handover_id', sa.Integer(), nullable=False),
        sa.Column('reply_id', sa.Integer(), nullable=True),
        sa.Column('disclosed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('by_user_id', sa.Integer(), nullable=False),
        sa.Column('by_unit_id', sa.Integer(), nullable=False),
        sa.Column('to_unit_id', sa.Integer(), nullable=False),
        sa.Column('as_copy', sa.Boolean(), nullable=False),
        sa.Column('form_key', sa.String(length=100), nullable=False),
        sa.Column('sections', sa.String(length=2000), nullable=False),
        sa.Column('basis', sa.String(length=100), nullable=False),
        sa.Column('consent_by', sa.String(length=32), nullable=True),
        sa.Column('consent_on', sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(['by_unit_id'], ['units.id']),
        sa.ForeignKeyConstraint(['by_user_id'], ['users.id']),
        sa.ForeignKeyConstraint(['handover_id'], ['handovers.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['reply_id'], ['replies.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['to_unit_id'], ['units.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_disclosures_handover_id', 'disclosures', ['handover_id'], unique=False)


def downgrade():
    op.drop_index('ix_disclosures_handover_id', table_name='disclosures')
    op.drop_table('disclosures')
    op.drop_column('replies', 'legal_basis')
    op.drop_index('ix_handover_returns_handover_id', table_name='handover_returns')
    op.drop_table('handover_returns')
    op.drop_index('ix_handovers_update_of_id', table_name='handovers')
    op.drop_column('handovers', 'update_of_id')
    op.drop_column('handovers', 'prefilled_sections')
    op.drop_column('handovers', 'prefilled_from_id')
    op.drop_index('ix_handovers_erase_after', table_name='handovers')
    for column in reversed(COLUMNS):
        op.drop_column('handovers', column)


def _aware(value):
    if value is None or isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if isinstance(value, str):  # SQLite through a plain table: text
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _periods(form_key, version, cache):
    """The form's retention periods, frozen to this revision's reading of them."""
    if (form_key, version) not in cache:
        rule = {}
        if has_app_context():
            try:
                from handover.plugins import manager
                definition = manager.registry(current_app).get(form_key, version)
                rule = dict(getattr(definition, "retention", None) or {})
            except Exception:  # a form no longer installed: the defaults
                rule = {}
        merged = {**DEFAULTS, **{k: v for k, v in rule.items() if v is not None}}
        merged.setdefault("after_last_activity_days", merged["after_acknowledged_days"])
        cache[form_key, version] = merged
    return cache[form_key, version]


def _deadline(row, last_reply, rule):
    day = timedelta(days=1)
    if row.status == 'draft':
        return _aware(row.updated_at) + rule["unopened_days"] * day if row.updated_at else None
    sent_at = _aware(row.sent_at)
    if sent_at is None:
        return None
    cap = sent_at + rule["max_days"] * day
    unopened = sent_at + rule["unopened_days"] * day
    if row.status == 'withdrawn':
        return min(unopened, cap)
    last = max(x for x in (sent_at, _aware(row.acknowledged_at), _aware(last_reply)) if x)
    active = last + rule["after_last_activity_days"] * day
    if row.status == 'acknowledged':
        return min(active, cap)
    return min(max(unopened, active), cap)


def _backfill(bind):
    cache = {}
    last_id = 0
    while True:
        rows = bind.execute(
            sa.select(handovers).where(handovers.c.erased_at.is_(None),
                                       handovers.c.id > last_id)
            .order_by(handovers.c.id).limit(BATCH)).all()
        if not rows:
            return
        last_replies = dict(bind.execute(
            sa.select(replies.c.handover_id, sa.func.max(replies.c.created_at))
            .where(replies.c.handover_id.in_([row.id for row in rows]))
            .group_by(replies.c.handover_id)).all())
        for row in rows:
            last_reply = last_replies.get(row.id)
            rule = _periods(row.form_key, row.form_version, cache)
            activity = [x for x in (_aware(row.sent_at), _aware(row.acknowledged_at),
                                    _aware(last_reply)) if x]
            bind.execute(handovers.update().where(handovers.c.id == row.id).values(
                erase_after=_deadline(row, last_reply, rule),
                last_activity_at=max(activity) if activity else None))
        last_id = rows[-1].id
