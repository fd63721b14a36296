"""What the first demo handovers say: the content of each built-in form's demo handover, about
an invented child (`ward_content`, `daycare_content`, `school_content`), and the social
worker's part that every one of them shares (`SOCIAL_WORKER_DETAILS`).

The children are invented and their identity codes are in the temporary range (individual
number 900-999), which never belongs to a real person. Most dates are relative to today
(`_days`), so the demo stays current. Apart from `demo_handovers`, which sends them, because
this is data, long and in Finnish; `demo_handovers` answers for these names too: callers
import them from there.
"""

from datetime import timedelta

from handover.formdefs import content as content_rules

SOCIAL_WORKER_DETAILS = {
    # Who decides and who consented (the shared "decides" section): every demo child is
    # placed under a care order, so the municipality decides and the disclosure is statutory.
    "custody_situation": "municipality_care_order", "treatment_consent_by": "social_worker",
    "disclosure_consent_by": "statutory", "guardian_told": "to_be_told",
    "child_told": "told",
    "social_worker_name": "Mikko Nieminen",
    "social_worker_contact": "040 100 2003, mikko.nieminen@demo.example",
    "social_worker_county": "Länsirannikon hyvinvointialue (kuvitteellinen)",
    "emergency_social_service": "Länsirannikon sosiaalipäivystys, 0800 900 900 (ympäri "
                                "vuorokauden)",
}


def _days(offset):
    return (content_rules.today() + timedelta(days=offset)).isoformat()


def ward_content():
    """A 15-year-old's emergency admission from the institution to the adolescent ward."""
    return {
        "child_name": "Veeti Esimerkki", "child_preferred_name": "Veeti",
        "child_identity_code": "140311A915T", "child_birth_date": "2011-03-14",
        "mother_tongue": "suomi", "service_language": "fi", "interpreter_needed": "no",
        "guardians": [{"guardian_name": "Sanna Esimerkki", "guardian_relation": "äiti",
                       "guardian_contact": "040 900 1001", "guardian_custody": "sole",
                       "guardian_information_right": "full"}],
        "placement_basis": "care_order_40", "placement_start_date": "2024-09-02",
        "placement_type": "institution", "placement_name": "Lastensuojelulaitos Majakka",
        "placement_address": "Majakkatie 4, 99990 Kivikylä (kuvitteellinen)",
        **SOCIAL_WORKER_DETAILS,
        "carer_name": "Kaisa Koskinen (omaohjaaja)", "carer_contact": "040 100 3004",
        "placement_phone_24h": "Majakan ohjaajat 040 100 3000 (ympäri vuorokauden)",
        "close_people": [{"close_name": "Iida Esimerkki", "close_relation": "sibling",
                          "close_lives": "Sijoitettuna toiseen perhekotiin",
                          "close_contact_planned": "Videopuhelu sunnuntaisin; tapaaminen "
                                                   "osastolla, kun vointi sallii."}],
        "form_gone_through_with_child": "yes", "form_gone_through_on": _days(0),
        "young_person_to_social_worker": "Haluan, että Iida saa tietää, että olen "
                                         "sairaalassa, mutta en halua, että isä tulee "
                                         "tänne.",
        "non_disclosure": "no", "location_hidden": "no",
        "contact_restrictions": [{
            "restriction_whom": "Isä, Timo Esimerkki",
            "restriction_scope": ["meetings", "calls_messages"],
            "restriction_what": "Tapaamiset vain valvottuina kerran kuukaudessa; ei puheluita "
                                "eikä viestejä osastolle. Isä saa huoltajana tietoja Veetin "
                                "hoidosta sosiaalityöntekijän kautta.",
            "restriction_decision_date": _days(-30), "restriction_until": _days(150)}],
        "arrival_type": "emergency", "arrival_date": _days(-1),
        "referral": "Päivystyksen lähete (nuorisopsykiatrian päivystys)",
        "admission_status": "voluntary_young_person",
        "admission_consent_by": "Veeti itse; sosiaalityöntekijä Mikko Nieminen on tietoinen",
        "arrival_reason": "Veeti on viime viikkoina eristäytynyt huoneeseensa, nukkunut huonosti "
                          "ja puhunut toivottomuudesta. Eilen illalla hän kertoi ohjaajalle "
                          "itsetuhoisista ajatuksista, ja päivystys ohjasi hänet osastolle.",
        "accompanied_by": "Omaohjaaja Kaisa Koskinen",
        "diagnoses": "Masennustila, keskivaikea (arvio kesken).",
        "medications": [{"medication_name": "Melatoniini", "medication_dose": "3 mg",
                         "medication_times": "illalla klo 21",
                         "medication_last_dose": "eilen klo 21"}],
        "allergies": "Ei tiedossa olevia allergioita.",
        "outpatient_psychiatry": "Nuorisopsykiatrian poliklinikan asiakas keväästä 2026.",
        "self_harm": "Viiltelyä keväällä 2026, ei viime viikkoina.",
        "absconding": "Kaksi luvatonta poistumista syksyllä; palasi itse samana iltana.",
        "warning_signs": "Vetäytyy, ei tule syömään, antaa tavaroitaan pois.",
        "sleep": "Nukahtaa myöhään; rauhoittuu kuulokkeilla ja äänikirjalla.",
        "meals": "Syö mieluiten yksin; pitää puurosta ja pastasta.",
        "school_needs": "9. luokka. Oppilaskohtaisena tukitoimena erityisopettajan opetusta "
                        "osittain pienryhmässä (päätös syyskuussa 2025). Sairaalaopetus "
                        "sovitaan osaston koulun kanssa.",
        "calming": "Rauhallinen puhe, kävely ulkona, mahdollisuus vetäytyä.",
        "triggers": "Yllättävät muutokset ja kovaääninen puhe.",
        "crisis_do": "Pysy lähellä, puhu lyhyesti, tarjoa juotavaa.",
        "crisis_dont": "Älä koske ilman lupaa.",
        "strengths": "Piirtää hienosti, huolehtii nuoremmista.",
        "restrictive_measures_used": "yes",
        "restrictive_measure_list": [{
            "measure_type": "confiscation", "measure_frequency": "kerran",
            "measure_last_date": _days(-1),
            "measure_context": "Terävä esine otettiin haltuun illalla, päätös tehty."}],
        "ward_contact_persons": [
            {"contact_person_name": "Sanna Esimerkki", "contact_person_relation": "äiti",
             "contact_permission": "visit_and_call"},
            {"contact_person_name": "Kaisa Koskinen", "contact_person_relation": "omaohjaaja",
             "contact_permission": "visit_and_call"}],
        "young_person_about_me": "Tykkään piirtää ja kuunnella musiikkia.",
        "placement_kept_open": "yes", "return_planner": "Kaisa Koskinen",
        "child_view_asked": "yes",
        "child_view": "Veeti toivoo, että äiti saa käydä ja että piirustusvälineet tulevat mukaan.",
        "child_view_recorded_by": "Kaisa Koskinen", "child_view_recorded_on": _days(-1),
        "author_name": "Kaisa Koskinen", "author_title": "Omaohjaaja, sosionomi (AMK)",
        "author_contact": "040 100 3004", "author_date": _days(0),
    }


