"""Forms admins install without a restart: upload, check, approve, enable, disable.

An upload is read strictly (`form_packages`), then checked by the same loader and checks as an
installed plugin's definition, against the unit kinds this instance knows; every problem is
reported with its location and nothing is stored unless there is none. A stored version is
identified by its checksum: the same key and version with other content is refused, so a
handover's recorded version always means one definition. Enabling a version (after a second
admin's approval when ``FORM_UPLOAD_FOUR_EYES`` is set) offers it to senders on every worker
(`plugins.uploaded` reloads within ``FORM_UPLOADS_RECHECK_SECONDS``); disabling takes the form
away from new drafts while every version once enabled keeps rendering its handovers. Each step
is audited (``forms.*``), refusals too.
"""

import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select

from handover.formdefs import DefinitionError, FormDefinition, load_definition, read_source
from handover.plugins import manager as plugin_manager
from handover.plugins import uploaded
from handover.plugins.uploaded import PLUGIN_NAME
from handover.services import commit_with_audit
from handover.services.form_packages import (
    MAX_BYTES,
    N_,
    PackageProblem,
    PackageRefused,
    read_package,
    write_into,
)
from handover.store.database import db
from handover.store.models import Handover, Reply, UploadedForm, User
from handover.store.models.base import utcnow

__all__ = ["PackageProblem", "PackageRefused", "StepRefused", "UnknownUpload", "approve",
           "check_upload", "disable", "enable", "four_eyes", "max_bytes", "stored_definition",
           "upload", "uploads"]


class UnknownUpload(LookupError):
    """No uploaded form with that key (and version)."""


class StepRefused(ValueError):
    """An approval, enable or disable the rules do not allow; the message is for the admin."""

    def __init__(self, message: str, **params: Any) -> None:
        self.message, self.params = message, params
        super().__init__(message % params if params else message)


@dataclass
class CheckedUpload:
    filename: str
    definition: FormDefinition
    raw: dict[str, Any]
    checksum: str


@dataclass
class Uploaded:
    """What an upload did: the stored version, and whether it was new."""

    key: str
    version: int
    created: bool


def four_eyes() -> bool:
    """Whether a second admin must approve an uploaded version before it is enabled."""
    return bool(current_app.config.get("FORM_UPLOAD_FOUR_EYES", False))


def max_bytes() -> int:
    """The largest package accepted (FORM_UPLOAD_MAX_BYTES)."""
    return int(current_app.config.get("FORM_UPLOAD_MAX_BYTES", MAX_BYTES))


def check_upload(filename: str, data: bytes, size: int | None = None) -> CheckedUpload:
    """The package checked as `handover plugins check` checks a definition, plus the rules of
    uploads; raises `PackageRefused` naming every problem. Stores nothing. ``size`` is the
    whole file's size when only its first ``max_bytes() + 1`` bytes were read."""
    package = read_package(filename, data, max_bytes(), size)
    archived = package.definition_name != package.filename
    label = (f"{package.filename}/{package.definition_name}" if archived
             else package.filename)
    with tempfile.TemporaryDirectory(prefix="handover-form-") as folder:
        path = write_into(package, Path(folder))
        try:
            raw = read_source(path)
            definition = load_definition(raw, plugin_name=PLUGIN_NAME,
                                         unit_kinds=list(plugin_manager.unit_kinds()))
        except DefinitionError as error:
            shown = f"{package.filename}/" if archived else ""
            raise PackageRefused([
                PackageProblem(label, problem.replace(folder + "/", shown), translatable=False)
                for problem in error.problems]) from None
    registry = plugin_manager.registry()
    for key in (definition.key, *(reply.key for reply in definition.reply_forms)):
        owners = registry.key_owners(key) - {PLUGIN_NAME}   # a reply form's key counts too
        if owners:
            raise PackageRefused([PackageProblem(
                f"{label}: key", N_("Form key %(key)s belongs to plugin %(plugin)s; an upload "
                                    "cannot replace it. Choose another key."),
                {"key": key, "plugin": ", ".join(sorted(owners))})])
        if _stored_under_another_form(key, is_reply=key != definition.key):
            raise PackageRefused([PackageProblem(
                f"{label}: key", N_("Form key %(key)s is the key of stored handovers of a form "
                                    "that is no longer installed; an upload cannot take them "
                                    "over. Choose another key."), {"key": key})])
    try:
        canonical = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except TypeError:
        raise PackageRefused([PackageProblem(label, N_(
            "Dates and times are not values a form definition takes; write them as text."))]
        ) from None
    checksum = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return CheckedUpload(package.filename, definition, json.loads(canonical), checksum)


