"""The internal plugin ``uploaded``: forms admins uploaded (``services.form_uploads``), answered
to ``register_forms`` from the database and loaded through the same loader, checks and registry
as every other plugin's, so that nothing downstream can tell them apart.

Uploads change while the server runs, on any node. Every change raises one counter in the
database (``UploadedFormsGeneration``); each worker reads it at most every
``FORM_UPLOADS_RECHECK_SECONDS`` (default 10) at the start of a request and, when it moved,
builds a new registry with this plugin's forms replaced and swaps it in whole: requests already
holding the old one finish with it, none is dropped, and no worker needs a restart.

Which versions load: every version once enabled (``released_at``), so that the handovers
filled with it keep rendering; of those, only the enabled one is offered to senders. While
plugins load there is no database to ask (the hook gets the app being created, as every
plugin's does), so the forms arrive with the first request.
"""

import json
import logging
import time
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, has_app_context, request
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from handover.formdefs.loader import DefinitionError, load_definition
from handover.formdefs.model import FormDefinition
from handover.hookspecs import hookimpl
from handover.plugins.loading import known_kinds
from handover.plugins.state import PluginState
from handover.store.database import db
from handover.store.models import UploadedForm, UploadedFormsGeneration

PLUGIN_NAME = "uploaded"
RECHECK_SECONDS = 10
#: Requests that never read forms need not look at the counter.
SKIPPED_ENDPOINTS = frozenset({"static", "health.healthz"})

logger = logging.getLogger("handover.plugins")


@dataclass
class Watch:
    """What one app's registry was built from: the counter, and when it was last read."""

    generation: int | None = None
    checked_at: float = 0.0


@hookimpl
def register_forms(app: Flask) -> list[dict[str, Any]] | None:
    """The released uploaded definitions, as parsed dicts; none while the app is being created
    (no database yet). The first request loads them (`refresh`)."""
    if app is None or not has_app_context():
        return None
    return [json.loads(row.definition) for row in released_rows()]


def released_rows() -> list[UploadedForm]:
    return list(db.session.execute(
        select(UploadedForm).where(UploadedForm.released_at.is_not(None))
        .order_by(UploadedForm.form_key, UploadedForm.version)).scalars())


def current_generation() -> int:
    """The counter every change raises (0 before the first change)."""
    value = db.session.execute(
        select(UploadedFormsGeneration.generation).where(UploadedFormsGeneration.id == 1)
    ).scalar_one_or_none()
    return value or 0


def raise_generation() -> None:
    """Tell every worker that the uploaded forms changed, in the caller's transaction. One
    statement that makes the row or raises it (an upsert: the first change of an instance
    finds no row), so that it also holds the row until the commit: changes of the uploaded
    forms come one after the other (`form_uploads`), the very first two too."""
    table = UploadedFormsGeneration.__table__
    upsert = _INSERTS[db.session.get_bind().dialect.name](table).values(id=1, generation=1)
    db.session.execute(upsert.on_conflict_do_update(
        index_elements=[table.c.id], set_={"generation": table.c.generation + 1}))


#: The INSERT of each database Handover runs on, with its ``ON CONFLICT`` clause.
_INSERTS = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}


def init_app(app: Flask) -> None:
    app.extensions["handover_uploaded_forms"] = Watch()
    app.before_request(_refresh_for_request)


def _refresh_for_request() -> None:
    if request.endpoint not in SKIPPED_ENDPOINTS:
        refresh(current_app._get_current_object())  # type: ignore[attr-defined]


def refresh(app: Flask, force: bool = False) -> bool:
    """Reload this app's uploaded forms if the counter moved (read at most every few seconds
    unless ``force``); True when the registry was replaced. A database that cannot be read
    leaves the forms as they were, to be tried again at the next check."""
    watch: Watch = app.extensions["handover_uploaded_forms"]
    now = time.monotonic()
    interval = app.config.get("FORM_UPLOADS_RECHECK_SECONDS", RECHECK_SECONDS)
    if not force and watch.generation is not None and now - watch.checked_at < interval:
        return False
    watch.checked_at = now
    state: PluginState = app.extensions["handover_plugins"]
    record = state.records.get(PLUGIN_NAME)
    if record is None or record.error:
        return False
    try:
        generation = current_generation()
        if generation == watch.generation and not force:
            return False
        rows = released_rows()
    except SQLAlchemyError as error:
        with suppress(SQLAlchemyError):
            db.session.rollback()
        logger.warning("uploaded forms not reloaded: %s", type(error).__name__)
        return False
    definitions, unchoosable = _definitions(state, rows)
    state.registry = state.registry.replaced(PLUGIN_NAME, definitions, unchoosable)
    watch.generation = generation
    return True


def _definitions(state: PluginState,
                 rows: list[UploadedForm]) -> tuple[list[FormDefinition], list[tuple[str, int]]]:
    """The definitions of ``rows`` that still load, and those not offered to senders."""
    kinds = known_kinds(state)
    definitions, unchoosable = [], []
    for row in rows:
        try:
            definition = load_definition(json.loads(row.definition), plugin_name=PLUGIN_NAME,
                                         unit_kinds=kinds)
        except DefinitionError as error:
            logger.error("uploaded form %s v%s no longer loads: %s", row.form_key, row.version,
                         "; ".join(error.problems))
            continue
        # A plugin installed since the upload took its key, or a reply form's: the plugin
        # wins (the registry would refuse the upload's definition, and every page with it).
        owners = set().union(*(state.registry.key_owners(key) for key in (
            definition.key, *(reply.key for reply in definition.reply_forms)))) - {PLUGIN_NAME}
        if owners:
            logger.error("uploaded form %s v%s not loaded: plugin %s registers its key",
                         row.form_key, row.version, ", ".join(sorted(owners)))
            continue
        definitions.append(definition)
        if not row.enabled:
            unchoosable.append((row.form_key, row.version))
    return definitions, unchoosable
