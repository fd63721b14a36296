"""ids are never given twice on SQLite: the tables whose deleted rows are named by id count on

On SQLite an INTEGER PRIMARY KEY without AUTOINCREMENT takes the largest id in the table plus
one, so deleting the newest row hands its id to the next one: a discarded draft's id went to
the next handover, whose access report ("who has seen this child's data") then listed the
events of the other child's draft, and whose URLs, API answers and webhooks named it as they
had named the draft. PostgreSQL's sequences never give an id twice: there this revision does
nothing.

The tables whose rows Handover deletes and whose id is named outside the row get AUTOINCREMENT
(``sqlite_autoincrement`` on their models):

- ``handovers``: a discarded draft is deleted; its id is in audit events, URLs, the API,
  webhooks, deliveries, idempotency keys and other handovers (corrections, updates, prefill).
- ``attachments``: removed from a draft, or deleted with it; the id is in URLs, the API, audit
  events and the sealed file's binding.
- ``replies``: deleted with their handover (ON DELETE CASCADE); the id is in the API, audit
  events, webhooks, the disclosure record, returns and the sealed body's binding.
- ``memberships``: removed by admins and unit leads; the id is in the remove buttons' URLs, and
  a repeated or stale post must not find a later membership under it.
- ``oidc_identities``: unlinked; the id is in the unlink URLs and in audit events.

The other tables stay as they are. ``users``, ``units``, ``integration_clients``,
``webhook_endpoints``, ``deliveries``, ``uploaded_forms`` and ``audit_events`` lose no rows
(deactivated, revoked, kept, append-only), so no id of theirs is ever free to give again.
``handover_copies``, ``handover_returns``, ``disclosures``, ``kept_typing`` and
``idempotency_keys`` lose rows, but nothing names them by id: they are found by their
handover, unit, user or key.

Each of the five tables is copied into one declared with AUTOINCREMENT (Alembic's batch mode),
keeping its rows, columns, indexes, constraints and foreign keys, with foreign keys off for the
copy: with them on, dropping the old ``handovers`` would delete every reply, attachment and
return through their ON DELETE CASCADE. The copies are one transaction, which ends with
SQLite's foreign key check. Each counter then starts at the largest id the database names, in
the table or elsewhere: a draft discarded just before this upgrade left its id in the audit
events, and that id is not given again either. Nothing names a membership by id (its events
name the person and the role), but each one made was audited, and without AUTOINCREMENT no id
exceeds the number of rows ever made: the memberships' counter starts at that number.

Revision ID: 0013
Revises: 0012
"""

import json

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

TABLES = ('handovers', 'attachments', 'replies', 'memberships', 'oidc_identities')

#: Where else each table's ids are named, as of this revision: (table, column) pairs, and the
#: audit actions whose detail names one under a key.
NAMED_IN_COLUMNS = {
    'handovers': (('audit_events', 'handover_id'), ('deliveries', 'handover_id'),
                  ('idempotency_keys', 'handover_id'), ('handovers', 'prefilled_from_id'),
                  ('handovers', 'update_of_id')),
    'replies': (('handover_returns', 'reply_id'), ('disclosures', 'reply_id')),
}
NAMED_IN_AUDIT_DETAIL = {
    'attachments': ('attachment', ('handover.attachment_added', 'handover.attachment_removed',
                                   'handover.attachment_downloaded')),
    'replies': ('reply', ('handover.replied',)),
    'oidc_identities': ('identity_id', ('admin.sso_linked', 'admin.sso_unlinked')),
}
#: The audit actions that record each row made, for a table whose ids nothing names.
MADE_IN_AUDIT = {
    'memberships': ('admin.membership_added', 'unit_lead.membership_added'),
}


def upgrade():
    connection = op.get_bind()
    if connection.dialect.name != 'sqlite':
        return
    _begin_without_foreign_keys(connection)
    for table in TABLES:
        with op.batch_alter_table(table, recreate='always',
                                  table_kwargs={'sqlite_autoincrement': True}):
            pass
    for table in TABLES:
        _start_counter_above(connection, table, _largest_id_named(connection, table))
    _check_foreign_keys(connection)


