"""An operator reviewer's findings on the `handover` command.

- A refusal from the services came out in Finnish (the default interface language) while the
  help, the other errors and every success line are English: one shell, one language.
- `handover check` counted a demo account whose password an administrator had reset among
  those "anyone can sign in" to, though the published logins no longer open it.
"""

import re
from datetime import timedelta

import pytest
from support import create_unit, create_user, invoke

from handover.cli.demo import USERS
from handover.services import accounts, integration_clients
from handover.store.database import db
from handover.store.models.base import utcnow

# --- refusals in English ------------------------------------------------------------------


def assert_refused_in_english(result, message):
    assert result.exit_code == 1, result.output
    assert result.output == f"Error: {message}\n"


def test_a_unit_name_taken_is_refused_in_english(app):
    arguments = ("units", "create", "--name", "CLI Koulu", "--kind", "school")
    assert invoke(app, *arguments).exit_code == 0

    assert_refused_in_english(invoke(app, *arguments), "A unit with this name already exists.")


def test_a_member_given_a_system_role_is_refused_in_english(app):
    with app.app_context():
        create_user("cli.user@example.org",
                    memberships=[(create_unit("CLI Koulu", kind="school"), "receiver")])

    result = invoke(app, "users", "set-roles", "cli.user@example.org", "--admin")

    assert_refused_in_english(result, "Remove the person's unit memberships first: "
                                      "administrators and auditors cannot be members of a unit.")


def test_an_address_that_is_not_one_is_refused_in_english(app):
    result = invoke(app, "users", "create", "--email", "not-an-email", "--name", "Testi",
                    "--admin")

    assert_refused_in_english(result, "Enter a valid e-mail address.")


def test_a_client_confirmed_twice_is_refused_in_english(app):
    with app.app_context():
        admin = create_user("admin@example.org", admin=True)
        integration_clients.create(admin, "Lifecare", create_unit("Osasto"), {"inbox:read"},
                                   utcnow() + timedelta(days=30))
        db.session.commit()
    assert invoke(app, "clients", "confirm", "Lifecare").exit_code == 0

    result = invoke(app, "clients", "confirm", "Lifecare")

    assert_refused_in_english(result, "This client does not await confirmation.")


# --- `handover check` and the demo's published logins ------------------------------------

PRINCIPAL = "rehtori@demo.handover.example"
DAYCARE = "paivakoti@demo.handover.example"


@pytest.fixture
def demo(app):
    """An instance with the demo seeded, as `scripts/start` leaves it."""
    seeded = invoke(app, "demo")
    assert seeded.exit_code == 0, seeded.output
    return app


def demo_accounts_open(app):
    """How many demo accounts `handover check` says anyone can sign in to (0: no such line)."""
    output = invoke(app, "check").output
    counts = re.findall(r"(\d+) demo account\(s\) can sign in", output)
    assert len(counts) <= 1, output
    return int(counts[0]) if counts else 0


def reset_password(app, email, reset_two_factor):
    """What an administrator's reset on /admin/users/<id> does to the account."""
    with app.app_context():
        accounts.reset_password(accounts.find_user(email), reset_two_factor=reset_two_factor)
        db.session.commit()


def test_check_counts_only_demo_accounts_the_published_logins_still_open(demo):
    before = demo_accounts_open(demo)
    assert before >= len(USERS)

    reset_password(demo, PRINCIPAL, reset_two_factor=True)
    reset_password(demo, DAYCARE, reset_two_factor=False)  # its published secret is kept
    assert demo_accounts_open(demo) == before - 2

    with demo.app_context():
        emails = [user.email for user in accounts.search_users()
                  if user.email.endswith("@demo.handover.example")]
    for email in emails:
        reset_password(demo, email, reset_two_factor=False)
    demo.config["HTTPS"] = True  # where it was an error that failed `check`
    assert demo_accounts_open(demo) == 0