def daycare_content():
    """A five-year-old in family care starting at the daycare."""
    return {
        "child_name": "Ella Kuvitelma", "child_preferred_name": "Ella",
        "child_identity_code": "230621A948N", "child_birth_date": "2021-06-23",
        "mother_tongue": "suomi", "service_language": "fi", "interpreter_needed": "no",
        "guardians": [{"guardian_name": "Jenni Kuvitelma", "guardian_relation": "äiti",
                       "guardian_contact": "040 900 2002", "guardian_custody": "joint",
                       "guardian_information_right": "full"},
                      {"guardian_name": "Tero Kuvitelma", "guardian_relation": "isä",
                       "guardian_contact": "040 900 2003", "guardian_custody": "joint",
                       "guardian_information_right": "full"}],
        "placement_basis": "care_order_40", "placement_start_date": _days(-30),
        "placement_type": "family_care", "placement_name": "Perhehoitaja Liisa Järvinen",
        "placement_address": "Pihlajapolku 7, 99990 Kivikylä (kuvitteellinen)",
        **SOCIAL_WORKER_DETAILS,
        "carer_name": "Liisa Järvinen (perhehoitaja)", "carer_contact": "040 100 4005",
        "placement_phone_24h": "Liisa Järvinen 040 100 4005, Pekka Järvinen 040 100 4006",
        "close_people": [{"close_name": "Aili Kuvitelma", "close_relation": "grandparent",
                          "close_lives": "Toisella paikkakunnalla",
                          "close_contact_planned": "Mummola kerran kuussa perhehoitajan "
                                                   "kanssa; puhelu viikoittain."}],
        "form_gone_through_with_child": "yes", "form_gone_through_on": _days(-3),
        "me_likes": ["outdoors", "drawing", "animals"],
        "me_when_sad": ["hug", "comfort_object"],
        "me_own_words": "Sininen pupu tulee mukaan. Tykkään keinua.",
        "me_filled_with": "Liisa Järvinen Ellan kanssa kuvakorttien avulla",
        "non_disclosure": "no", "location_hidden": "no",
        "contact_restrictions": [{
            "restriction_whom": "Isä, Tero Kuvitelma",
            "restriction_scope": ["meetings"],
            "restriction_what": "Tapaamiset vain valvottuina perhekeskuksessa joka toinen "
                                "viikko. Isä ei tapaa Ellaa päiväkodissa eikä hae häntä. "
                                "Tietojen antamista ei ole rajoitettu.",
            "restriction_decision_date": _days(-40), "restriction_until": _days(140)}],
        "ecec_start_date": _days(7), "ecec_hours": "Ma–pe klo 8–15.",
        "shift_care": "no", "ecec_group": "Tiitiäiset", "ecec_teacher": "Marjo Salo",
        "may_fetch": [{"fetch_name": "Liisa Järvinen", "fetch_relation": "perhehoitaja",
                       "fetch_phone": "040 100 4005"},
                      {"fetch_name": "Pekka Järvinen", "fetch_relation": "perhehoitaja",
                       "fetch_phone": "040 100 4006"}],
        "may_not_fetch": [{"no_fetch_name": "Tero Kuvitelma", "no_fetch_relation": "isä",
                           "no_fetch_reason": "contact_restriction",
                           "no_fetch_details": "Jos isä tulee päiväkotiin, älä luovuta lasta; "
                                               "soita perhehoitajalle ja sosiaalityöntekijälle."}],
        "changes_approved_by": "Sosiaalityöntekijä Mikko Nieminen",
        "parents_in_discussions": "Äiti osallistuu varhaiskasvatussuunnitelman keskusteluun. "
                                  "Isä saa tiedot vasusta sosiaalityöntekijän kautta; hän ei "
                                  "osallistu tapaamisiin päiväkodissa.",
        "parents_visit_daycare": "by_arrangement",
        "visit_schedule": "Äidin tapaamiset joka toinen lauantai perhehoitajan kodissa, isän "
                          "valvotut tapaamiset joka toinen tiistai perhekeskuksessa. "
                          "Tapaamisten jälkeisinä päivinä Ella on usein väsynyt.",
        "allergies": "Pähkinäallergia (ei anafylaksiaa).", "diet": "Pähkinätön ruokavalio.",
        "daytime_medication": [],
        "pre_primary": "no", "support_level": "general",
        "support_measures": "Kuvatuki siirtymätilanteissa.",
        "emotional_life": "Ella on aluksi varautunut ja tarkkailee; lämpenee aikuiselle hitaasti.",
        "separations": "Aamuerot perhehoitajasta ovat vaikeita; lyhyt ja ennakoitava hyvästely "
                       "auttaa.",
        "calming": "Syli, oma unilelu ja hiljainen nurkkaus.",
        "triggers": "Äkilliset äänet ja vieraat aikuiset ovella.",
        "transitions": "Kerro etukäteen, mitä seuraavaksi tapahtuu.",
        "naps": "Nukkuu päivisin noin tunnin.", "meals": "Syö hyvin, maito laktoositonta.",
        "comfort_objects": "Sininen pupu",
        "photo_permission": "internal_only", "publication_permission": "not_allowed",
        "permission_decider": "Sosiaalityöntekijä Mikko Nieminen",
        "daily_contact_person": "Liisa Järvinen",
        "ecec_plan_participants": "Perhehoitaja, äiti, sosiaalityöntekijä ja ryhmän "
                                  "opettaja.",
        "child_view_asked": "yes",
        "child_view": "Ella toivoo, että pupu saa tulla mukaan ja että ulkona saa keinua.",
        "child_view_recorded_by": "Liisa Järvinen", "child_view_recorded_on": _days(-3),
        "foster_carer_view": "Ella tarvitsee aluksi lyhyitä päiviä ja samaa aikuista.",
        "author_name": "Mikko Nieminen", "author_title": "Sosiaalityöntekijä",
        "author_contact": "040 100 2003", "author_date": _days(0),
    }


