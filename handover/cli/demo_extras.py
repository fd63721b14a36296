"""The rest of the demo: the advance notice of a placement, the example plugin's health check
and its results (when that plugin is installed), and a reply of every reply form, written by
the demo's receivers, so that a newcomer sees a whole exchange and not only a first message.

The people are invented and identity codes are in the temporary range, as in
``demo_handovers``; every reply is checked with the reply form's own field rules before it is
stored, as the reply page checks it. A receipt acknowledges its handover, as it does for anyone
sending it.
"""

from datetime import timedelta

from sqlalchemy import select

from handover.cli.demo_handovers import (
    EDUCATION,
    FAMILY_CARE,
    SCHOOL,
    SOCIAL_WORK,
    SOCIAL_WORKER,
    SOCIAL_WORKER_DETAILS,
    daycare_content,
    send_once,
    token,
)
from handover.formdefs import content as content_rules
from handover.plugins.manager import registry
from handover.services import accounts, policy, reading, replies
from handover.store.database import db
from handover.store.models import Handover

HEALTH_SERVICE = "Demo: Neuvola ja kouluterveydenhuolto Etelä"
HEALTH_NURSE = "terveydenhoitaja@demo.handover.example"
NURSE = "omahoitaja@demo.handover.example"
DIRECTOR = "paivakoti@demo.handover.example"
PRINCIPAL = "rehtori@demo.handover.example"
EDUCATION_OFFICER = "sivistystoimi@demo.handover.example"


def _days(offset):
    return (content_rules.today() + timedelta(days=offset)).isoformat()


def pre_placement_content():
    """A ten-year-old whose placement in a professional family home is being planned."""
    return {
        "child_name": "Niko Mallikas", "child_preferred_name": "Niko",
        "child_identity_code": "120416A950R", "child_birth_date": "2016-04-12",
        "mother_tongue": "suomi", "service_language": "fi", "interpreter_needed": "no",
        "planned_start_date": _days(21), "planned_placement_type": "professional_family_home",
        "placement_municipality": "Kivikylä", "home_municipality": "Rantala (kuvitteellinen)",
        "current_school": "Koulu Rantala (kuvitteellinen)", "school_year": "5. luokka",
        "receiving_school_known": "Koulu Kivikko (todennäköisin lähikoulu)",
        "support_in_force": "pupil_specific",
        "school_needs": "Erityisopettajan opetusta osittain pienryhmässä lukemisessa "
                        "(päätös 2025). Tarvitsee koulukuljetuksen ensimmäisiksi viikoiksi.",
        "non_disclosure": "no", "location_hidden": "no", "contact_restrictions": [],
        **SOCIAL_WORKER_DETAILS,
        "carer_name": "Jari Salminen (ammatillinen perhekoti Kotipesä)",
        "carer_contact": "040 100 6007",
        "placement_phone_24h": "Kotipesä 040 100 6000 (ympäri vuorokauden)",
        "author_name": "Mikko Nieminen", "author_title": "Sosiaalityöntekijä",
        "author_contact": "040 100 2003", "author_date": _days(0),
    }


def health_check_content():
    """Ella's health check after her placement in family care (the example plugin's form)."""
    ella = daycare_content()
    return {
        "child_name": ella["child_name"], "preferred_name": "Ella",
        "child_identity_code": ella["child_identity_code"],
        "child_birth_date": ella["child_birth_date"], "mother_tongue": "suomi",
        "service_language": "fi", "interpreter_needed": "no",
        "placement_basis": "care_order", "placement_start": ella["placement_start_date"],
        "placement_reason": "Vanhempien jaksaminen ei riittänyt Ellan hoitoon; Ellan "
                            "neuvolakäynnit ovat jääneet väliin vuoden ajan.",
        "placement_type": "family_care", "placement_name": "Perhehoitaja Liisa Järvinen",
        "placement_address": ella["placement_address"],
        "non_disclosure": "no", "location_hidden": "no", "check_wished_by": _days(14),
        "social_worker_name": "Mikko Nieminen", "social_worker_phone": "040 100 2003",
        "social_worker_email": "mikko.nieminen@demo.example",
        "carer_name": "Liisa Järvinen", "carer_phone": "040 100 4005",
        "emergency_social_service": SOCIAL_WORKER_DETAILS["emergency_social_service"],
        "placement_phone_24h": "040 100 4005 (Liisa Järvinen)",
        "guardians": [{"name": "Jenni Kuvitelma", "phone": "040 900 2002"},
                      {"name": "Tero Kuvitelma", "phone": "040 900 2003"}],
        "guardian_information_restricted": "no",
        "known_illnesses": "Ei tiedossa olevia pitkäaikaissairauksia.",
        "medications": [], "allergies": "Pähkinäallergia (ei anafylaksiaa).",
        "vaccinations": "incomplete",
        "vaccination_notes": "MPR-rokotteen toinen annos puuttuu neuvolakorttien mukaan.",
        "growth_concern": "no", "dental": "Edellinen hammastarkastus yli vuosi sitten.",
        "earlier_records": "Rantalan neuvola (kuvitteellinen)", "age_group": "under_10",
        "view_recorded_by": "Liisa Järvinen, Ella kertoi pelkäävänsä piikkejä",
    }


