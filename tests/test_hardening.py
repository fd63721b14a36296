"""Hostile or broken requests against the pages that exist (login, language switch, admin
forms): oversized bodies, malformed posts, bytes that are not UTF-8, control characters, overlong
fields and markup. Each gets a clear answer; none gets a 500."""

import io

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _

from handover.security.hardening import without_control_characters
from handover.store.database import db
from handover.store.models import Unit
from tests.support import create_user, login


@pytest.fixture
def admin_client(app, client):
    """A client logged in as an administrator through the real two-step login."""
    with app.app_context():
        admin = create_user("paakayttaja@example.fi", name="Pääkäyttäjä", admin=True)
        login(client, admin)
    return client


def message(app, text, language="fi"):
    with app.test_request_context(), force_locale(language):
        return _(text)


def assert_clear_page(response, status):
    page = response.get_data(as_text=True)
    assert response.status_code == status, page[:500]
    assert "Traceback" not in page
    assert "<h1>" in page


def unit_names(app):
    with app.app_context():
        return [unit.name for unit in db.session.scalars(db.select(Unit))]


# --- size limits ----------------------------------------------------------------------------


@pytest.mark.parametrize("csrf", [False, True], ids=["csrf off", "csrf on"])
def test_body_over_the_configured_limit_gets_413_page(app_config, csrf):
    from handover import create_app

    app_config.update(MAX_CONTENT_LENGTH=4096, WTF_CSRF_ENABLED=csrf)
    app = create_app(app_config)
    with app.app_context():
        db.create_all()
    response = app.test_client().post("/login", data={"email": "a@example.fi",
                                                      "password": "x" * 5000})
    assert_clear_page(response, 413)
    assert message(app, "The upload is too large.") in response.get_data(as_text=True)
    with app.app_context():
        db.engine.dispose()


def test_default_limit_refuses_an_upload_just_over_it(app, client):
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = (b'--zz\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
            b"Content-Type: application/pdf\r\n\r\n%PDF" + b"0" * limit + b"\r\n--zz--\r\n")
    response = client.post("/login", data=body,
                           content_type="multipart/form-data; boundary=zz")
    assert_clear_page(response, 413)


