"""Stored XSS: with a payload in every free-text field of every row, every page an administrator
and a manager can open, and the contact's own pages, run in Chromium without one execution.

The browser runs with the Content-Security-Policy bypassed, so this tests our escaping on its
own (the policy is the second line, checked in test_anonymous_and_csrf.py). A payload that runs
calls `__xss(n)`, opens a dialog or leaves a `data-xss` element in the page: each is a failure.
"""

import pytest
from django.conf import settings
from django.test import Client

from changemaps.services import changemaps_compute
from tests.security.routes import PUBLIC, url_of
from tests.security.sweep import classified_routes
from tests.security.world import build_world
from tests.security.xss import PAYLOADS, fill_every_free_text_field

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CANARY = """
window.__xss_hits = [];
window.__xss = (n) => window.__xss_hits.push(String(n));
for (const name of ['alert', 'confirm', 'prompt']) {
  window[name] = (value) => window.__xss_hits.push(name + ':' + value);
}
"""

FINDINGS = """() => ({
  hits: window.__xss_hits || [],
  elements: [...document.querySelectorAll('[data-xss]')].map(e => e.outerHTML.slice(0, 120)),
  shown: document.body.innerText.includes('__xss('),
})"""


def _context(browser, live_server, user=None):
    context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    context.add_init_script(CANARY)
    context.set_default_timeout(10_000)
    if user is not None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    return context


def _html_pages(user, urls) -> list[str]:
    """The URLs that answer a GET with an HTML page (for this user)."""
    client = Client()
    if user is not None:
        client.force_login(user)
    pages = []
    for url in urls:
        response = client.get(url)
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            pages.append(url)
    return pages


def _visit(context, urls) -> tuple[list[str], int]:
    """Failures, and how many pages showed a payload as text (so they were put to the test)."""
    page = context.new_page()
    dialogs, shown = [], 0
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    failures = []
    for url in urls:
        page.goto(url, wait_until="load")
        page.wait_for_timeout(100)  # charts and maps draw after load
        found = page.evaluate(FINDINGS)
        shown += found["shown"]
        if found["hits"] or found["elements"] or dialogs:
            failures.append(f"{url}: ran {found['hits']} {dialogs}, markup {found['elements']}")
            dialogs.clear()
    page.close()
    return failures, shown


@pytest.fixture
def chromium(_playwright_browser):
    return _playwright_browser


def test_the_canary_catches_a_payload_that_runs(chromium, live_server):
    context = _context(chromium, live_server)
    page = context.new_page()
    page.set_content(f"<p>{PAYLOADS[1]}</p><p>{PAYLOADS[0]}</p>")
    page.wait_for_timeout(100)
    found = page.evaluate(FINDINGS)
    context.close()
    assert found["hits"] == ["2", "1"] or sorted(found["hits"]) == ["1", "2"]
    assert len(found["elements"]) == 2


def test_no_payload_runs_on_any_page(
    chromium, live_server, manager, teammate, outsider, administrator
):
    world = build_world(owner=manager, marker="Xss")
    world.account.memberships.create(user=teammate)
    build_world(owner=outsider, marker="Other")  # more rows: every payload in more fields
    changemaps_compute(waves="all")
    placed = fill_every_free_text_field()
    assert len(PAYLOADS) >= 40
    assert all(placed.get(payload, 0) >= 4 for payload in PAYLOADS), placed

    urls = [url_of(route, world) for route in classified_routes()
            if not route.is_api and route.rule().access != PUBLIC]  # fmt: skip
    contact_urls = [url_of(route, world) for route in classified_routes()
                    if route.rule().access == PUBLIC and "token" in route.kwargs]  # fmt: skip
    failures, visited, shown = [], 0, 0
    for user in (administrator, manager, None):
        pages = _html_pages(user, contact_urls if user is None else urls)
        visited += len(pages)
        context = _context(chromium, live_server, user)
        who = user.role if user else "contact"
        failed, showing = _visit(context, pages)
        failures += [f"{who}: {failure}" for failure in failed]
        shown += showing
        context.close()
    assert visited >= 60, visited
    # Nearly every page shows some of the stored payloads, as text.
    assert shown >= 0.9 * visited, (shown, visited)
    assert not failures, "\n".join(failures)
