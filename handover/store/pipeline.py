"""Statements sent to PostgreSQL together, in one round trip (psycopg's pipeline mode).

Opening a handover marks it opened, takes the audit chain's lock, reads the newest hash, writes
the audit rows and commits: one round trip each, and each costs the worker and the server a
wake-up as well as the wait. Statements whose values do not depend on each other's results can
travel together. The server still runs them one after the other in the same transaction, each
as a statement of its own (under READ COMMITTED each sees what was committed before it began),
and the results come back together.

The statements go to the driver's connection, past SQLAlchemy's execution, so two of its jobs
are done here the way it does them: `DriverStatement` has SQLAlchemy compile the statement and
process its parameters (UTC timestamps), and `run_together` turns the driver's errors into
SQLAlchemy's, so that a lost connection is invalidated and answered with 503 like any other.
On SQLite, in process and without round trips, the same statements run one after the other
through SQLAlchemy.
"""

from sqlalchemy.exc import DBAPIError


def available(connection):
    """Whether ``connection`` (SQLAlchemy's) can send statements together."""
    return connection.dialect.name == "postgresql"


class DriverStatement:
    """A SQLAlchemy Core statement, compiled by SQLAlchemy once per database and set of
    parameter names, for the driver."""

    def __init__(self, statement):
        self.statement = statement
        self._compiled = {}

    def for_driver(self, dialect, values, *, many=False):
        """(SQL, parameters) as SQLAlchemy would send them for ``values``; ``many`` when the
        statement runs once per set of values (an INSERT then asks no generated id back)."""
        key = (dialect.name, tuple(values), many)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _compile(self.statement, dialect, values, many)
        sql, compiled_statement, processors = compiled
        parameters = compiled_statement.construct_params(values)
        for name, process in processors:
            parameters[name] = process(parameters[name])
        return sql, parameters


def _compile(statement, dialect, values, many):
    compiled = statement.compile(dialect=dialect, column_keys=list(values), for_executemany=many)
    processors = []
    for name, bind in compiled.binds.items():
        process = bind.type.bind_processor(dialect)
        if process is not None:
            processors.append((name, process))
    return str(compiled), compiled, processors


def run_together(connection, steps, *, commit=False):
    """Send ``steps``, each ``(statement, values)`` or ``(statement, [values, ...])`` for one
    statement run once per set of values, and with ``commit`` the COMMIT, in one round trip;
    returns each step's cursor (``rowcount``, ``fetchone()``). ``statement`` is a
    `DriverStatement` or SQL text in the driver's own style. PostgreSQL only (`available`).

    After a ``commit`` the caller still ends SQLAlchemy's transaction (``session.commit()``),
    which then has nothing left to send."""
    import psycopg  # here, not at the top: a worker on SQLite need not load it (9 MB)

    driver_connection = connection.connection.driver_connection
    sql = None
    try:
        with driver_connection.pipeline():
            cursors = []
            for statement, values in steps:
                cursor = driver_connection.cursor()
                if isinstance(values, list):
                    prepared = [_for_driver(statement, connection.dialect, one, many=True)
                                for one in values]
                    sql = prepared[0][0]
                    cursor.executemany(sql, [parameters for _sql, parameters in prepared])
                else:
                    sql, parameters = _for_driver(statement, connection.dialect, values)
                    cursor.execute(sql, parameters, prepare=True)
                cursors.append(cursor)
            if commit:
                sql = "COMMIT"
                driver_connection.commit()
    except psycopg.Error as error:
        lost = connection.dialect.is_disconnect(error, driver_connection, None)
        if lost:
            connection.invalidate(error)
        # Parameters left out: they can carry client data, and error messages reach the log.
        raise DBAPIError.instance(sql, None, error, psycopg.Error, connection_invalidated=lost,
                                  dialect=connection.dialect) from error
    return cursors


def _for_driver(statement, dialect, values, *, many=False):
    if isinstance(statement, DriverStatement):
        return statement.for_driver(dialect, values, many=many)
    return statement, values
