"""Error pages say in words what happened, in the reader's language: the heading is "Page not
found", never "Error 404"; the code is a small print under the words, for support."""

import re

import pytest
from flask import abort
from sqlalchemy.exc import OperationalError

#: The heading each error page shows, in Finnish (the default) and Swedish.
HEADINGS = {
    400: ("Pyyntöä ei voitu käsitellä", "Begäran kunde inte behandlas"),
    403: ("Sinulla ei ole oikeutta tähän", "Du har inte rätt att göra detta"),
    404: ("Sivua ei löytynyt", "Sidan hittades inte"),
    405: ("Toiminto ei ole sallittu täällä", "Åtgärden är inte tillåten här"),
    413: ("Tiedosto on liian suuri", "Filen är för stor"),
    429: ("Liian monta yritystä", "För många försök"),
    500: ("Jokin meni vikaan", "Något gick fel"),
    503: ("Palvelu ei ole hetkeen käytettävissä", "Tjänsten är tillfälligt otillgänglig"),
}


@pytest.fixture
def failing_app(app):
    """The app with a page that fails with any status code, and one that loses its database,
    as a real failure would reach the error handlers (not re-raised to the test)."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def fail(code):
        if code == 500:
            raise RuntimeError("a bug")
        abort(code)

    def database_gone():
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    app.add_url_rule("/test-fails/<int:code>", view_func=fail)
    app.add_url_rule("/test-database-gone", view_func=database_gone)
    return app


def _heading_and_title(response):
    page = response.get_data(as_text=True)
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S)[1].strip()
    title = re.search(r"<title>(.*?)</title>", page, re.S)[1].strip()
    return heading, title, page


@pytest.mark.parametrize("code", sorted(HEADINGS))
def test_every_error_page_says_in_words_what_happened(failing_app, code):
    for language in ("fi", "sv", "en"):
        client = failing_app.test_client()
        client.post("/language", data={"language": language, "next": "/"})
        response = client.get(f"/test-fails/{code}")
        assert response.status_code == code
        heading, title, page = _heading_and_title(response)
        if language != "en":
            assert heading == HEADINGS[code][("fi", "sv").index(language)]
        assert not re.search(r"\d", heading), "words, not a code"
        assert not heading.startswith(("Virhe", "Fel", "Error"))
        assert title.startswith(heading)
        assert str(code) in page.split("</h1>", 1)[1], "the code stays, in small print"


def test_a_missing_page_and_a_wrong_method_reach_the_same_pages(failing_app):
    client = failing_app.test_client()
    heading, _title, _page = _heading_and_title(client.get("/no-such-page"))
    assert heading == "Sivua ei löytynyt"
    response = client.post("/privacy")
    assert response.status_code == 405 and "GET" in response.headers["Allow"]
    assert _heading_and_title(response)[0] == "Toiminto ei ole sallittu täällä"


def test_a_lost_database_says_the_service_is_unavailable(failing_app):
    response = failing_app.test_client().get("/test-database-gone")
    assert response.status_code == 503
    assert "Palvelu ei ole hetkeen käytettävissä" in response.get_data(as_text=True)
