"""Column helpers shared by the models."""

from datetime import UTC, datetime

from sqlalchemy import DateTime, LargeBinary
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator


def utcnow():
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC timestamps on every database; SQLite would otherwise hand back naive
    datetimes and comparisons with `utcnow()` would fail."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class SealedBytes(TypeDecorator):
    """A sealed blob (`handover.security.crypto`), always read as the bytes stored.

    SQLite lets an edit put TEXT in a BLOB column (``update handovers set summary='...'``), and
    its driver decodes text as UTF-8 when the row is fetched: text that is not UTF-8 would fail
    the whole query, before anything could call the value tampered. So on SQLite the column is
    selected as ``CAST(column AS BLOB)``, which hands back the stored bytes whatever their type
    (a cast of a blob to a blob is no work), and such a value then fails its integrity check
    like a changed byte. PostgreSQL's ``bytea`` holds nothing but bytes: the column is
    selected as it is. No per-value processing in Python on either."""

    impl = LargeBinary
    cache_ok = True

    def column_expression(self, column):
        return _StoredBytes(column)


class _StoredBytes(FunctionElement):
    """A sealed column as its stored bytes (see `SealedBytes`), rendered per dialect."""

    type = LargeBinary()
    name = "stored_bytes"
    inherit_cache = True


@compiles(_StoredBytes)
def _stored_bytes(element, compiler, **kw):
    (column,) = element.clauses.clauses
    return compiler.process(column, **kw)


@compiles(_StoredBytes, "sqlite")
def _stored_bytes_on_sqlite(element, compiler, **kw):
    (column,) = element.clauses.clauses
    return f"CAST({compiler.process(column, **kw)} AS BLOB)"
