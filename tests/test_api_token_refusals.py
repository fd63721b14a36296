"""A system left running with a revoked or expired token, or someone trying tokens, is refused
on every request. Past a limit the refusals answer 429 with Retry-After, counted per client
for a token of ours and per address for any other; and the audit log shows that it happened,
by whom, from where and how much, in a handful of events instead of one per request."""

import json
import time

import api_support
import lifecycle_support
import pytest
from api_support import bearer, expire

from handover.services import integration_clients
from handover.store.database import db
from handover.store.models import AuditEvent, IntegrationClient

app_config = lifecycle_support.app_config
world = lifecycle_support.world
api = api_support.api

LIMIT = 5


@pytest.fixture
def limited(app):
    """Five refusals a minute per client or address, so that the tests pass it quickly."""
    app.config["API_REFUSAL_LIMIT"] = f"{LIMIT}/minute"
    return app


def _client_row(token):
    return db.session.query(IntegrationClient).filter_by(
        token_hash=integration_clients.hash_token(token)).one()


def _revoke(app, world, token):
    with app.app_context():
        integration_clients.revoke(world.user("admin"), _client_row(token))


def _expire(app, token):
    with app.app_context():
        expire(token)


def _make_invalid(app, world, token, how):
    """The client's token "revoked" or "expired"."""
    if how == "revoked":
        _revoke(app, world, token)
    else:
        _expire(app, token)


def _refusal_events(app):
    with app.app_context():
        return [(event.client_address, json.loads(event.detail or "{}"))
                for event in db.session.query(AuditEvent)
                .filter_by(action="api.token_refused").order_by(AuditEvent.id)]


def _inbox(client, token, address="192.0.2.10"):
    headers = bearer(token) if token else {}
    return client.get("/api/v1/inbox", headers=headers,
                      environ_base={"REMOTE_ADDR": address})


@pytest.mark.parametrize("make_invalid", ["revoked", "expired"])
def test_a_client_kept_running_with_an_invalid_token_is_slowed_and_logged_sparingly(
        app, client, world, api, limited, make_invalid):
    token = api["receiving"]
    _make_invalid(app, world, token, make_invalid)
    answers = [_inbox(client, token) for _ in range(LIMIT + 7)]

    assert [a.status_code for a in answers] == [401] * LIMIT + [429] * 7
    assert all(a.json["status"] == a.status_code for a in answers)
    slowed = answers[-1]
    assert 1 <= int(slowed.headers["Retry-After"]) <= 60
    with app.app_context():
        client_id = _client_row(token).id
    events = _refusal_events(app)
    # The first refusal, and the tenth (with the count, and that the limit was passed).
    assert [detail["refusals_in_window"] for _address, detail in events] == [1, 10]
    assert {(address, detail["client"], detail["reason"]) for address, detail in events} == {
        ("192.0.2.10", client_id, make_invalid)}
    assert [detail["limited"] for _address, detail in events] == [False, True]


@pytest.mark.parametrize("make_invalid, told", [
    ("revoked", "This client's token was revoked."),
    ("expired", "This client's token has expired.")])
def test_the_system_holding_a_known_token_is_told_why_it_is_refused(
        app, client, world, api, make_invalid, told):
    """Its integrator then knows to ask for a new token, not to look for a typo."""
    token = api["receiving"]
    _make_invalid(app, world, token, make_invalid)
    answer = client.get("/api/v1/inbox", headers={**bearer(token), "Accept-Language": "en"})
    assert answer.status_code == 401 and answer.json["message"] == told
    assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]
    unknown = client.get("/api/v1/inbox", headers={**bearer("hov_" + "x" * 40),
                                                   "Accept-Language": "en"})
    assert unknown.json["message"] == "A valid bearer token is required."


def test_the_same_token_from_a_new_address_is_logged_again(app, client, world, api, limited):
    """A revoked token turning up somewhere else is what a stolen one looks like."""
    token = api["receiving"]
    _revoke(app, world, token)
    for address in ("192.0.2.10", "192.0.2.10", "198.51.100.7", "198.51.100.7"):
        assert _inbox(client, token, address).status_code == 401
    assert [address for address, _detail in _refusal_events(app)] == [
        "192.0.2.10", "198.51.100.7"]


def test_one_clients_refusals_do_not_limit_another(app, client, world, api, limited):
    revoked, other_revoked = api["receiving"], api["other"]
    _revoke(app, world, revoked)
    _revoke(app, world, other_revoked)
    for _ in range(LIMIT + 1):
        _inbox(client, revoked)
    assert _inbox(client, revoked).status_code == 429
    assert _inbox(client, other_revoked).status_code == 401


def test_guessed_tokens_are_limited_per_address_and_logged_only_when_they_go_on(
        app, client, api, limited):
    guesses = [_inbox(client, f"hov_guess{number}") for number in range(12)]
    assert [a.status_code for a in guesses] == [401] * LIMIT + [429] * 7
    assert _inbox(client, "hov_guess", address="203.0.113.5").status_code == 401
    assert _inbox(client, None).status_code == 429   # no token at all counts too
    events = _refusal_events(app)
    assert [(address, detail["reason"], detail["refusals_in_window"])
            for address, detail in events] == [("192.0.2.10", "unknown_token", 10)]
    assert "client" not in events[0][1]


def test_a_valid_token_from_a_refused_address_still_works(app, client, api, limited):
    for number in range(LIMIT + 1):
        _inbox(client, f"hov_guess{number}")
    assert _inbox(client, "hov_guess").status_code == 429
    assert _inbox(client, api["receiving"]).status_code == 200


def test_a_new_window_logs_the_first_refusal_again(app, client, world, api, limited):
    app.config["API_REFUSAL_AUDIT_SECONDS"] = 1
    token = api["receiving"]
    _revoke(app, world, token)
    _inbox(client, token)
    _inbox(client, token)
    time.sleep(1.1)
    _inbox(client, token)
    assert [detail["refusals_in_window"] for _address, detail in _refusal_events(app)] == [1, 1]


def test_refusals_are_answered_in_the_language_asked_for(app, client, world, api, limited):
    token = api["receiving"]
    _revoke(app, world, token)
    answers = [client.get("/api/v1/inbox", headers={"Authorization": f"Bearer {token}",
                                                    "Accept-Language": "sv"})
               for _ in range(LIMIT + 1)]
    assert answers[0].json["message"] == "Klientens token har återkallats."
    assert answers[-1].status_code == 429
    assert answers[-1].json["message"] == (
        "För många förfrågningar. Vänta en minut och försök igen.")
