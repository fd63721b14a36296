"""Managing units, users and memberships: the actions behind the admin pages, the unit lead's
page and the ``handover users`` / ``handover units`` commands.

Each action is one transaction together with its audit event, so a change never happens without
its record. Actions raise `AccountError` for anything the person asking can correct; views show
it next to the form, the CLI prints it as a one-line error.

This module is the one name callers import; the work is split by concern:
`accounts_base` (the error and the one-transaction rule), `accounts_lookup` (finding people and
units, never an integration client's account), `accounts_units`, `accounts_users`,
`accounts_memberships` and `accounts_admins` (four eyes on the administrator role).
"""

from handover.services.accounts_admins import (
    admin_roles_awaiting,
    admin_roles_awaiting_too_long,
    confirm_admin_role,
    may_confirm_admin_role,
    refuse_admin_role,
)
from handover.services.accounts_base import N_, AccountError, one_transaction
from handover.services.accounts_lookup import (
    EMAIL_PATTERN,
    IS_CLIENT_ACCOUNT,
    all_units,
    closest_units,
    find_person,
    find_unit,
    find_user,
    is_client_account,
    memberships_of,
    normalise_email,
    refuse_client_account,
    search_users,
    unit_kinds,
    units_by_id,
)
from handover.services.accounts_memberships import (
    SYSTEM_ROLE_HAS_NO_UNITS,
    add_membership,
    awaiting_confirmation,
    awaiting_too_long,
    confirm_membership,
    may_confirm,
    may_hold_memberships,
    refuse_membership,
    remove_membership,
)
from handover.services.accounts_units import (
    awaiting_acknowledgement,
    create_unit,
    set_unit_active,
    update_unit,
)
from handover.services.accounts_users import (
    ADMIN_OR_AUDITOR,
    TEMPORARY_ALPHABET,
    create_user,
    open_code_step,
    reset_password,
    set_system_roles,
    set_user_active,
    temporary_password,
)

__all__ = [
    "awaiting_acknowledgement",
    "ADMIN_OR_AUDITOR", "EMAIL_PATTERN", "IS_CLIENT_ACCOUNT", "SYSTEM_ROLE_HAS_NO_UNITS",
    "TEMPORARY_ALPHABET", "AccountError", "N_", "add_membership", "admin_roles_awaiting",
    "admin_roles_awaiting_too_long", "all_units", "confirm_admin_role",
    "may_confirm_admin_role", "refuse_admin_role",
    "awaiting_confirmation", "awaiting_too_long", "closest_units", "confirm_membership",
    "create_unit", "create_user", "find_person", "find_unit", "find_user", "is_client_account",
    "may_confirm", "may_hold_memberships", "normalise_email", "one_transaction",
    "memberships_of", "open_code_step", "refuse_client_account", "refuse_membership",
    "remove_membership", "reset_password",
    "search_users", "set_system_roles", "set_unit_active", "set_user_active",
    "temporary_password", "unit_kinds", "units_by_id", "update_unit",
]
