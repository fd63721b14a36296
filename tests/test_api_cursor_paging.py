"""A receiving system walks its unread handovers page by page and reads each one on the way
(a read opens it, so it leaves the "sent" filter). Following the inbox's ``next`` cursor it
sees every handover that was unread when it started, each exactly once, where a page number
would have skipped the ones that moved up into the pages already read. A cursor the server
did not give is the client's mistake (422 at its path), never a server error."""

from datetime import timedelta

import api_support
import lifecycle_support
import pytest
from api_support import bearer
from lifecycle_support import send_handover

from handover.store.models.base import utcnow

app_config = lifecycle_support.app_config
world = lifecycle_support.world
api = api_support.api

#: One more than a page: the second page holds three.
HANDOVERS = 23


@pytest.fixture
def unread(app, world):
    """23 handovers sent to the receiving unit, two to a moment, so that the first page ends
    between two sent at the same moment (the order then goes by id). Newest first."""
    start = utcnow() - timedelta(hours=1)
    with app.app_context():
        made = [send_handover(world, copies=False, now=start + timedelta(minutes=number // 2))
                for number in range(HANDOVERS)]
    return list(reversed(made))


def _inbox(client, token, **query):
    answer = client.get("/api/v1/inbox", query_string=query, headers=bearer(token))
    assert answer.status_code == 200, answer.json
    return answer.json


def _read_each(client, token, items):
    for item in items:
        assert client.get(f"/api/v1/handovers/{item['id']}",
                          headers=bearer(token)).json["status"] == "opened"


def test_reading_while_following_next_lists_every_unread_handover_once(client, api, unread):
    token = api["receiving"]
    seen = []
    page = _inbox(client, token, status="sent")
    while True:
        seen += [item["id"] for item in page["items"]]
        _read_each(client, token, page["items"])   # each leaves the "sent" filter
        if page["next"] is None:
            break
        assert page["has_next"]
        page = _inbox(client, token, status="sent", cursor=page["next"])
    assert seen == unread
    assert _inbox(client, token, status="sent")["items"] == []


def test_a_page_number_after_reading_skips_what_the_cursor_does_not(client, api, unread):
    """Why the cursor: offset paging still answers as it did for existing clients, and
    still skips handovers when the list changes under it."""
    token = api["receiving"]
    first = _inbox(client, token, status="sent")
    assert first["page"] == 1 and first["total"] == HANDOVERS
    _read_each(client, token, first["items"])
    by_number = _inbox(client, token, status="sent", page=2)["items"]
    by_cursor = _inbox(client, token, status="sent", cursor=first["next"])
    assert by_number == []
    assert [item["id"] for item in by_cursor["items"]] == unread[20:]
    assert by_cursor["page"] is None and by_cursor["next"] is None
    assert by_cursor["total"] == 3   # matches now


def test_cursor_walk_without_a_filter_is_the_same_list_as_page_numbers(client, api, unread):
    token = api["receiving"]
    first = _inbox(client, token)
    second = _inbox(client, token, cursor=first["next"])
    assert [item["id"] for item in first["items"] + second["items"]] == unread
    assert second["items"] == _inbox(client, token, page=2)["items"]


def test_another_units_client_finds_nothing_after_a_cursor(client, api, unread):
    """A cursor names a place in the order, not a list: another unit's client that gets hold
    of it still sees only its own unit's inbox (here, nothing)."""
    cursor = _inbox(client, api["receiving"])["next"]
    assert _inbox(client, api["other"], cursor=cursor)["items"] == []


def _tampered(cursor):
    payload, _dot, signature = cursor.rpartition(".")
    return f"{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"


BAD_CURSORS = [
    pytest.param(lambda good: _tampered(good), id="signature-changed"),
    pytest.param(lambda good: "WzE3NjcyMjU2MDAwMDAwMDAsIDFd.forged", id="forged-place"),
    pytest.param(lambda good: good[:-3], id="cut-short"),
    pytest.param(lambda good: "not a cursor at all", id="garbled"),
    pytest.param(lambda good: "\u00e4\u00f6" * 500, id="long-non-ascii"),
    pytest.param(lambda good: "", id="empty"),
]


@pytest.mark.parametrize("bad", BAD_CURSORS)
def test_cursor_the_server_did_not_give_is_422_at_its_path(app, client, api, unread, bad):
    app.config["PROPAGATE_EXCEPTIONS"] = False   # a server error answers 500, as in production
    good = _inbox(client, api["receiving"])["next"]
    answer = client.get("/api/v1/inbox", query_string={"cursor": bad(good)},
                        headers=bearer(api["receiving"]))
    assert answer.status_code == 422, answer.get_data(as_text=True)[:300]
    assert [error["path"] for error in answer.json["errors"]] == ["query.cursor"]
    assert "cursor" in answer.json["errors"][0]["message"]


def test_page_and_cursor_together_are_422(client, api, unread):
    good = _inbox(client, api["receiving"])["next"]
    answer = client.get("/api/v1/inbox", query_string={"cursor": good, "page": 2},
                        headers=bearer(api["receiving"]))
    assert answer.status_code == 422
    assert [error["path"] for error in answer.json["errors"]] == ["query.cursor"]


def test_the_document_offers_the_cursor_and_next(client):
    document = client.get("/api/v1/openapi.json").json
    inbox = document["paths"]["/api/v1/inbox"]["get"]
    assert "cursor" in [parameter["name"] for parameter in inbox["parameters"]]
    page = inbox["responses"]["200"]["content"]["application/json"]["schema"]
    if "$ref" in page:
        page = document["components"]["schemas"][page["$ref"].rsplit("/", 1)[1]]
    assert "next" in page["properties"] and "next" in page["required"]
