"""Public pages and the language switch."""

import pytest


@pytest.mark.parametrize("page", ["/accessibility", "/privacy"])
def test_footer_pages_are_public_and_linked_from_every_page(client, page):
    response = client.get(page)
    assert response.status_code == 200
    html = client.get("/login").get_data(as_text=True)
    assert f'href="{page}"' in html


@pytest.mark.parametrize("language, text", [("sv", 'lang="sv"'), ("en", 'lang="en"')])
def test_language_switch_changes_the_interface(client, language, text):
    response = client.post("/language", data={"language": language, "next": "/privacy"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/privacy")
    assert text in client.get("/privacy").get_data(as_text=True)


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example", "https://evil.example/",
                                    "/ok\\..\\evil", "javascript:alert(1)"])
def test_language_switch_never_redirects_off_site(client, target):
    response = client.post("/language", data={"language": "sv", "next": target})
    assert response.status_code == 302
    assert "evil" not in response.headers["Location"]
    assert "javascript" not in response.headers["Location"]
