"""Demo data for trying Handover: units of every core kind in a fictional wellbeing services
county, and one demo user per role with a known password and a fixed TOTP secret, so a newcomer
can log in as anyone without a phone.

`seed` is idempotent: what exists is left alone (passwords included), what is missing is added.
Demo data is for trying the system only: `refusal` keeps `handover demo` off an instance that
looks like production, and `handover check` reports the demo accounts that the published
logins still open.
"""

import os
import sys

import pyotp
from flask import current_app
from sqlalchemy import select

from handover.cli import demo_awaiting, demo_extras, demo_handovers
from handover.security import crypto, passwords, totp
from handover.services import accounts
from handover.store.database import db
from handover.store.models import Unit, User

COUNTY = "Demo: Länsirannikon hyvinvointialue (kuvitteellinen)"
HOSPITAL = "Demo: Länsirannikon keskussairaala (kuvitteellinen)"
CITY = "Demo: Kivikylän kaupunki (kuvitteellinen)"
PRIVATE = "Demo: Perhekoti Kotipesä Oy (kuvitteellinen)"

#: (name, kind, organisation)
UNITS = (
    ("Demo: Lastensuojelulaitos Majakka", "child_welfare_institution", COUNTY),
    ("Demo: Ammatillinen perhekoti Kotipesä", "professional_family_home", PRIVATE),
    ("Demo: Sosiaalityö Etelä", "child_welfare_social_work", COUNTY),
    ("Demo: Perhehoito Etelä", "family_care", COUNTY),
    ("Demo: Nuorisopsykiatrian osasto 3", "psychiatric_ward", HOSPITAL),
    ("Demo: Nuorisopsykiatrian poliklinikka", "outpatient_psychiatry", HOSPITAL),
    ("Demo: Päiväkoti Satakieli", "daycare", CITY),
    ("Demo: Koulu Kivikko", "school", CITY),
    ("Demo: Kivikylän sivistystoimi", "education_department", CITY),
)

#: Printed for every demo user; it only ever exists in demo instances. Hard-coded on purpose:
#: a published demo login is the point (hence the bandit/ruff exemption).
DEMO_PASSWORD = "kokeile-handoveria-demo"  # noqa: S105  # nosec B105

#: (e-mail, name, what they do, system roles, [(unit, role)], TOTP secret). Secrets are fixed
#: base32 strings so that the printed login keeps working across runs and machines.
USERS = (
    ("admin@demo.handover.example", "Demo Ylläpitäjä", "administrator",
     {"admin": True}, (), "HANDOVERDEMOADMINAAAAAAAAAAAAAAA"),
    ("auditor@demo.handover.example", "Demo Tarkastaja", "auditor (reads the audit log)",
     {"auditor": True}, (), "HANDOVERDEMOAUDITORAAAAAAAAAAAAA"),
    ("omaohjaaja@demo.handover.example", "Kaisa Koskinen",
     "key worker at the institution (sends to the ward)", {},
     (("Demo: Lastensuojelulaitos Majakka", "sender"),), "HANDOVERDEMOKEYWORKERAAAAAAAAAAA"),
    ("sosiaalityontekija@demo.handover.example", "Mikko Nieminen",
     "social worker (sends to daycare and school)", {},
     (("Demo: Sosiaalityö Etelä", "sender"), ("Demo: Sosiaalityö Etelä", "receiver")),
     "HANDOVERDEMOSOCIALWORKERAAAAAAAA"),
    ("perhehoitaja@demo.handover.example", "Liisa Järvinen",
     "foster carer (family care, sends and receives copies)", {},
     (("Demo: Perhehoito Etelä", "sender"), ("Demo: Perhehoito Etelä", "receiver")),
     "HANDOVERDEMOFOSTERCARERAAAAAAAAA"),
    ("omahoitaja@demo.handover.example", "Tiina Mäkelä",
     "primary nurse on the ward (receives)", {},
     (("Demo: Nuorisopsykiatrian osasto 3", "receiver"),), "HANDOVERDEMONURSEAAAAAAAAAAAAAAA"),
    ("paivakoti@demo.handover.example", "Sari Heikkinen", "daycare director (receives)", {},
     (("Demo: Päiväkoti Satakieli", "receiver"),), "HANDOVERDEMODAYCAREAAAAAAAAAAAAA"),
    ("rehtori@demo.handover.example", "Juha Virtanen", "school principal (receives)", {},
     (("Demo: Koulu Kivikko", "receiver"),), "HANDOVERDEMOPRINCIPALAAAAAAAAAAA"),
    ("perhekoti@demo.handover.example", "Jari Salminen",
     "professional family home carer (sends to the ward and the daycare)", {},
     (("Demo: Ammatillinen perhekoti Kotipesä", "sender"),
      ("Demo: Ammatillinen perhekoti Kotipesä", "receiver")), "HANDOVERDEMOFAMILYHOMEAAAAAAAAAA"),
    ("poliklinikka@demo.handover.example", "Heidi Laine",
     "outpatient clinic nurse (receives copies)", {},
     (("Demo: Nuorisopsykiatrian poliklinikka", "receiver"),), "HANDOVERDEMOCLINICAAAAAAAAAAAAAA"),
    ("sivistystoimi@demo.handover.example", "Petri Koskela",
     "education department (receives pre-placement notices)", {},
     (("Demo: Kivikylän sivistystoimi", "receiver"),), "HANDOVERDEMOEDUCATIONAAAAAAAAAAA"),
    ("yksikonjohtaja@demo.handover.example", "Anna Lehtonen",
     "unit lead of the institution (manages its members)", {},
     (("Demo: Lastensuojelulaitos Majakka", "lead"),
      ("Demo: Lastensuojelulaitos Majakka", "receiver")), "HANDOVERDEMOUNITLEADAAAAAAAAAAAA"),
)