def school_content():
    """A 13-year-old moving to a new school, placement location hidden."""
    return {
        "child_name": "Onni Testinen", "child_identity_code": "070913A9625",
        "child_birth_date": "2013-09-07", "mother_tongue": "suomi", "service_language": "fi",
        "interpreter_needed": "no",
        "guardians": [{"guardian_name": "Marko Testinen", "guardian_relation": "isä",
                       "guardian_contact": "040 900 3003", "guardian_custody": "joint",
                       "guardian_information_right": "limited"}],
        "placement_basis": "care_order_40", "placement_start_date": _days(-20),
        "placement_type": "institution", "placement_name": "Lastensuojelulaitos Majakka",
        "placement_address": "Majakkatie 4, 99990 Kivikylä (kuvitteellinen)",
        **SOCIAL_WORKER_DETAILS,
        "carer_name": "Anna Lehtonen (yksikön johtaja)", "carer_contact": "040 100 5006",
        "placement_phone_24h": "Majakan ohjaajat 040 100 3000 (ympäri vuorokauden)",
        "close_people": [{"close_name": "Joona Testinen", "close_relation": "sibling",
                          "close_lives": "Asuu itsenäisesti (jälkihuolto)",
                          "close_contact_planned": "Tapaa Onnia viikonloppuisin laitoksella."}],
        "form_gone_through_with_child": "yes", "form_gone_through_on": _days(-2),
        "non_disclosure": "no", "location_hidden": "yes",
        "contact_restrictions": [{
            "restriction_whom": "Isä, Marko Testinen",
            "restriction_scope": ["location", "information"],
            "restriction_what": "Sijoituspaikkaa ei saa kertoa isälle; koulu ei anna tietoja "
                                "lapsen asuinpaikasta eikä koulumatkoista. Koulunkäynnistä "
                                "isälle kertoo sosiaalityöntekijä.",
            "restriction_decision_date": _days(-20), "restriction_until": _days(180)}],
        "sending_school": "Koulu Rantala (kuvitteellinen)",
        "sending_school_contact": "Rehtori, 040 900 4004",
        "receiving_school": "Koulu Kivikko", "principal": "Juha Virtanen",
        "teachers": "Luokanvalvoja Hanna Aalto", "school_start_date": _days(7),
        "grade": "7", "home_municipality": "Kivikylä",
        "support_model": "reform_2025", "support_decision_date": "2025-09-15",
        "group_support_forms": ["remedial_teaching", "special_teacher_in_class"],
        "pupil_support_measures": ["special_teacher_partly_small_group"],
        "support_notes": "Matematiikan erityisopetus osittain pienryhmässä kaksi tuntia "
                         "viikossa; lisäaika kokeissa ja selkeä päivän rakenne ovat auttaneet.",
        "syllabus_per_subject": "Yleinen oppimäärä kaikissa aineissa.",
        "latest_assessment": "Lukuvuositodistus keväältä 2026, keskiarvo 7,4.",
        "language_programme": [
            {"language_syllabus": "a1", "language_name": "englanti", "language_started": "1"},
            {"language_syllabus": "b1", "language_name": "ruotsi", "language_started": "6"}],
        "second_language": "none", "religion_or_ethics": "ethics",
        "absences": "Noin 40 tuntia poissaoloja syksyllä ennen sijoitusta.",
        "learning_gaps": "Matematiikan perusasioissa aukkoja.",
        "school_absenteeism": "no", "pupil_welfare_contacts": "Koulukuraattori viikoittain.",
        "helps_learning": "Lyhyet tehtävät, selkeät ohjeet ja rauhallinen paikka.",
        "triggers": "Ryhmätyöt vieraiden kanssa ja kovat äänet.",
        "safety_plan": "Jos isä tulee koululle, lasta ei luovuteta; soitetaan laitokselle.",
        "school_transport": "Laitoksen ohjaaja saattaa aamuisin ensimmäisen viikon.",
        "school_may_fetch": [{"fetch_name": "Anna Lehtonen", "fetch_relation": "laitos",
                              "fetch_phone": "040 100 5006"}],
        "messaging_access": [{"messaging_person": "Anna Lehtonen", "messaging_role": "carer",
                              "messaging_access_level": "full"},
                             {"messaging_person": "Marko Testinen", "messaging_role": "guardian",
                              "messaging_access_level": "none"}],
        "child_view_asked": "yes",
        "child_view": "Onni haluaa aloittaa rauhassa ja istua ikkunan vieressä.",
        "child_view_recorded_by": "Mikko Nieminen", "child_view_recorded_on": _days(-2),
        "pupil_wishes": "Haluaa jatkaa sählyä koulun kerhossa.",
        "author_name": "Mikko Nieminen", "author_title": "Sosiaalityöntekijä",
        "author_contact": "040 100 2003", "author_date": _days(0),
    }