def upload(filename: str, data: bytes, actor: User | None = None,
           size: int | None = None) -> Uploaded:
    """Check and store one version (not enabled). The same content again changes nothing;
    a stored version with other content is refused. Refusals are audited too."""
    try:
        checked = check_upload(filename, data, size)
        definition = checked.definition
        stored = _row_or_none(definition.key, definition.version)
        if stored is not None and stored.checksum != checked.checksum:
            raise PackageRefused([PackageProblem(
                f"{checked.filename}: version", N_(
                    "Version %(version)s of form %(key)s is already stored with different "
                    "content, and a version number is never reused. Raise the version."),
                {"version": definition.version, "key": definition.key})])
    except PackageRefused as refusal:
        commit_with_audit("forms.upload_refused", actor=actor, outcome="failed",
                          detail={"filename": filename[:200],
                                  "problems": len(refusal.problems)})
        raise
    detail = {"form": definition.key, "version": definition.version,
              "checksum": checked.checksum, "filename": checked.filename[:200]}
    if stored is not None:
        commit_with_audit("forms.uploaded", actor=actor, detail={**detail, "unchanged": True})
        return Uploaded(definition.key, definition.version, False)
    db.session.add(UploadedForm(
        form_key=definition.key, version=definition.version, checksum=checked.checksum,
        filename=checked.filename[:255], definition=json.dumps(checked.raw, ensure_ascii=False),
        uploaded_by_id=actor.id if actor is not None else None))
    commit_with_audit("forms.uploaded", actor=actor, detail=detail)
    return Uploaded(definition.key, definition.version, True)


def _stored_under_another_form(key: str, *, is_reply: bool) -> bool:
    """Whether handovers (or, for a reply form's key, replies) are stored under ``key`` on
    forms no upload made: a plugin's, since removed. Uploaded under that key, they would be
    read with the upload's fields and labels, not their own. An earlier version of the same
    upload stored under it is no other form."""
    uploaded = select(UploadedForm.form_key)
    stored = (select(Reply.id).join(Handover, Handover.id == Reply.handover_id)
              .where(Reply.kind == key, Handover.form_key.not_in(uploaded)) if is_reply
              else select(Handover.id).where(Handover.form_key == key,
                                             Handover.form_key.not_in(uploaded)))
    return db.session.execute(stored.limit(1)).first() is not None


def approve(key: str, version: int, actor: User) -> None:
    """A second admin's approval of one version (four-eyes rule): never the uploader's."""
    uploaded.raise_generation()   # first: one change of the uploaded forms at a time
    row = _row(key, version)
    if row.approved_by_id is not None:
        raise StepRefused(N_("Version %(version)s of %(key)s is already approved."),
                          version=version, key=key)
    if row.uploaded_by_id is not None and row.uploaded_by_id == actor.id:
        raise StepRefused(N_("You uploaded this version: another administrator must approve "
                             "it."))
    row.approved_by_id, row.approved_at = actor.id, utcnow()
    commit_with_audit("forms.approved", actor=actor, detail=_detail(row))