def downgrade():
    connection = op.get_bind()
    if connection.dialect.name != 'sqlite':
        return
    _begin_without_foreign_keys(connection)
    for table in TABLES:
        # The reflected table carries no sqlite_autoincrement: the copy is a plain rowid table.
        with op.batch_alter_table(table, recreate='always'):
            pass
    connection.execute(sa.text("DELETE FROM sqlite_sequence WHERE name IN :tables")
                       .bindparams(sa.bindparam('tables', expanding=True)),
                       {'tables': list(TABLES)})
    _check_foreign_keys(connection)


def _begin_without_foreign_keys(connection):
    """Foreign keys off, then one transaction for every copy. SQLite ignores the pragma inside
    a transaction; Alembic commits each revision on its own, so none is open here, and
    `env.py` turns them on again after the migration. Should one be open after all, this
    refuses rather than drop a table whose rows other tables would lose with it."""
    connection.exec_driver_sql('PRAGMA foreign_keys=OFF')
    if connection.exec_driver_sql('PRAGMA foreign_keys').scalar():
        raise RuntimeError('Revision 0013 copies tables and must run with SQLite foreign keys '
                           'off, and a transaction kept them on. Run `handover db upgrade` '
                           'on its own.')
    if not connection.connection.driver_connection.in_transaction:
        connection.exec_driver_sql('BEGIN IMMEDIATE')


def _largest_id_named(connection, table):
    largest = _largest(connection, table, 'id')
    for other, column in NAMED_IN_COLUMNS.get(table, ()):
        largest = max(largest, _largest(connection, other, column))
    if table in NAMED_IN_AUDIT_DETAIL:
        key, actions = NAMED_IN_AUDIT_DETAIL[table]
        details = connection.execute(
            sa.text('SELECT detail FROM audit_events WHERE action IN :actions')
            .bindparams(sa.bindparam('actions', expanding=True)),
            {'actions': list(actions)}).scalars()
        for detail in details:
            named = _id_in(detail, key)
            largest = max(largest, named or 0)
    if table in MADE_IN_AUDIT:
        made = connection.execute(
            sa.text('SELECT COUNT(*) FROM audit_events WHERE action IN :actions')
            .bindparams(sa.bindparam('actions', expanding=True)),
            {'actions': list(MADE_IN_AUDIT[table])}).scalar()
        largest = max(largest, made or 0)
    return largest


def _largest(connection, table, column):
    query = sa.select(sa.func.max(sa.column(column))).select_from(sa.table(table))
    if table == 'audit_events':
        # A refused read names the id asked for, given or not: anyone signed in could probe
        # id 2147483647 and push every later handover beyond the ids the service accepts.
        query = query.where(sa.column('action') != 'handover.access_denied')
    return connection.execute(query).scalar() or 0


def _id_in(detail, key):
    try:
        value = json.loads(detail or '{}')
    except ValueError:
        return None
    named = value.get(key) if isinstance(value, dict) else None
    return named if isinstance(named, int) and not isinstance(named, bool) else None


def _start_counter_above(connection, table, largest):
    """The next id SQLite gives ``table`` is ``largest + 1``. Copying the rows already set the
    counter to the largest id copied; an id named elsewhere may be larger."""
    if not largest:
        return
    connection.execute(sa.text('DELETE FROM sqlite_sequence WHERE name = :table'),
                       {'table': table})
    connection.execute(sa.text('INSERT INTO sqlite_sequence (name, seq) VALUES (:table, :seq)'),
                       {'table': table, 'seq': largest})


def _check_foreign_keys(connection):
    broken = connection.exec_driver_sql('PRAGMA foreign_key_check').all()
    if broken:
        raise RuntimeError('Revision 0013 would leave rows whose foreign keys point nowhere '
                           f'(table, row, parent): {[tuple(row[:3]) for row in broken[:20]]}')
