"""Demo handovers: a realistic handover of each built-in form between the demo units, so that a
newcomer logging in as the ward nurse, the daycare director or the school principal finds
something in the inbox. These first ones carry the demo's exchange (``demo_extras`` answers them
with the receipt, which acknowledges them); ``demo_awaiting`` sends each receiver a second one,
still to acknowledge.

The children are invented and their identity codes are in the temporary range (individual
number 900-999), which never belongs to a real person. Each handover goes through the real
lifecycle services (draft, save, send), so it is encrypted, routed, validated and audited like
any other. Its submission token ``demo-<form key>`` marks it, so a second run adds nothing.

This module names the demo's units and people and sends the handovers (`seed`, `send_once`);
what each one says lives beside it in `demo_contents` and is answered here too
(`ward_content`, `SOCIAL_WORKER_DETAILS`, ...), so callers ask this one module.
"""

from sqlalchemy import select

from handover.cli.demo_contents import (  # noqa: F401  (asked through here)
    SOCIAL_WORKER_DETAILS,
    daycare_content,
    school_content,
    ward_content,
)
from handover.services import accounts, drafts, sending
from handover.store.database import db
from handover.store.models import Handover

INSTITUTION = "Demo: Lastensuojelulaitos Majakka"
SOCIAL_WORK = "Demo: Sosiaalityö Etelä"
FAMILY_CARE = "Demo: Perhehoito Etelä"
WARD = "Demo: Nuorisopsykiatrian osasto 3"
DAYCARE = "Demo: Päiväkoti Satakieli"
SCHOOL = "Demo: Koulu Kivikko"
FAMILY_HOME = "Demo: Ammatillinen perhekoti Kotipesä"
CLINIC = "Demo: Nuorisopsykiatrian poliklinikka"
EDUCATION = "Demo: Kivikylän sivistystoimi"
KEY_WORKER = "omaohjaaja@demo.handover.example"
SOCIAL_WORKER = "sosiaalityontekija@demo.handover.example"


def token(form_key):
    return f"demo-{form_key}"


#: (form key, sender e-mail, sending unit, receiving unit, copy units, legal basis, content)
HANDOVERS = (
    ("psychiatric_ward_preinfo", KEY_WORKER, INSTITUTION, WARD, (SOCIAL_WORK, CLINIC),
     "child_welfare_necessary", ward_content),
    ("daycare_placed_child", SOCIAL_WORKER, SOCIAL_WORK, DAYCARE, (FAMILY_CARE,),
     "child_welfare_necessary", daycare_content),
    ("school_transfer", SOCIAL_WORKER, SOCIAL_WORK, SCHOOL, (INSTITUTION,),
     "child_welfare_necessary", school_content),
)


def seed(echo):
    """Send whatever demo handover is missing; leave existing ones alone."""
    for entry in HANDOVERS:
        send_once(echo, *entry)


def send_once(echo, form_key, email, sender_unit, receiver, copies, basis, content, *,
              submission_token=None):
    """Send one demo handover unless its token (the form's own unless told) shows it was sent
    already."""
    marker = submission_token or token(form_key)
    if db.session.execute(select(Handover.id).where(
            Handover.submission_token == marker)).first() is not None:
        echo(f"  demo handover exists: {marker}")
        return
    sender = accounts.find_user(email)
    draft = drafts.start(sender, accounts.find_unit(sender_unit), form_key,
                         accounts.find_unit(receiver),
                         [accounts.find_unit(name) for name in copies], basis)
    drafts.save(sender, draft, content())
    try:
        sent = sending.send(sender, draft, marker)
    except drafts.ValidationFailed as failure:
        drafts.discard(sender, draft)
        raise RuntimeError(f"demo {form_key} does not validate: {sorted(failure.errors)}") \
            from None
    echo(f"  demo handover sent: {marker} #{sent.id} to {receiver}")
