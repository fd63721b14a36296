"""Built-in plugin: "Sijoitettu lapsi varhaiskasvatuksessa", pre-information for the daycare.

The definition and its routing live in ``forms/daycare.toml``. This module registers it and adds
the rules that span fields: sharing or publishing photos of a child whose whereabouts are
protected would undo the protection, and a guardian's information is restricted only by a
recorded contact-restriction decision (``restrictions``), never by a ban on fetching.
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

