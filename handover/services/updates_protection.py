"""What a placement update carries of the protection of the child's handovers (`Protection`):
the location flags (a non-disclosure marking, a placement hidden from the parents) that any
handover it is sent through carried, sealed in its content under `PROTECTION_KEY` so that every
reader sees the same warning, and per receiving unit whether fields that would reveal where the
child lives are hidden from it. `carried` and `carried_flags` read that back for the reader.

Apart from `services.updates`, which finds the handovers and sends, because this decides what
is told and hidden from the handovers it is given and asks the database nothing. `updates`
answers for these names too: callers import them from there.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from handover.formdefs import text_in
from handover.security import crypto
from handover.services import definition_of, open_json
from handover.store.models import Handover

#: Where an update's sealed content keeps the labels of the flags it carries and whether its
#: receiver has location fields hidden: no field's key can start with "_".
PROTECTION_KEY = "_protection"


@dataclass(frozen=True)
class Protection:
    """What an update carries of the protection of the child's handovers it is sent through.

    Each location flag is "yes" when any of those handovers carried it: the flags describe
    the child, not one handover, and the same update reaches every unit, so every reader gets
    the same warning. Location fields are shown only to a unit that was the main receiver of
    a handover carrying a flag (it already holds the location under that protection); every
    other unit has them hidden, above all one that got only a copy of such a handover."""

    #: Flag key → "yes" or "no", over the location flags of those handovers' forms.
    flags: dict[str, str]
    #: The label (per language) of each flag that holds.
    labels: dict[str, dict[str, str]]
    #: The units that were the main receiver of a handover carrying a flag.
    trusted: frozenset[int]

    def cases_in(self, language: str) -> list[str]:
        """The flags that hold, in ``language``: what the update page warns its sender of."""
        return [text_in(label, language) for label in self.labels.values()]

    def hides_location_from(self, unit_id: int) -> bool:
        """Whether the update to ``unit_id`` has its location fields hidden (`sealed_for`)."""
        return bool(self.labels) and unit_id not in self.trusted

    def sealed_for(self, content: Mapping[str, Any], unit_id: int) -> dict[str, Any]:
        """The content sealed into the update to ``unit_id``: the update's own answers, the
        flags under their own keys (as a handover stores them) and `PROTECTION_KEY`."""
        if not self.flags:
            return dict(content)
        flags = {key: "yes" if content.get(key) == "yes" or value == "yes" else "no"
                 for key, value in self.flags.items()}
        return {**content, **flags, PROTECTION_KEY: {
            "flags": list(flags), "labels": self.labels,
            "hide_location": self.hides_location_from(unit_id)}}


def protection_of(handovers: Iterable[Handover]) -> Protection:
    """The `Protection` of ``handovers`` (the child's, from one sending unit). One whose
    content was erased tells nothing; one whose content fails its check raises
    `crypto.TamperedRecord`, and no update is sent without knowing."""
    flags: dict[str, str] = {}
    labels: dict[str, dict[str, str]] = {}
    trusted: set[int] = set()
    for handover in handovers:
        if handover.erased_at is not None or handover.content is None \
                or handover.wrapped_key is None:
            continue
        definition = definition_of(handover)
        if not definition.location_flags:
            continue
        content = open_json(handover, handover.content, crypto.Purpose.CONTENT) or {}
        for flag in definition.location_flags:
            flags.setdefault(flag, "no")
        for case in definition.location_cases(content):
            flags[case.key] = "yes"
            labels.setdefault(case.key, dict(case.label))
            if handover.receiver_unit_id is not None:
                trusted.add(handover.receiver_unit_id)
    return Protection(flags, labels, frozenset(trusted))


def carried(content: Mapping[str, Any] | None) -> tuple[list[dict[str, str]], bool]:
    """(the labels of the flags an update's ``content`` carries, in the forms' order, whether
    location fields are hidden from its receiver); ([], False) for content that carries none."""
    found = (content or {}).get(PROTECTION_KEY)
    labels = found.get("labels") if isinstance(found, dict) else None
    if not isinstance(found, dict) or not isinstance(labels, dict):
        return [], False
    keys = found.get("flags")
    order = {key: number for number, key in enumerate(keys if isinstance(keys, list) else [])
             if isinstance(key, str)}
    shown = [label for key, label in sorted(labels.items(),
                                            key=lambda item: order.get(item[0], len(order)))
             if isinstance(label, dict)]
    return shown, bool(shown) and found.get("hide_location") is not False


def carried_flags(content: Mapping[str, Any] | None) -> dict[str, str]:
    """The flags an update's ``content`` carries, under their own keys as a handover's."""
    values = content or {}
    found = values.get(PROTECTION_KEY)
    keys = found.get("flags") if isinstance(found, dict) else None
    if not isinstance(keys, list):
        return {}
    return {key: values[key] for key in keys if isinstance(key, str) and key in values}