#: The two-factor secret published for each demo address (the plugin's users' too).
_PUBLISHED_SECRETS = {user[0]: user[5] for user in USERS + demo_extras.PLUGIN_USERS}


#: Every demo account's address ends so.
DEMO_DOMAIN = "@demo.handover.example"

#: How many names a refusal or a finding spells out before it only counts the rest.
NAMES_SHOWN = 3

_PUBLISHED = ("the demo's accounts have passwords and two-factor secrets published in the "
              "README: anyone could sign in as its administrator. Try Handover on an instance "
              "of its own (HANDOVER_INSTANCE_PATH).")


def refusal(app):
    """Why seeding the demo into ``app``'s instance would be dangerous, or None when it is not.

    The demo's passwords and two-factor secrets are published in the README, so on an instance
    people really use its administrator would let anyone in. HTTPS on means production. Units
    or users the demo does not make mean real data, unless the demo is seeded here already
    (its administrator is active): what a tester added while trying it must not stop
    `scripts/start` from running `handover demo` again.
    """
    if app.config.get("HTTPS"):
        return ("HTTPS is on (HANDOVER_HTTPS), so this looks like a production instance, and "
                + _PUBLISHED)
    if _seeded_here():
        return None
    units, users = _not_the_demos()
    if not units and not users:
        return None
    held = " and ".join(part for part in (_count(units, "unit"), _count(users, "user")) if part)
    return (f"this instance already holds {held} that the demo did not make "
            f"({names_in_short(units + users)}), and " + _PUBLISHED)


def open_to_anyone():
    """The addresses of the demo accounts anyone can still sign in to with the logins the
    README publishes, in order. One whose password an administrator has reset is shut to them,
    even if the published two-factor secret is still its own."""
    candidates = db.session.scalars(
        select(User)
        .where(User.email.endswith(DEMO_DOMAIN, autoescape=True), User.active,
               User.password_login)
        .order_by(User.email))
    return [user.email for user in candidates if _opens_with_published_logins(user)]


def _opens_with_published_logins(user):
    """The demo password is still the user's, and so is the published two-factor secret, or
    none is enrolled (whoever signs in first enrols one of their own)."""
    return (_second_factor_published(user)
            and passwords.verify_password(user.password_hash, DEMO_PASSWORD))


def _second_factor_published(user):
    """No two-factor secret enrolled, or the one published for this address. A secret that
    does not open lets no one in, so it is not the published one."""
    if not totp.is_enrolled(user):
        return True
    try:
        return totp.secret_of(user) == _PUBLISHED_SECRETS.get(user.email)
    except crypto.TamperedRecord:  # KeyMissing too
        return False


def names_in_short(names):
    """'a, b, c and 4 more': enough to recognise the data without a screenful of it."""
    shown = ", ".join(names[:NAMES_SHOWN])
    return shown + (f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else "")


def _seeded_here():
    """The demo's administrator (the first of USERS) exists and can sign in."""
    admin = accounts.find_user(USERS[0][0])
    return admin is not None and admin.active


