"""Every page a person can reach by following links, for each kind of user of the demo, has no
axe-core violations: the other browser tests check the pages of the journeys they walk, and
this walk also reaches the pages no journey test opens (integration clients, deliveries,
webhooks, a unit lead's unit, printing, an earlier handover, the audit report...).

Each demo user logs in through the real pages and follows every link of the site from the home
page, breadth first, until no new page is left (or ``HANDOVER_TEST_CRAWL_PAGES`` pages per
user). Pages that are not HTML (files, JSON) are not checked; links that log out, download or
leave for an identity provider are not followed. No page asks the browser for anything from
another server (a CDN, a font service), and none scrolls sideways on a 320 px wide screen
(WCAG 1.4.10: a wide table scrolls in its own box, the page does not). Every violation of
every page is listed at the end, so that one run shows them all."""

import os
from collections import deque
from urllib.parse import urldefrag, urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from helpers import log_in_demo_user

PAGES_PER_USER = int(os.environ.get("HANDOVER_TEST_CRAWL_PAGES", "80"))
#: The narrowest screen WCAG 1.4.10 asks a page to reflow to without scrolling sideways.
REFLOW_WIDTH = 320
#: Paths not followed: leaving the session, files and the way out to a provider.
NOT_FOLLOWED = ("/logout", "/static/", "/sso/", "/attachments/", "/login")

USERS = (
    "admin@demo.handover.example",
    "auditor@demo.handover.example",
    "omaohjaaja@demo.handover.example",      # key worker: sends to the ward
    "sosiaalityontekija@demo.handover.example",  # social worker: drafts, sends and receives
    "omahoitaja@demo.handover.example",      # primary nurse: receives
    "yksikonjohtaja@demo.handover.example",  # unit lead: manages members
)


def _followed(url, origin):
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != origin:
        return False
    return not any(part in parts.path for part in NOT_FOLLOWED)


def _key(url):
    """One visit per page: a list's further pages count as the list."""
    parts = urlsplit(url)
    query = "&".join(sorted(item for item in parts.query.split("&")
                            if item and not item.startswith("page=")))
    return f"{parts.path}?{query}"


def _page_width_at(page, width):
    """How wide the page's content is when the window is ``width`` pixels wide."""
    size = page.viewport_size
    page.set_viewport_size({"width": width, "height": size["height"]})
    try:
        return page.evaluate("document.documentElement.scrollWidth")
    finally:
        page.set_viewport_size(size)


@pytest.mark.parametrize("email", USERS)
def test_every_page_a_user_can_reach_passes_axe_and_loads_nothing_from_elsewhere(
        demo_server, browser, email):
    context = browser.new_context()
    elsewhere = []   # every asset is served by Handover itself: no CDN, no outside font
    context.on("request", lambda request: None if request.url.startswith(
        (demo_server.url + "/", "data:", "blob:")) else elsewhere.append(request.url))
    page = context.new_page()
    log_in_demo_user(page, demo_server, email)
    axe = Axe()
    start = demo_server.url + "/"
    queue, seen, problems, checked = deque([start]), {_key(start)}, [], []
    while queue and len(checked) < PAGES_PER_USER:
        url = queue.popleft()
        response = page.goto(url)
        assert response is not None and response.ok, f"{url}: {response and response.status}"
        if not response.headers.get("content-type", "").startswith("text/html"):
            continue
        checked.append(url)
        results = axe.run(page)
        if results.violations_count:
            problems.append(f"{url}\n{results.generate_report()}")
        width = _page_width_at(page, REFLOW_WIDTH)
        if width > REFLOW_WIDTH:
            problems.append(f"{url}\nscrolls sideways at {REFLOW_WIDTH} px: {width} px wide")
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            link = urldefrag(href).url
            if _followed(link, demo_server.url) and _key(link) not in seen:
                seen.add(_key(link))
                queue.append(link)
    context.close()
    assert len(checked) >= 5, checked   # the walk got past the home page
    assert problems == [], "\n\n".join(problems)
    assert elsewhere == []
