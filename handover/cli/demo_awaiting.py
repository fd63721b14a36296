"""The demo's second handover of each form that has a receipt, still awaiting acknowledgement.

The first handover of such a form carries the whole exchange: the receiver's receipt, which
acknowledged it as sending one does, and on the ward the discharge summary. A receiver trying the
demo also needs one to acknowledge, so each of these forms gets a second handover, about another
invented child (temporary-range identity code), sent after the first and left unopened.

The content is the first child's, renamed, with the child's own story told differently; it is
sent through the same services and marked with its own submission token (``second_token``), so
a second run adds nothing.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from handover.cli import demo_extras, demo_handovers
from handover.cli.demo_handovers import send_once
from handover.formdefs import content as content_rules


def second_token(form_key):
    return f"{demo_handovers.token(form_key)}-awaiting"


def _days(offset):
    return (content_rules.today() + timedelta(days=offset)).isoformat()


def renamed(value: Any, names: dict[str, str]) -> Any:
    """``value`` with every name in ``names`` replaced, in every text however deep: the
    replacements are chosen so that Finnish case endings still fit (Veetin -> Sofian)."""
    if isinstance(value, dict):
        return {key: renamed(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [renamed(item, names) for item in value]
    if isinstance(value, str):
        for old, new in names.items():
            value = value.replace(old, new)
    return value


def ward_content():
    """A 15-year-old, also from the institution, admitted in an emergency today."""
    return {
        **renamed(demo_handovers.ward_content(), {"Veeti": "Sofia", "Esimerkki": "Harjoitus"}),
        "child_identity_code": "020811A931L", "child_birth_date": "2011-08-02",
        "arrival_date": _days(0),
        "arrival_reason": "Sofia on ollut kaksi viikkoa poissa koulusta eikä ole jaksanut "
                          "nousta sängystä. Tänä aamuna hän kertoi ohjaajalle, ettei halua "
                          "enää elää, ja päivystys ohjasi hänet osastolle.",
        "strengths": "Soittaa kitaraa, on tarkka ja sinnikäs.",
        "young_person_about_me": "Soitan kitaraa ja tykkään eläimistä.",
        "child_view": "Sofia toivoo, että kitara saa tulla osastolle ja että Iida saa soittaa.",
        "child_view_recorded_on": _days(0),
    }


def daycare_content():
    """A five-year-old placed in the same foster family, starting at the daycare later."""
    return {
        **renamed(demo_handovers.daycare_content(), {"Ella": "Leo", "Kuvitelma": "Kokeilu"}),
        "child_identity_code": "041121A944A", "child_birth_date": "2021-11-04",
        "ecec_start_date": _days(14),
        "me_likes": ["outdoors", "building", "music"],
        "me_own_words": "Oma peitto tulee mukaan. Tykkään rakentaa autoradan.",
        "comfort_objects": "Oma peitto",
        "child_view": "Leo toivoo, että peitto saa tulla mukaan ja että saa rakentaa legoilla.",
    }


def school_content():
    """A 13-year-old from the institution starting at the school; the placement is hidden."""
    return {
        **renamed(demo_handovers.school_content(), {"Onni": "Aino", "Testinen": "Näyte"}),
        "child_identity_code": "280513A957A", "child_birth_date": "2013-05-28",
        "school_start_date": _days(10),
        "child_view": "Aino toivoo, että hän saa käydä katsomassa koulua ennen ensimmäistä "
                      "päivää.",
        "pupil_wishes": "Haluaa jatkaa kuorossa.",
    }


def pre_placement_content():
    """A ten-year-old whose placement in the family home is planned for later."""
    return {
        **renamed(demo_extras.pre_placement_content(),
                  {"Niko": "Eemeli", "Mallikas": "Luonnos"}),
        "child_identity_code": "011016A9682", "child_birth_date": "2016-10-01",
        "planned_start_date": _days(35),
    }


#: (form key, content) of the handovers left awaiting acknowledgement; sent as the form's first
#: demo handover is (sender, units, copies, legal basis).
AWAITING: tuple[tuple[str, Callable[[], dict[str, Any]]], ...] = (
    ("psychiatric_ward_preinfo", ward_content),
    ("daycare_placed_child", daycare_content),
    ("school_transfer", school_content),
    ("pre_placement_notice", pre_placement_content),
)


def seed(echo):
    """Send whatever second handover is missing, after the first ones: the inbox lists the
    newest first, so the one to acknowledge is on top."""
    first = {entry[0]: entry for entry in demo_handovers.HANDOVERS + demo_extras.HANDOVERS}
    for form_key, content in AWAITING:
        send_once(echo, *first[form_key][:-1], content, submission_token=second_token(form_key))