def _not_the_demos():
    """Names of units and addresses of users that are not the demo's own (plugin ones too,
    whether or not the plugin is still installed)."""
    unit_names = {name for name, _kind, _organisation in UNITS}
    unit_names |= {name for _kind, name in demo_extras.PLUGIN_UNITS}
    emails = {user[0] for user in USERS + demo_extras.PLUGIN_USERS}
    units = db.session.scalars(select(Unit.name).where(Unit.name.not_in(unit_names))
                               .order_by(Unit.name)).all()
    users = db.session.scalars(select(User.email).where(User.email.not_in(emails))
                               .order_by(User.email)).all()
    return list(units), list(users)


def _count(names, noun):
    return f"{len(names)} {noun}{'s' if len(names) != 1 else ''}" if names else ""


def seed(echo):
    """Add whatever demo units and users are missing, then print how to log in."""
    echo("DEMO DATA: for trying Handover only. Never use these accounts with real data.")
    for name, kind, organisation in _units():
        _ensure_unit(echo, name, kind, organisation)
    for email, name, _duty, system_roles, memberships, secret in _users():
        _ensure_user(echo, email, name, system_roles, memberships, secret)
    seed_handovers(echo)
    _print_logins(echo)


def seed_handovers(echo):
    """One handover of each form between the demo units (invented children, temporary-range
    identity codes only), and a reply of each reply form, through the real lifecycle
    services; a receipt acknowledges its handover, so each receiver also gets a second one,
    about another child, still to acknowledge."""
    demo_handovers.seed(echo)
    demo_extras.seed(echo)
    demo_awaiting.seed(echo)


def _plugin_kinds_here():
    return any(kind in accounts.unit_kinds() for kind, _name in demo_extras.PLUGIN_UNITS)


def _units():
    """The core units, and the example plugin's health service when that plugin is here."""
    extra = tuple((name, kind, COUNTY) for kind, name in demo_extras.PLUGIN_UNITS
                  if kind in accounts.unit_kinds())
    return UNITS + extra


def _users():
    return USERS + (demo_extras.PLUGIN_USERS if _plugin_kinds_here() else ())


def _ensure_unit(echo, name, kind, organisation):
    if accounts.find_unit(name) is not None:
        echo(f"  unit exists: {name}")
        return
    accounts.create_unit(name, kind, organisation)
    echo(f"  unit created: {name}")


def _ensure_user(echo, email, name, system_roles, memberships, secret):
    user = accounts.find_user(email)
    if user is None:
        user, _temporary = accounts.create_user(email, name, password=DEMO_PASSWORD,
                                                **system_roles)
        totp.store_secret(user, secret)
        db.session.commit()
        echo(f"  user created: {email}")
    else:
        echo(f"  user exists: {email} (password and two-factor left as they are)")
    for unit_name, role in memberships:
        unit = accounts.find_unit(unit_name)
        if role not in user.roles_in(unit.id):
            accounts.add_membership(user, unit, role)


def _print_logins(echo):
    echo("")
    echo(f"Demo logins (open {current_app.config['BASE_URL'].rstrip('/')}/login):")
    echo(f"  password for every demo user: {DEMO_PASSWORD}")
    for email, _name, duty, _roles, _memberships, secret in _users():
        totp = pyotp.TOTP(secret)
        echo(f"  {email} - {duty}")
        echo(f"      TOTP secret {secret}, current code {totp.now()}")
        echo(f"      {totp.provisioning_uri(name=email, issuer_name='Handover demo')}")
    echo("")
    echo("No phone needed: print a fresh code for a demo user with")
    echo(f"  {_handover_command()} demo-code EMAIL")
    echo("A code is accepted once; wait for the next one (30 s) to log in again.")


def current_code(email):
    """The current TOTP code of a demo user, or None for any other account: the command that
    prints it must never become a way to read a real user's second factor."""
    for demo_email, _name, _duty, _roles, _memberships, secret in USERS + \
            demo_extras.PLUGIN_USERS:
        if demo_email == (email or "").strip().lower():
            return pyotp.TOTP(secret).now()
    return None


def _handover_command():
    """How to run `handover` here: the one beside this Python (a clone's .venv/bin/handover,
    not on PATH on plain Debian), else the bare name."""
    beside = os.path.join(os.path.dirname(sys.executable), "handover")
    if os.path.exists(beside):
        relative = os.path.relpath(beside)
        return relative if not relative.startswith("..") else beside
    return "handover"
