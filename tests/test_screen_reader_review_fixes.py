"""What a screen-reader user hears, from an accessibility review: the result of an action
that redirected (a flashed message) is in the title of the page it lands on, since a message
already on a page is not announced (WCAG 4.1.3); a list's link to a handover is named with
the child and the row's marks (WCAG 2.4.4), and leads to the thread when a message is new."""

import re

import lifecycle_support
from lifecycle_support import access_for, login_as, send_handover

from handover.services import replies

app_config = lifecycle_support.app_config
world = lifecycle_support.world


def _title(html):
    return re.search(r"<title>(.*?)</title>", html, re.S).group(1)


def test_the_result_of_an_action_is_the_first_thing_in_the_title(app, client, world):
    with app.app_context():
        hid = send_handover(world)
    login_as(client, app, world.users["receiving_receiver"])
    before = _title(client.get(f"/handovers/{hid}").get_data(as_text=True))
    landed = client.post(f"/handovers/{hid}/acknowledge", data={"note": ""},
                         follow_redirects=True).get_data(as_text=True)
    assert _title(landed) == f"Receipt acknowledged. – {before}"
    # Once heard, it is gone: the next page's title is the page's own again.
    assert _title(client.get(f"/handovers/{hid}").get_data(as_text=True)) == before


def test_a_list_link_names_the_child_and_a_new_message_leads_to_the_thread(app, client,
                                                                           world):
    with app.app_context():
        hid = send_handover(world)
        replies.add_message(access_for(world, "receiving_receiver", hid, "reply"),
                            world.user("receiving_receiver"), "Tervetuloa osastolle")
    login_as(client, app, world.users["sending_sender"])
    page = client.get("/handovers/outbox").get_data(as_text=True)
    link = re.search(rf'<a [^>]*id="row-out-{hid}-link"[^>]*>', page).group(0)
    assert f'aria-labelledby="row-out-{hid}-link row-out-{hid}-child row-out-{hid}-news"' in link
    assert f'href="/handovers/{hid}#thread"' in link
    child = re.search(rf'<td [^>]*id="row-out-{hid}-child"[^>]*>(.*?)</td>', page, re.S)
    assert lifecycle_support.CHILD_NAME in child.group(1)
    assert f'id="row-out-{hid}-news"' in page
    client.get(f"/handovers/{hid}")   # read: the link is the handover's own again
    page = client.get("/handovers/outbox").get_data(as_text=True)
    link = re.search(rf'<a [^>]*id="row-out-{hid}-link"[^>]*>', page).group(0)
    assert f'href="/handovers/{hid}"' in link and "-news" not in link
