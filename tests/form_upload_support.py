"""Form packages for the upload tests: the sample special-diet form (tests/form_uploads/), as a
single file or an archive, changed in one place, or made hostile."""

import io
import json
import tarfile
import zipfile
from pathlib import Path

from sqlalchemy import func, select

from handover.store.database import db
from handover.store.models import AuditEvent, UploadedForm

SAMPLES = Path(__file__).parent / "form_uploads"
DEFINITION = (SAMPLES / "special_diet.toml").read_bytes()
FRAGMENT = (SAMPLES / "diet.toml").read_bytes()
KEY = "special_diet"


def definition(version=1, replace=()):
    """The sample definition at ``version``, with each (old, new) text of ``replace`` changed."""
    text = DEFINITION.decode().replace("version = 1", f"version = {version}", 1)
    for old, new in replace:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text.encode()


def zipped(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, content in files.items():
            bundle.writestr(name, content)
    return buffer.getvalue()


def tarred(files, mode="w:gz"):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as bundle:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            bundle.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def package(version=1, replace=()):
    """The sample as an admin uploads it: a zip of the definition and its fragment file, each
    (old, new) of ``replace`` changed in whichever of the two holds it."""
    fragment = FRAGMENT.decode()
    in_fragment = [(old, new) for old, new in replace if old in fragment]
    for old, new in in_fragment:
        fragment = fragment.replace(old, new, 1)
    rest = [pair for pair in replace if pair not in in_fragment]
    return zipped({"special_diet.toml": definition(version, rest),
                   "diet.toml": fragment.encode()})


def stored_count():
    return db.session.execute(select(func.count()).select_from(UploadedForm)).scalar()


def audit_actions(prefix="forms."):
    return [(event.action, json.loads(event.detail or "{}"), event.actor_id)
            for event in db.session.execute(
                select(AuditEvent).where(AuditEvent.action.startswith(prefix))
                .order_by(AuditEvent.id)).scalars()]
