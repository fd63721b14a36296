"""An Idempotency-Key stands for one request: the same draft request again answers with the
draft the first one made, and the key reused for a different draft (another child) is refused,
never answered with the first child's draft."""

import api_support
import lifecycle_support
from api_support import OTHER_CHILD, bearer, draft_body

from handover.store.database import db
from handover.store.models import Handover

app_config = lifecycle_support.app_config
world = lifecycle_support.world
api = api_support.api

def _drafts(app):
    with app.app_context():
        return db.session.query(Handover).count()


def test_same_key_for_a_different_child_is_refused(app, client, world, api):
    headers = {**bearer(api["sending"]), "Idempotency-Key": "admission-0042"}
    first = client.post("/api/v1/drafts", json=draft_body(world), headers=headers)
    assert first.status_code == 201
    second = client.post("/api/v1/drafts", json=draft_body(world, **OTHER_CHILD), headers=headers)
    assert second.status_code == 422, second.json
    assert second.json["errors"][0]["path"] == "Idempotency-Key"
    assert _drafts(app) == 1


def test_same_key_for_another_receiver_is_refused(app, client, world, api):
    headers = {**bearer(api["sending"]), "Idempotency-Key": "admission-0043"}
    assert client.post("/api/v1/drafts", json=draft_body(world), headers=headers).status_code == 201
    copied = {**draft_body(world), "copy_unit_ids": [world.units["copy"].id]}
    assert client.post("/api/v1/drafts", json=copied, headers=headers).status_code == 422


def test_retry_of_the_same_request_answers_with_the_first_draft(app, client, world, api):
    headers = {**bearer(api["sending"]), "Idempotency-Key": "admission-0044"}
    first = client.post("/api/v1/drafts", json=draft_body(world), headers=headers)
    # The same body with its keys in another order is the same request.
    reordered = dict(reversed(list(draft_body(world).items())))
    again = client.post("/api/v1/drafts", json=reordered, headers=headers)
    assert (again.status_code, again.json["id"]) == (201, first.json["id"])
    assert _drafts(app) == 1


def test_another_clients_key_of_the_same_name_is_its_own(app, client, world, api):
    headers = {**bearer(api["sending"]), "Idempotency-Key": "admission-0045"}
    assert client.post("/api/v1/drafts", json=draft_body(world), headers=headers).status_code == 201
    with app.app_context():
        other = api_support.make_token(world, "sending", api_support.SENDING_SCOPES,
                                       name="second-sending-system")
    answer = client.post("/api/v1/drafts", json=draft_body(world, **OTHER_CHILD),
                         headers={**bearer(other), "Idempotency-Key": "admission-0045"})
    assert answer.status_code == 201
    assert _drafts(app) == 2
