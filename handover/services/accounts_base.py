"""What every account action shares: the error a person can correct and the one-transaction
rule. The actions themselves are in `accounts_units`, `accounts_users` and
`accounts_memberships`; `accounts` gathers them under one name."""

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import bindparam, inspect, update
from sqlalchemy.exc import IntegrityError

from handover.i18n import gettext
from handover.store.database import db
from handover.store.models import User

#: What a wrapped action returns.
T = TypeVar("T")


def N_(message: str) -> str:
    """Mark ``message`` for translation without translating it here: the CLI has no locale,
    the web layer translates through `AccountError.translated`."""
    return message


class AccountError(ValueError):
    """Something the requester can fix. ``field`` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None, **params: Any) -> None:
        self.message, self.field, self.params = message, field, params
        super().__init__(message % params if params else message)

    def translated(self) -> str:
        return gettext(self.message, **self.params)


def one_transaction(action: Callable[..., T]) -> Callable[..., T]:
    """Roll the session back when an action fails, so no half-made change lingers for the
    next commit. A unique-constraint race (two admins at once) becomes a readable error."""

    @functools.wraps(action)
    def run(*args: Any, **kwargs: Any) -> T:
        try:
            return action(*args, **kwargs)
        except IntegrityError:
            db.session.rollback()
            raise AccountError(
                N_("This conflicts with an existing record; reload and check.")
            ) from None
        except Exception:
            db.session.rollback()
            raise

    return run


#: Writes nothing new, but takes the account's row (PostgreSQL) or the database's write lock
#: (SQLite) until the commit.
_HOLD_USER = (update(User).where(User.id == bindparam("user_id")).values(email=User.email)
              .execution_options(synchronize_session=False))


def hold_person(user: User) -> None:
    """Hold the account's row until the commit and read it again, its memberships too: a
    change that depends on its roles (a membership added, a system role given) is decided on
    the account as it is now. Decided on the account as each page loaded it, a lead's new
    membership and an administrator's auditor role at the same moment both went through,
    and the account held both. A new account (not yet stored) has nothing to hold."""
    if inspect(user).persistent:
        db.session.execute(_HOLD_USER, {"user_id": user.id})
        db.session.refresh(user)
