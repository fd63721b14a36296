"""The auditor's review, backups: neither `handover backup` nor `handover restore` writes an
audit event, and a restore brings the audit log back to the backup's. Both say where the audit
log ends, and a restore over a database in use says how many of its events the restored one
lacks, so that the operator can note what the log itself cannot."""

import json
import re

from sqlalchemy import func, select

from handover.services.backup import MANIFEST
from handover.store import audit
from handover.store.database import db
from handover.store.models import AuditEvent
from tests.support import invoke
from tests.test_backup import sealed_handovers  # noqa: F401  (the fixture)


def newest_event(app):
    with app.app_context():
        return db.session.scalar(select(func.max(AuditEvent.id)))


def test_a_backup_says_where_its_audit_log_ends(app, sealed_handovers, tmp_path):  # noqa: F811
    with app.app_context():
        audit.record("keys.checked", detail={"checked": 0})
        db.session.commit()
    newest = newest_event(app)
    destination = tmp_path / "backup"
    result = invoke(app, "backup", str(destination))
    assert result.exit_code == 0, result.output
    assert f"The backup's audit log ends at event {newest}." in result.output
    manifest = json.loads((destination / MANIFEST).read_text())
    assert manifest["audit_newest_id"] == newest


def test_a_restore_over_a_database_in_use_says_which_audit_events_it_rolled_back(
        app, sealed_handovers, tmp_path):  # noqa: F811
    with app.app_context():
        audit.record("keys.checked", detail={"checked": 0})
        db.session.commit()
    destination = tmp_path / "backup"
    assert invoke(app, "backup", str(destination)).exit_code == 0
    at_backup = newest_event(app)
    with app.app_context():
        for _ in range(3):   # written after the backup: the restore takes them away
            audit.record("keys.checked", detail={"checked": 0})
        db.session.commit()
    before_restore = newest_event(app)

    result = invoke(app, "restore", str(destination), "--force")
    assert result.exit_code == 0, result.output
    assert f"The audit log is now the backup's: it ends at event {at_backup}." in result.output
    assert re.search(rf"went up to event {before_restore}: its 3 newer event\(s\) are not in "
                     r"the restored one", result.output)
    assert "handover audit verify" in result.output
    assert newest_event(app) == at_backup