def health_results_content():
    ella = daycare_content()
    return {
        "child_name": ella["child_name"], "child_identity_code": ella["child_identity_code"],
        "child_birth_date": ella["child_birth_date"],
        "non_disclosure": "no", "location_hidden": "no",
        "check_date": _days(-2), "checked_by": "Sanna Koivisto, terveydenhoitaja",
        "findings_summary": "Kasvu ja kehitys ikätasoiset. Puhe selkeää. Kariesta kahdessa "
                            "maitohampaassa.",
        "vaccinations_after": "catch_up_planned",
        "referrals": "Hammashoitolaan kiireetön aika.",
        "child_questions_answered": "Ella sai katsoa välineet ennen tarkastusta; rokotus "
                                    "sovittiin seuraavalle käynnille perhehoitajan kanssa.",
        "daily_care": "Pähkinätön ruokavalio jatkuu. Ei säännöllistä lääkitystä.",
        "appointments": f"MPR-rokotus neuvolassa {_days(12)} klo 9.30; hammashoitola kutsuu.",
        "when_to_contact": "Neuvolaan arkisin, jos Ella kuumeilee rokotuksen jälkeen yli "
                           "kaksi päivää.",
        "author_name": "Sanna Koivisto, terveydenhoitaja",
        "author_contact": "040 100 8008 (arkisin 8–15)",
    }


#: (form key, sender e-mail, sending unit, receiving unit, copy units, legal basis, content);
#: the health-check forms are seeded only when the example plugin is installed.
HANDOVERS = (
    ("pre_placement_notice", SOCIAL_WORKER, SOCIAL_WORK, EDUCATION, (SCHOOL,),
     "child_welfare_act_52a", pre_placement_content),
    ("placement_health_check", SOCIAL_WORKER, SOCIAL_WORK, HEALTH_SERVICE, (),
     "necessary_for_care", health_check_content),
    ("placement_health_check_results", HEALTH_NURSE, HEALTH_SERVICE, SOCIAL_WORK,
     (FAMILY_CARE,), "necessary_for_care", health_results_content),
)
#: Units and people that exist only when the health-check plugin is installed.
PLUGIN_UNITS = (("health_service", HEALTH_SERVICE),)
PLUGIN_USERS = (
    (HEALTH_NURSE, "Sanna Koivisto", "public health nurse (health checks; receives and replies)",
     {}, ((HEALTH_SERVICE, "sender"), (HEALTH_SERVICE, "receiver")),
     "HANDOVERDEMOHEALTHNURSEAAAAAAAAA"),
)


