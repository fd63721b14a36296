"""Bad input over HTTP against the live server: oversized bodies, malformed and non-UTF-8 posts,
control characters, over-long fields, HTML and script, broken identity codes. Each gets a clear
answer and never a 5xx; markup is shown escaped on the view and print pages."""

import harness
import pytest

SCRIPT = '<script>alert("x")</script><b onmouseover=alert(1)>bold</b>'


@pytest.fixture
def live(make_server):
    server = make_server(workers=2)
    people = harness.People(server, 1, 1)
    sender = harness.Client(server.url).login(people.senders[0])
    receiver = harness.Client(server.url).login(people.receivers[0])
    return server, people, sender, receiver


def test_bad_input_gets_clear_answers_and_never_a_server_error(live, report):
    server, people, sender, receiver = live
    unit, ward = people.sending_unit_id, people.receiving_unit_ids[0]
    draft = sender.start_draft(unit, ward)
    answers = {}

    try:
        answers["13 MB body"] = sender.request(
            "POST", f"/handovers/{draft}/edit", body=b"a=" + b"x" * (13 * 1024 * 1024),
            headers={"Content-Type": "application/x-www-form-urlencoded"}).status
    except OSError:  # the server may close the connection after its 413 before reading it all
        answers["13 MB body"] = 413
    answers["non-UTF-8 body"] = sender.request(
        "POST", f"/handovers/{draft}/edit",
        body=b"csrf_token=" + sender.csrf.encode() + b"&child_name=%ff%fe\xff&preview=1",
        headers={"Content-Type": "application/x-www-form-urlencoded"}).status
    answers["wrong content type"] = sender.request(
        "POST", f"/handovers/{draft}/edit", body=b"\x00\x01{not json",
        headers={"Content-Type": "application/json"}).status
    answers["multipart without boundary"] = sender.request(
        "POST", f"/handovers/{draft}/edit", body=b"--x\r\n",
        headers={"Content-Type": "multipart/form-data"}).status
    answers["empty login"] = harness.Client(server.url).request(
        "POST", "/login", body=b"", headers={"Content-Type": "application/x-www-form-urlencoded"}
    ).status
    long_name = sender.fill(draft, "long", child_name="x" * 10_000)
    answers["10,000-character name"] = long_name.status
    control = sender.fill(draft, "control", child_name="Name\x00\x07\x1b[31m")
    answers["control characters"] = control.status
    for code in ("", "abc", "010594Y9033", "320194-1234", "010594Y903", "010594Y9032" * 20,
                 "01O594Y9032", "010594Q9032", "\u0660\u0661\u0662"):
        answers[f"identity code {code[:14]!r} (fill)"] = sender.fill(
            draft, "code", child_identity_code=code).status
        answers[f"identity code {code[:14]!r} (find)"] = receiver.post(
            "/handovers/find", {"identity_code": code}).status
    report(f"{len(answers)} bad inputs: " + ", ".join(f"{k}: {v}" for k, v in answers.items()))

    assert answers["13 MB body"] == 413
    assert long_name.status == 400 and "500" in long_name.text
    assert "error-summary" in long_name.text
    assert all(status < 500 for status in answers.values()), answers
    assert all(status < 500 for status in sender.statuses + receiver.statuses)
    for label, status in answers.items():
        if "(fill)" in label and "''" not in label:
            assert status == 400, label


def test_markup_in_every_text_field_is_shown_escaped(live):
    server, people, sender, receiver = live
    draft, _, sent = sender.write_and_send(
        people.sending_unit_id, people.receiving_unit_ids[0], SCRIPT)
    assert sent
    pages = [receiver.get(f"/handovers/{draft}"), receiver.get(f"/handovers/{draft}/print"),
             receiver.get("/handovers/inbox"), sender.get(f"/handovers/{draft}")]
    for page in pages:
        assert page.status == 200
        assert "<script>alert" not in page.text
        assert "<b onmouseover" not in page.text
    assert "&lt;script&gt;" in pages[0].text and "&lt;script&gt;" in pages[1].text
