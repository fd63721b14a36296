"""What every account action shares: the error a person can correct and the one-transaction
rule. The actions themselves are in `accounts_units`, `accounts_users` and
`accounts_memberships`; `accounts` gathers them under one name."""

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError

from handover.i18n import gettext
from handover.store.database import db

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
