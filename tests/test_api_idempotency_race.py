"""Two requests with one Idempotency-Key at the same moment (a client's retry racing its first
try, or two workers of one client) make one draft: the database lets one of them take the key,
and the other answers as a repeat would, with the same draft for the same request and 422 for a
different one, never a second draft and never a server error."""

import threading
from datetime import timedelta

import api_support
import lifecycle_support
import pytest
from api_support import OTHER_CHILD, bearer, draft_body

from handover.services import drafts
from handover.services import idempotency_keys as keys
from handover.store.database import db
from handover.store.models import Handover, IdempotencyKey, IntegrationClient
from handover.store.models.base import utcnow

app_config = lifecycle_support.app_config
world = lifecycle_support.world
api = api_support.api

def _drafts(app):
    with app.app_context():
        return db.session.query(Handover).filter_by(status="draft").count()


@pytest.fixture
def side_by_side(app, monkeypatch):
    """Runs requests in threads of their own, each past its first look for the key (the
    content check comes after it) before any goes on: the moment a race needs, every time."""
    app.config["PROPAGATE_EXCEPTIONS"] = False   # a server error answers 500, as in production

    def run(*requests):
        both_checked = threading.Barrier(len(requests), timeout=20)
        checked_content = drafts.checked_content

        def checked_together(*args, **kwargs):
            found = checked_content(*args, **kwargs)
            both_checked.wait()
            return found

        monkeypatch.setattr(drafts, "checked_content", checked_together)
        answers = [None] * len(requests)

        def send(number, body, headers):
            answer = app.test_client().post("/api/v1/drafts", json=body, headers=headers)
            answers[number] = (answer.status_code, answer.get_json())

        threads = [threading.Thread(target=send, args=(number, *request))
                   for number, request in enumerate(requests)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        monkeypatch.setattr(drafts, "checked_content", checked_content)
        return answers

    return run


def test_the_same_request_twice_at_once_makes_one_draft(app, world, api, side_by_side):
    headers = {**bearer(api["sending"]), "Idempotency-Key": "admission-race-1"}
    answers = side_by_side((draft_body(world), headers), (draft_body(world), headers))
    assert [status for status, _json in answers] == [201, 201], answers
    assert answers[0][1]["id"] == answers[1][1]["id"]
    assert _drafts(app) == 1


def test_two_different_requests_with_one_key_at_once_make_one_draft(app, world, api,
                                                                     side_by_side):
    headers = {**bearer(api["sending"]), "Idempotency-Key": "admission-race-2"}
    answers = side_by_side((draft_body(world), headers),
                           (draft_body(world, **OTHER_CHILD), headers))
    assert sorted(status for status, _json in answers) == [201, 422], answers
    refused = next(json for status, json in answers if status == 422)
    assert refused["errors"][0]["path"] == "Idempotency-Key"
    assert _drafts(app) == 1


def test_the_key_is_one_per_client_in_the_database(app, world, api):
    """Whatever the code above it does, the database refuses a second row for one key."""
    from sqlalchemy.exc import IntegrityError

    with app.app_context():
        client_id = db.session.query(IntegrationClient.id).first()[0]
        db.session.add(IdempotencyKey(client_id=client_id, key="k", operation="draft:a"))
        db.session.commit()
        db.session.add(IdempotencyKey(client_id=client_id, key="k", operation="draft:a"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def _claim_left_behind(app, world, token, key, age):
    """The row a request leaves that claimed ``key`` for the test's draft request and has
    not (yet) made it: still at work, or killed midway ``age`` ago."""
    from handover.services import integration_clients
    from handover.web.api.handovers import draft_operation

    body = draft_body(world)
    with app.test_request_context():
        client_id = db.session.query(IntegrationClient.id).filter_by(
            token_hash=integration_clients.hash_token(token)).scalar()
        operation = draft_operation(body["form_key"], body["receiver_unit_id"],
                                    body["copy_unit_ids"], body["legal_basis"],
                                    body["content"])
        db.session.add(IdempotencyKey(client_id=client_id, key=key, operation=operation,
                                      created_at=utcnow() - age))
        db.session.commit()


def test_a_request_still_holding_the_key_is_waited_for_then_409(app, client, world, api,
                                                                monkeypatch):
    monkeypatch.setattr(keys, "WAIT_SECONDS", 0.2)
    _claim_left_behind(app, world, api["sending"], "admission-race-3", timedelta(0))
    headers = {**bearer(api["sending"]), "Idempotency-Key": "admission-race-3"}
    answer = client.post("/api/v1/drafts", json=draft_body(world), headers=headers)
    assert answer.status_code == 409, answer.json
    assert answer.headers["Retry-After"] == "1"
    assert answer.json["errors"][0]["path"] == "Idempotency-Key"
    assert _drafts(app) == 0


def test_a_claim_left_by_a_dead_request_is_taken_over(app, client, world, api):
    _claim_left_behind(app, world, api["sending"], "admission-race-4",
                       keys.ABANDONED_AFTER * 2)
    headers = {**bearer(api["sending"]), "Idempotency-Key": "admission-race-4"}
    made = client.post("/api/v1/drafts", json=draft_body(world), headers=headers)
    assert made.status_code == 201, made.json
    again = client.post("/api/v1/drafts", json=draft_body(world), headers=headers)
    assert (again.status_code, again.json["id"]) == (201, made.json["id"])
    assert _drafts(app) == 1


def test_a_request_failing_midway_leaves_the_key_to_its_retry(app, client, world, api,
                                                              monkeypatch):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    headers = {**bearer(api["sending"]), "Idempotency-Key": "admission-race-5"}
    start = drafts.start

    def failing_start(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(drafts, "start", failing_start)
    assert client.post("/api/v1/drafts", json=draft_body(world), headers=headers).status_code == 500
    monkeypatch.setattr(drafts, "start", start)
    retried = client.post("/api/v1/drafts", json=draft_body(world), headers=headers)
    assert retried.status_code == 201, retried.json
    assert _drafts(app) == 1



def test_a_request_so_slow_that_its_key_was_taken_over_answers_with_the_other_draft(
        app, client, world, api, monkeypatch):
    """Its claim looked abandoned, another request made the draft: one draft stays, and both
    requests answer with it."""
    headers = {**bearer(api["sending"]), "Idempotency-Key": "admission-race-6"}
    save = drafts.save
    overtaking = []

    def slow_save(*args, **kwargs):
        monkeypatch.setattr(drafts, "save", save)
        with app.app_context():
            db.session.query(IdempotencyKey).update(
                {"created_at": utcnow() - keys.ABANDONED_AFTER * 2})
            db.session.commit()
        overtaking.append(app.test_client().post("/api/v1/drafts", json=draft_body(world),
                                                 headers=headers))
        return save(*args, **kwargs)

    monkeypatch.setattr(drafts, "save", slow_save)
    slow = client.post("/api/v1/drafts", json=draft_body(world), headers=headers)
    assert [slow.status_code, overtaking[0].status_code] == [201, 201], slow.json
    assert slow.json["id"] == overtaking[0].json["id"]
    assert _drafts(app) == 1