@pytest.mark.parametrize("body", [
    "&".join(f"f{number}=x" for number in range(2000)),  # more parts than MAX_FORM_PARTS
    "email=" + "x" * 600_000,  # one field larger than MAX_FORM_MEMORY_SIZE
], ids=["too many fields", "one huge field"])
@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_form_bombs_get_413(client, body, encoding):
    if encoding == "urlencoded":
        response = client.post("/login", data=body,
                               content_type="application/x-www-form-urlencoded")
    else:
        parts = [pair.split("=", 1) for pair in body.split("&")]
        encoded = "".join(f'--zz\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                          f"{value}\r\n" for name, value in parts) + "--zz--\r\n"
        response = client.post("/login", data=encoded.encode(),
                               content_type="multipart/form-data; boundary=zz")
    assert_clear_page(response, 413)


# --- malformed posts ------------------------------------------------------------------------

MALFORMED = {
    "multipart without boundary": ("multipart/form-data", b"email=a"),
    "multipart truncated": ("multipart/form-data; boundary=zz",
                            b"--zz\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na"),
    "multipart garbage": ("multipart/form-data; boundary=zz", b"\x00\xff" * 100),
    "broken percent escapes": ("application/x-www-form-urlencoded", b"email=%%%&&=&=x&%zz=%"),
    "unknown content type": ("application/x-handover", b"\x00\x01"),
    "json instead of a form": ("application/json", b'{"email": ['),
    "bad charset parameter": ("application/x-www-form-urlencoded; charset=x-nonsense",
                              b"email=a%40example.fi"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_posts_never_get_500(admin_client, case):
    content_type, body = MALFORMED[case]
    for path in ("/login", "/language", "/admin/units", "/admin/users/new"):
        response = admin_client.post(path, data=body, content_type=content_type)
        assert response.status_code < 500, path


def test_file_posted_into_a_text_field_is_refused_with_400(app, admin_client):
    response = admin_client.post(
        "/admin/users/new",
        data={"email": "uusi@example.fi", "name": (io.BytesIO(b"Nimi"), "name.txt")},
        content_type="multipart/form-data",
    )
    assert_clear_page(response, 400)
    assert message(app, "The request could not be understood. Go back and try again.") \
        in response.get_data(as_text=True)


def test_file_under_the_upload_field_name_is_not_refused(client):
    response = client.post(
        "/login",
        data={"email": "a@example.fi", "file": (io.BytesIO(b"%PDF-1.4"), "lausunto.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200


# --- bytes that are not UTF-8 ---------------------------------------------------------------


def test_non_utf8_login_is_an_ordinary_failed_login(app, client):
    response = client.post("/login", data=b"email=%ff%fe%c3&password=%80%81",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert message(app, "The e-mail address or password is wrong.") \
        in response.get_data(as_text=True)


def test_non_utf8_unit_name_is_stored_visibly_quoted(app, admin_client):
    response = admin_client.post(
        "/admin/units", data=b"unit-name=Osasto%ff4&unit-kind=school",
        content_type="application/x-www-form-urlencoded")
    assert response.status_code == 302
    assert unit_names(app) == ["Osasto%FF4"]


def test_non_utf8_in_multipart_form_is_answered(app, admin_client):
    body = (b'--zz\r\nContent-Disposition: form-data; name="unit-name"\r\n\r\nOsasto\xff4'
            b'\r\n--zz\r\nContent-Disposition: form-data; name="unit-kind"\r\n\r\nschool'
            b"\r\n--zz--\r\n")
    response = admin_client.post("/admin/units", data=body,
                                 content_type="multipart/form-data; boundary=zz")
    assert response.status_code == 302
    assert unit_names(app) == ["Osasto\ufffd4"]


@pytest.mark.parametrize("query", ["q=%ff%fe", "q=%c3", "q=%", "q=%zz", "q=a&q=%ff"])
def test_non_utf8_query_string_is_answered(admin_client, query):
    response = admin_client.get(f"/admin/users?{query}")
    assert response.status_code == 200


def test_non_utf8_language_choice_changes_nothing(client):
    response = client.post("/language", data=b"language=f%ffi&next=/privacy",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 302
    assert 'lang="fi"' in client.get("/privacy").get_data(as_text=True)


# --- control characters ---------------------------------------------------------------------


@pytest.mark.parametrize("typed, kept", [
    ("Osasto 4", "Osasto 4"),
    ("Äiti\tIsä\r\nMummo", "Äiti\tIsä\r\nMummo"),
    ("Osa\x00sto", "Osasto"),
    ("\x1b[31mpunainen\x1b[0m", "[31mpunainen[0m"),
    ("a\x7fb\x85c\x9fd", "abcd"),
    ("Åbo – Turku 😀", "Åbo – Turku 😀"),
])
def test_control_characters_are_removed_and_text_kept(typed, kept):
    assert without_control_characters(typed) == kept


def test_control_characters_in_a_form_are_removed_before_saving(app, admin_client):
    """NUL would be a 500 on PostgreSQL ('cannot contain NUL'); the escape would colour logs."""
    response = admin_client.post("/admin/units", data={
        "unit-name": "Lasten\x00koti \x1b[2JMajakka", "unit-kind": "child_welfare_institution",
        "unit-organisation": "Varha\x07"})
    assert response.status_code == 302
    assert unit_names(app) == ["Lastenkoti [2JMajakka"]
    with app.app_context():
        assert db.session.scalars(db.select(Unit.organisation)).one() == "Varha"


def test_control_characters_in_the_query_string_are_removed(admin_client):
    response = admin_client.get("/admin/users?q=p%00aak%1bayttaja")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "paakayttaja@example.fi" in page


def test_login_with_a_nul_in_the_address_is_not_a_500(app, client):
    with app.app_context():
        create_user("hoitaja@example.fi")
    response = client.post("/login", data={"email": "hoitaja@example.fi\x00",
                                           "password": "wrong password here"})
    assert response.status_code == 200
    assert message(app, "The e-mail address or password is wrong.") \
        in response.get_data(as_text=True)


# --- overlong fields and markup -------------------------------------------------------------


@pytest.mark.parametrize("field", ["unit-name", "unit-organisation", "unit-email"])
def test_ten_thousand_characters_where_200_are_allowed_is_a_form_error(app, admin_client,
                                                                       field):
    data = {"unit-name": "Koulu", "unit-kind": "school", field: "x" * 10_000}
    response = admin_client.post("/admin/units", data=data)
    assert response.status_code == 200
    assert unit_names(app) == []
    assert 'class="error-summary' in response.get_data(as_text=True) \
        or "error-summary" in response.get_data(as_text=True)


def test_markup_in_a_unit_name_is_shown_escaped(app, admin_client):
    script = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    response = admin_client.post("/admin/units", data={"unit-name": script,
                                                       "unit-kind": "school"})
    assert response.status_code == 302
    page = admin_client.get("/admin/units").get_data(as_text=True)
    assert script not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_overlong_login_fields_are_refused_without_500(app, client):
    response = client.post("/login", data={"email": "a" * 10_000 + "@example.fi",
                                           "password": "p" * 10_000})
    assert response.status_code == 200
