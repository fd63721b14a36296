"""Form definitions for tests, built as dicts so each test can break exactly one thing."""

import copy
import shutil
from pathlib import Path


def texts(word):
    """A complete fi/sv/en text table."""
    return {"fi": f"{word} (fi)", "sv": f"{word} (sv)", "en": word}


def choice(value):
    return {"value": value, "label": texts(value.title())}


def field(key, type_="text", **extra):
    return {"key": key, "type": type_, "label": texts(key.replace("_", " ").title()), **extra}


#: One field of every type, a repeating group, conditions and a location flag.
EVERY_TYPE = {
    "key": "every_type",
    "version": 1,
    "title": texts("Every type"),
    "description": texts("A form with one field of each type"),
    "identity_code_field": "identity_code",
    "summary_fields": ["name"],
    "location_flags": ["location_hidden"],
    "routing": {
        "senders": ["child_welfare_institution"],
        "receivers": ["psychiatric_ward"],
        "copies": ["child_welfare_social_work"],
    },
    "visibility": {"copies": {"child_welfare_social_work": ["basics"]}},
    "legal_bases": [{"key": "necessary", "label": texts("Necessary")}],
    "sections": [
        {
            "key": "basics",
            "title": texts("Basics"),
            "fields": [
                field("name", required=True, max_length=20),
                field("story", "textarea"),
                field("identity_code", "hetu"),
                field("birth_date", "date"),
                field("location_hidden", "yesno"),
                field("address", reveals_location=True),
                field("arrival", "choice", required=True,
                      choices=[choice("planned"), choice("emergency")]),
                field("emergency_reason", "textarea", required=True,
                      show_if={"field": "arrival", "equals": "emergency"}),
                field("needs", "multichoice", choices=[choice("sleep"), choice("food")]),
            ],
        },
        {
            "key": "contacts",
            "title": texts("Contacts"),
            "fields": [
                field("phone", "phone"),
                field("email", "email"),
                field("score", "number", min=0, max=10),
                field("ward_only", sender_kinds=["psychiatric_ward"]),
                field("guardians", "group", max_rows=3, fields=[
                    field("guardian_name", required=True),
                    field("custody", "yesno"),
                ]),
            ],
        },
    ],
}


def every_type(**changes):
    definition = copy.deepcopy(EVERY_TYPE)
    definition.update(changes)
    return definition


TEST_PLUGINS = Path(__file__).resolve().parent / "plugins"


def install_plugins(instance_path, *names):
    """Copy test plugins (with their same-stem TOML files) into the instance plugins folder,
    as an admin dropping modules there would; call before the `app` fixture is created."""
    target = instance_path / "plugins"
    target.mkdir(exist_ok=True)
    for name in names:
        for path in TEST_PLUGINS.glob(f"{name}.*"):
            shutil.copy(path, target / path.name)
