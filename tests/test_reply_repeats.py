"""A reply posted twice (a double click, a retry after a timeout) is made once: the page's
one-time submission token finds the first reply, even when both posts arrive together."""

import re
import threading

import lifecycle_support
import pytest
from lifecycle_support import access_for, handover, login_as, send_handover
from sqlalchemy import func, select

from handover.services import LifecycleError, replies
from handover.store.database import db
from handover.store.models import AuditEvent, Reply

app_config = lifecycle_support.app_config
world = lifecycle_support.world

TOKEN = "a-one-time-token-from-the-page-0001"


def _count(model, *where):
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar()


def test_the_same_message_posted_twice_is_one_reply(app, world):
    with app.app_context():
        hid = send_handover(world)
        nurse = world.user("receiving_receiver")
        first = replies.add_message(access_for(world, "receiving_receiver", hid, "reply"),
                                    nurse, "Arrived safely", submission_token=TOKEN)
        again = replies.add_message(access_for(world, "receiving_receiver", hid, "reply"),
                                    nurse, "Arrived safely", submission_token=TOKEN)
        assert again.id == first.id
        assert [value for _, value in replies.thread(handover(hid))] == [
            {"text": "Arrived safely"}]
        assert _count(AuditEvent, AuditEvent.action == "handover.replied") == 1


def test_two_pages_make_two_replies(app, world):
    """The same words sent from two pages (two tokens), or with no token (an API client
    without an idempotency key), are two replies: only the repeat of one post is one."""
    with app.app_context():
        hid = send_handover(world)
        nurse = world.user("receiving_receiver")
        for token in ("page-one", "page-two", None, None):
            replies.add_message(access_for(world, "receiving_receiver", hid, "reply"),
                                nurse, "OK", submission_token=token)
        assert _count(Reply, Reply.handover_id == hid) == 4


def test_a_token_is_never_answered_with_someone_elses_reply(app, world):
    """Another user (here the sending unit's) posting with a token the first reply used gets a
    refusal, not the receiver's reply and not an error page."""
    with app.app_context():
        hid = send_handover(world)
        replies.add_message(access_for(world, "receiving_receiver", hid, "reply"),
                            world.user("receiving_receiver"), "Arrived", submission_token=TOKEN)
        with pytest.raises(LifecycleError):
            replies.add_message(access_for(world, "sending_sender", hid, "reply"),
                                world.user("sending_sender"), "Thanks", submission_token=TOKEN)
        db.session.rollback()
        assert [value for _, value in replies.thread(handover(hid))] == [{"text": "Arrived"}]


def test_a_repeated_reply_form_is_one_reply(app, world):
    with app.app_context():
        hid = send_handover(world)
        nurse = world.user("receiving_receiver")
        for _ in range(2):
            replies.add_form_reply(access_for(world, "receiving_receiver", hid, "reply"),
                                   nurse, "ward_reply", {"primary_nurse": "Noora"},
                                   submission_token=TOKEN)
        assert _count(Reply, Reply.handover_id == hid) == 1


def test_two_posts_arriving_together_make_one_reply(app, world):
    """Both requests looked for an earlier reply before either had written one: the database's
    unique token lets one insert, and the other answers with that reply."""
    with app.app_context():
        hid = send_handover(world)
    barrier = threading.Barrier(2)
    made = []

    def post():
        with app.app_context():
            granted = access_for(world, "receiving_receiver", hid, "reply")
            nurse = world.user("receiving_receiver")
            barrier.wait()
            try:
                made.append(replies.add_message(granted, nurse, "Arrived",
                                                submission_token=TOKEN).id)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(made) == 2 and made[0] == made[1]
    with app.app_context():
        assert _count(Reply, Reply.handover_id == hid) == 1


# -- through the pages --------------------------------------------------------------------------

TOKEN_IN_PAGE = re.compile(r'name="submission_token"[^>]*value="([^"]+)"')


@pytest.fixture
def receiver(app, client, world):
    """A sent handover's id, the receiving unit's receiver logged in."""
    with app.app_context():
        handover_id = send_handover(world)
    login_as(client, app, world.users["receiving_receiver"])
    return handover_id


def _token_of(client, path):
    page = client.get(path).get_data(as_text=True)
    return TOKEN_IN_PAGE.search(page).group(1)


def _replies(app, handover_id):
    with app.app_context():
        return _count(Reply, Reply.handover_id == handover_id)


def test_a_reply_sent_twice_from_the_page_appears_once(app, client, receiver):
    token = _token_of(client, f"/handovers/{receiver}")
    for _ in range(2):
        answer = client.post(f"/handovers/{receiver}/reply",
                             data={"message": "Saapui hyvin", "submission_token": token})
        assert answer.status_code == 302
    page = client.get(f"/handovers/{receiver}").get_data(as_text=True)
    assert page.count("Saapui hyvin") == 1
    assert _replies(app, receiver) == 1
    fresh = _token_of(client, f"/handovers/{receiver}")
    assert fresh != token, "each showing of the page has its own token"
    client.post(f"/handovers/{receiver}/reply",
                data={"message": "Saapui hyvin", "submission_token": fresh})
    assert _replies(app, receiver) == 2, "the same words sent again from a new page are new"


def test_a_reply_form_sent_twice_appears_once(app, client, receiver):
    path = f"/handovers/{receiver}/reply/ward_reply"
    token = _token_of(client, path)
    for _ in range(2):
        answer = client.post(path, data={"primary_nurse": "Noora", "submission_token": token})
        assert answer.status_code == 302
    assert _replies(app, receiver) == 1


def test_a_refused_reply_keeps_its_token(client, receiver):
    """Shown again after a refusal, the page posts the same token: nothing was made by it."""
    token = _token_of(client, f"/handovers/{receiver}")
    answer = client.post(f"/handovers/{receiver}/reply",
                         data={"message": "", "submission_token": token})
    assert answer.status_code == 400
    assert TOKEN_IN_PAGE.search(answer.get_data(as_text=True)).group(1) == token


def test_the_sending_buttons_ask_the_browser_not_to_send_twice(client, receiver):
    page = client.get(f"/handovers/{receiver}").get_data(as_text=True)
    assert len(re.findall(r'<button[^>]*data-prevent-double-click="true"', page)) == 2
