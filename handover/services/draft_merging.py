"""A fill page's save merged into the draft as it is stored now, so that a page left open (in
another tab, or a colleague's) changes only what was changed on it.

A page carries, for each field it shows, a short keyed digest of the value it was loaded with
(`digests_of`, one hidden input; never the values themselves). On save, a field whose posted
value still has that digest was not changed on the page and keeps what is stored now (someone
may have changed it meanwhile); a field changed on the page is saved. When a field was changed
both on the page and by someone else since the page was loaded, the page's value is kept and
the field is named (`Merged.also_changed`), so that the page can say so.

The digests are HMACs under a key derived from the identity-hash key, over the handover, the
field and the value: they reveal nothing of the value, and the same answer in two handovers
gives two digests.
"""

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from handover.formdefs import content as content_rules
from handover.formdefs.model import Field
from handover.security import keys

#: The label of the key the digests are HMACs under (derived, so it opens nothing else).
DIGEST_KEY_LABEL = b"handover draft field digest v1"

def _canonical(content: Mapping[str, Any], key: str) -> str:
    """``content``'s value of ``key`` as text; every way of holding no answer (the key left
    out, None, "", no rows) reads the same, as the fill page shows them the same."""
    value = content.get(key)
    if value in (None, "", [], {}):
        value = None
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)


def field_digest(handover_id: int, key: str, content: Mapping[str, Any]) -> str:
    """The short keyed digest of ``content``'s value of ``key`` (its absence included)."""
    value = _canonical(content, key)
    secret = hmac.digest(keys.current_identity_hash_key(), DIGEST_KEY_LABEL, "sha256")
    message = f"{handover_id}\x00{key}\x00{value}".encode()
    return base64.urlsafe_b64encode(
        hmac.digest(secret, message, hashlib.sha256)[:12]).decode("ascii")


def digests_of(handover_id: int, content: Mapping[str, Any],
               keys_shown: Iterable[str]) -> dict[str, str]:
    """{field key: digest} of the fields a page shows, for the page to carry."""
    return {key: field_digest(handover_id, key, content) for key in keys_shown}


def encode(digests: Mapping[str, str]) -> str:
    """The digests as the hidden input's value."""
    return json.dumps(dict(digests), separators=(",", ":"))


def decode(text: str | None) -> dict[str, str] | None:
    """The digests a page posted, or None when it posted none that can be read (a page of an
    earlier version, a client of its own): then the post is saved as it is."""
    if not text:
        return None
    try:
        found = json.loads(text)
    except ValueError:
        return None
    if not isinstance(found, dict):
        return None
    return {key: value for key, value in found.items()
            if isinstance(key, str) and isinstance(value, str)}


@dataclass
class Merged:
    """What to store, and which fields were changed on the page and meanwhile by someone else
    (in the form's order)."""

    content: dict[str, Any]
    changed: list[str] = field(default_factory=list)
    also_changed: list[str] = field(default_factory=list)


def merge(handover_id: int, loaded: Mapping[str, str] | None, posted: Mapping[str, Any],
          stored: Mapping[str, Any], fields: Iterable[Field]) -> Merged:
    """The content to save from a page's ``posted`` content (its form's whole content) over
    what is ``stored`` now, given the digests the page was ``loaded`` with. Only the fields
    of the form (``fields``) are compared; a field the page carried no digest for is saved as
    posted (as before: a section page posts another section's fields as stored)."""
    fields = list(fields)
    merged = dict(posted)
    result = Merged(merged)
    if loaded is None:
        return result
    for each in fields:
        key = each.key
        if key not in loaded:
            continue
        if field_digest(handover_id, key, posted) == loaded[key]:
            if key in stored:
                merged[key] = stored[key]
            elif _canonical(posted, key) != "null":   # left out meanwhile: stays out
                merged.pop(key, None)
            continue
        result.changed.append(key)
        someone_else = field_digest(handover_id, key, stored) != loaded[key]
        if someone_else and _canonical(stored, key) != _canonical(posted, key):
            result.also_changed.append(key)
    result.content = content_rules.without_unmet_conditions(fields, merged)
    return result