def enable(key: str, version: int, actor: User | None = None) -> None:
    """Offer this version to senders (instead of any other version of the form)."""
    # First, before any row is read: the UPDATE of the one generation row holds it until the
    # commit, so that two admins' enables and disables come one after the other, each reading
    # what the other committed. Read before, two enables left two versions enabled, and a
    # disable was lost under an enable it had waited for.
    uploaded.raise_generation()
    row = _row(key, version)
    if four_eyes() and row.approved_by_id is None:
        raise StepRefused(N_("A second administrator must approve version %(version)s of "
                             "%(key)s before it is enabled."), version=version, key=key)
    try:
        stored_definition(key, version)
    except DefinitionError as error:
        raise StepRefused(N_("It no longer passes the checks: %(problems)s"),
                          problems="; ".join(error.problems)) from None
    for other in _rows(key):
        other.enabled = other.id == row.id
    row.released_at = row.released_at or utcnow()
    commit_with_audit("forms.enabled", actor=actor, detail=_detail(row))
    uploaded.refresh(current_app._get_current_object(), force=True)  # type: ignore[attr-defined]


def disable(key: str, actor: User | None = None) -> None:
    """No new drafts of ``key``; its handovers, and drafts already begun, are untouched."""
    uploaded.raise_generation()   # first, as in `enable`
    enabled = [row for row in _rows(key) if row.enabled]
    if not enabled:
        if not _rows(key):
            raise UnknownUpload(key)
        raise StepRefused(N_("Form %(key)s is not enabled."), key=key)
    for row in enabled:
        row.enabled = False
    commit_with_audit("forms.disabled", actor=actor, detail=_detail(enabled[0]))
    uploaded.refresh(current_app._get_current_object(), force=True)  # type: ignore[attr-defined]


def stored_definition(key: str, version: int) -> FormDefinition:
    """A stored version as the registry would load it (for the preview, before it is
    enabled); raises `UnknownUpload`, or `DefinitionError` if it no longer loads."""
    row = _row(key, version)
    return load_definition(json.loads(row.definition), plugin_name=PLUGIN_NAME,
                           unit_kinds=list(plugin_manager.unit_kinds()))


def uploads(key: str | None = None) -> list[dict[str, Any]]:
    """Every stored version (of ``key``), newest first per form, with who did what and when."""
    query = select(UploadedForm).order_by(UploadedForm.form_key, UploadedForm.version.desc())
    if key is not None:
        query = query.where(UploadedForm.form_key == key)
    rows = list(db.session.execute(query).scalars())
    people = {user.id: user.name for user in db.session.execute(select(User).where(User.id.in_(
        {row.uploaded_by_id for row in rows} | {row.approved_by_id for row in rows}))).scalars()}
    enabled = {row.form_key: row.version for row in rows if row.enabled}
    return [{
        "key": row.form_key, "version": row.version, "filename": row.filename,
        "title": json.loads(row.definition).get("title", {}), "checksum": row.checksum,
        "uploaded_by": people.get(row.uploaded_by_id) if row.uploaded_by_id else None,
        "uploaded_at": row.uploaded_at,
        "approved_by": people.get(row.approved_by_id) if row.approved_by_id else None,
        "approved_at": row.approved_at, "enabled": row.enabled,
        "released_at": row.released_at, "needs_approval": four_eyes() and
        row.approved_by_id is None,
        # A version once enabled, older than the one enabled now: it stays loaded for its
        # handovers, and was not switched off but replaced.
        "replaced_by": enabled.get(row.form_key) if row.released_at and not row.enabled
        and enabled.get(row.form_key, 0) > row.version else None,
    } for row in rows]


def _row_or_none(key: str, version: int) -> UploadedForm | None:
    return db.session.execute(select(UploadedForm).where(
        UploadedForm.form_key == key, UploadedForm.version == int(version))
        .execution_options(populate_existing=True)).scalar_one_or_none()


def _row(key: str, version: int) -> UploadedForm:
    row = _row_or_none(key, version)
    if row is None:
        raise UnknownUpload(f"{key} v{version}")
    return row


def _rows(key: str) -> list[UploadedForm]:
    # As stored now, not as this request may have loaded them before the change began.
    return list(db.session.execute(
        select(UploadedForm).where(UploadedForm.form_key == key)
        .execution_options(populate_existing=True)).scalars())


def _detail(row: UploadedForm) -> dict[str, Any]:
    return {"form": row.form_key, "version": row.version, "checksum": row.checksum}