#: (form key, reply form key, replying e-mail, content)
REPLIES = (
    ("psychiatric_ward_preinfo", "ward_receipt", NURSE, lambda: {
        "received_on": _days(0), "primary_nurse_name": "Tiina Mäkelä",
        "primary_nurse_contact": "040 100 7007, osasto 3 (24/7 puhelin 040 100 7000)",
        "care_meeting_date": _days(3), "care_meeting_time": "13.00–14.30",
        "care_meeting_place": "Osasto 3, neuvotteluhuone; sosiaalityöntekijä etänä",
        "receipt_notes": "Veeti on rauhoittunut ensimmäisenä yönä. Piirustusvälineet saa "
                         "tuoda.",
        "acknowledged_by": "Tiina Mäkelä, sairaanhoitaja (omahoitaja)"}),
    ("psychiatric_ward_preinfo", "ward_discharge", NURSE, lambda: {
        "discharge_date": _days(40),
        "medication_changes": "Aloitettu sertraliini 50 mg aamuisin; melatoniini jatkuu.",
        "follow_up": "Nuorisopsykiatrian poliklinikka, ensimmäinen käynti viikon kuluttua "
                     "kotiutuksesta; yhteyshenkilö Heidi Laine.",
        "discharge_warning_signs": "Vetäytyminen ja syömättömyys: ota yhteys poliklinikalle, "
                                   "iltaisin ja viikonloppuisin nuorisopsykiatrian "
                                   "päivystykseen.",
        "ward_contact": "Osasto 3, 040 100 7000 (24/7)",
        "summary_author": "Tiina Mäkelä, sairaanhoitaja (omahoitaja)"}),
    ("daycare_placed_child", "daycare_receipt", DIRECTOR, lambda: {
        "received_on": _days(0), "received_by": "Sari Heikkinen, päiväkodin johtaja",
        "contact_name": "Marjo Salo", "contact_role": "Ryhmän varhaiskasvatuksen opettaja",
        "contact_phone": "040 100 9009", "contact_email": "marjo.salo@demo.example",
        "start_meeting_date": _days(5), "start_meeting_time": "14.00–15.00",
        "start_meeting_place": "Päiväkoti Satakieli, Tiitiäisten ryhmä",
        "ecec_plan_meeting_date": _days(35),
        "meeting_invited": "Perhehoitaja Liisa Järvinen, äiti Jenni Kuvitelma, "
                           "sosiaalityöntekijä Mikko Nieminen, ryhmän opettaja.",
        "receipt_notes": "Ella voi tutustua ryhmään perhehoitajan kanssa jo ennen aloitusta."}),
    ("school_transfer", "school_receipt", PRINCIPAL, lambda: {
        "received_on": _days(0), "received_by": "Juha Virtanen, rehtori",
        "network_meeting_date": _days(4), "network_meeting_time": "8.30–9.30",
        "network_meeting_place": "Koulu Kivikko, rehtorin kanslia",
        "network_meeting_invited": "Sosiaalityöntekijä, laitoksen yksikön johtaja, "
                                   "erityisopettaja, kuraattori ja Onni itse.",
        "network_meeting_notes": "Isää ei kutsuta; yhteydenpidon rajoitus huomioitu."}),
    ("pre_placement_notice", "pre_placement_receipt", EDUCATION_OFFICER, lambda: {
        "received_on": _days(0), "contact_name": "Petri Koskela, opetuspäällikkö",
        "contact_phone": "040 100 1010", "assigned_school": "Koulu Kivikko",
        "first_school_day": _days(22), "meeting_date": _days(10),
        "meeting_time_place": "Klo 13, Koulu Kivikko",
        "receipt_notes": "Koulukuljetus järjestetään kolmeksi ensimmäiseksi viikoksi."}),
    ("placement_health_check", "placement_health_check_reply", HEALTH_NURSE, lambda: {
        "appointment_date": _days(-2), "contact_nurse": "Sanna Koivisto, 040 100 8008",
        "notes": "Perhehoitaja tulee mukaan; varaamme 60 minuuttia."}),
)


def reply_problems(definition, content):
    """The reply form's own field rules, as the reply page checks them."""
    return content_rules.problems(definition, content)


def seed(echo):
    """Send the newer forms (those whose plugin is installed), then every missing reply."""
    registered = {definition.key for definition in registry().forms()}
    for entry in HANDOVERS:
        if entry[0] in registered:
            send_once(echo, *entry)
    for form_key, reply_key, email, content in REPLIES:
        handover = db.session.execute(select(Handover).where(
            Handover.submission_token == token(form_key))).scalar_one_or_none()
        if handover is None:
            continue
        user = accounts.find_user(email)
        definition = replies.reply_form(handover, reply_key)
        if any(reply.kind == reply_key for reply in handover.replies):
            echo(f"  demo reply exists: {reply_key}")
            _acknowledge_if_receipt(echo, user, handover, definition)
            continue
        filled = content()
        if reply_problems(definition, filled):
            raise RuntimeError(f"demo reply {reply_key} does not validate: "
                               f"{sorted(reply_problems(definition, filled))}")
        # A receipt acknowledges the handover, as it does for anyone sending it; each receiver
        # still finds one to acknowledge (demo_awaiting).
        replies.add_form_reply(policy.require(user, handover.id, "reply_form"), user,
                               reply_key, filled)
        echo(f"  demo reply added: {reply_key} on #{handover.id}")


def _acknowledge_if_receipt(echo, user, handover, definition):
    """A receipt an earlier demo stored without acknowledging (before receipts acknowledged)
    acknowledges its handover now: the thread and the status then tell the same story."""
    if definition.acknowledges and handover.status in ("sent", "opened"):
        reading.acknowledge(policy.require(user, handover.id, "acknowledge"), user)
        echo(f"  demo receipt now acknowledges #{handover.id}")
