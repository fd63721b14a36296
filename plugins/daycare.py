"""Built-in plugin: "Sijoitettu lapsi varhaiskasvatuksessa", pre-information for the daycare.

The definition and its routing live in ``forms/daycare.toml``; the foster carer's and the
family home's own routing (a copy to the social worker only) is registered here, as one
``[routing]`` table cannot give each kind of sender its own copies (``register_routing_rules``).
This module also adds the rules that span fields: sharing or publishing photos of a child
whose whereabouts are protected would undo the protection, and a guardian's information is
restricted only by a recorded contact-restriction decision (``restrictions``), never by a ban
on fetching.
"""

from importlib.resources import files

from handover.builtin_plugins import restrictions

from handover import hookimpl

FORMS = files("handover.builtin_forms")
LOCATION_FLAGS = ("non_disclosure", "location_hidden")

MESSAGES = {
    "photos_protected": {
        "fi": "Lapsella on turvakielto tai salattu sijoituspaikka: kuvia ei saa jakaa eikä "
              "julkaista.",
        "sv": "Barnet har spärrmarkering eller hemlig placeringsplats: bilder får inte delas "
              "eller publiceras.",
        "en": "The child has a non-disclosure marking or a hidden placement: photos must not be "
              "shared or published.",
    },
}


@hookimpl
def register_forms(app):
    return [FORMS / "daycare.toml"]


@hookimpl
def register_routing_rules(app):
    """A foster carer or a professional family home sends the form with a copy to the child's
    social worker only. Routing is the union of every rule whose senders include the sending
    unit's kind, so this narrows nothing by itself: it takes effect once the ``[routing]`` of
    ``forms/daycare.toml`` names only child-welfare social work as the sender (copies to family
    care and professional family homes). Until then that table also lets a carer copy any other
    carer or family home of the instance, which reveals other children's placements."""
    return [{"form": "daycare_placed_child",
             "senders": ["family_care", "professional_family_home"],
             "receivers": ["daycare"],
             "copies": ["child_welfare_social_work"]}]


@hookimpl
def validate_form(content, language):
    """Asked only about this plugin's form, with content that passed every field's checks."""
    def say(name):
        texts = MESSAGES[name]
        return texts.get(language, texts["fi"])

    problems = restrictions.problems(content, language)
    if any(content.get(flag) == "yes" for flag in LOCATION_FLAGS):
        if content.get("photo_permission") == "shared_with_families":
            problems["photo_permission"] = [say("photos_protected")]
        if content.get("publication_permission") == "allowed":
            problems["publication_permission"] = [say("photos_protected")]
    return problems

