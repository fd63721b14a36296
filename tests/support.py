"""Helpers for tests: make units and users straight in the database, and log in through the
real two-step login (password, then TOTP) like a browser would."""

import time
from pathlib import Path

import pyotp
from sqlalchemy import text

from handover.security import totp
from handover.security.passwords import hash_password
from handover.store.database import db
from handover.store.models import Membership, Unit, User

PASSWORD = "correct horse battery staple"


def create_unit(name, kind="child_welfare_institution", **fields):
    unit = Unit(name=name, kind=kind, **fields)
    db.session.add(unit)
    db.session.commit()
    return unit


def create_user(email, *, name=None, password=PASSWORD, admin=False, auditor=False,
                memberships=(), enrolled=True, must_change_password=False):
    """A user with TOTP enrolled (unless ``enrolled=False``); ``memberships`` is (unit, role)."""
    user = User(
        email=email,
        name=name or email.split("@")[0].title(),
        password_hash=hash_password(password),
        is_admin=admin,
        is_auditor=auditor,
        must_change_password=must_change_password,
    )
    db.session.add(user)
    db.session.flush()
    if enrolled:
        totp.store_secret(user, pyotp.random_base32())
    for unit, role in memberships:
        db.session.add(Membership(user_id=user.id, unit_id=unit.id, role=role))
    db.session.commit()
    return user


def totp_code(user):
    """A code the server will still accept for ``user``: TOTP codes are single-use, so when a
    test logs the same user in twice within one 30-second step we step forward.

    The code is never from the previous step: the server accepts one step either side, and a
    previous-step code computed just before a step boundary is two steps old when it arrives.
    """
    db.session.refresh(user)
    step = int(time.time()) // 30
    usable = max(step, user.totp_last_step + 1)
    if usable > step + 1:
        user.totp_last_step = step - 1
        db.session.commit()
        usable = step
    return pyotp.TOTP(totp.secret_of(user)).at(usable * 30)


def login(client, user, password=PASSWORD):
    """Log ``user`` in through /login and /login/totp; returns the last response."""
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    response = client.post("/login/totp", data={"code": totp_code(user)})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def raw_database(database_backend):
    """What a thief copying the database gets, as bytes to search: the SQLite file and its
    write-ahead log after a checkpoint, or every row of every table as PostgreSQL prints it.
    Call inside an app context."""
    if database_backend == "sqlite":
        db.session.execute(text("PRAGMA wal_checkpoint(FULL)"))
        db.session.commit()
        path = Path(db.engine.url.database)
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    rows = []
    for table in db.metadata.sorted_tables:
        rows += db.session.execute(text(f'SELECT t::text FROM "{table.name}" t')).scalars()
    return "\n".join(rows).encode()
