"""IDOR sweep: every route that names an object, asked by a manager of another team for GET and
every unsafe method, answers 404 (403 where the route is for administrators only) and changes
nothing; every list, search, export and report a manager can open shows none of another team's
data; and people who may see an account but not change it get 403 for every change.
"""

import json

import pytest
from django.test import Client
from django.urls import reverse

from tests.security.routes import ACCOUNT, ADMIN, OWN, ROLE, url_of
from tests.security.sweep import (
    METHODS,
    NO_SUCH_ID,
    UNSAFE,
    body_text,
    classified_routes,
    database_fingerprint,
    fingerprint_changes,
    send,
)

pytestmark = pytest.mark.django_db


def _object_routes(*scopes):
    return [
        route
        for route in classified_routes()
        if route.names_an_object and route.rule().scope in scopes
    ]


def _with_no_such_ids(route, world) -> str:
    """The route's URL with every object id replaced by one that exists nowhere."""
    kwargs = {
        k: NO_SUCH_ID if isinstance(v, int) else v for k, v in route.kwargs_for(world).items()
    }
    return reverse(route.name, kwargs=kwargs)


def idor_failures(client, foreign) -> tuple[list[str], int]:
    """Every object route asked for `foreign`'s object with every method: what answered other
    than a missing object would, and how many requests were made."""
    failures, swept = [], 0
    for route in _object_routes(ACCOUNT, OWN, ROLE):
        rule = route.rule()
        url = url_of(route, foreign)
        for method in METHODS:
            response = send(client, method, url, api=route.is_api)
            allowed = {404} | ({403} if rule.scope == ROLE or rule.access == ADMIN else set())
            if response.status_code == 405:
                missing = send(client, method, _with_no_such_ids(route, foreign), api=route.is_api)
                allowed.add(missing.status_code)
            swept += 1
            if response.status_code not in allowed:
                failures.append(
                    f"{method.upper()} {url} ({route.name}): {response.status_code}, "
                    f"expected one of {sorted(allowed)}"
                )
    return failures, swept


def test_another_teams_objects_answer_404_to_every_method(client_for, manager, own, foreign):
    """An outsider's object is indistinguishable from one that does not exist: 404, or the
    405 that a missing object gets too (a POST-only route asked with GET)."""
    client = client_for(manager)
    before = database_fingerprint()
    failures, swept = idor_failures(client, foreign)
    changed = fingerprint_changes(before, database_fingerprint())
    assert swept >= 5 * 40, swept
    assert not failures, "\n".join(failures)
    assert not changed, f"requests for another team's objects changed {changed}"


@pytest.mark.urls("tests.security.leaky_urls")
def test_the_sweep_notices_a_view_that_skips_the_account_gate(
    monkeypatch, client_for, manager, own, foreign
):
    """A route that looks a contact up by id alone (tests/security/leaky_urls.py) fails it."""
    from tests.security.routes import LOGIN, RULES, Rule

    monkeypatch.setitem(RULES, "leaky", Rule(LOGIN, lambda w: {"pk": w.contact.pk}))
    failures, _swept = idor_failures(client_for(manager), foreign)
    assert [failure for failure in failures if "(leaky)" in failure]
    assert all("(leaky)" in failure for failure in failures), failures


# Lists and searches, with the query strings that search them: words that both sides' data
# contain (never the marker itself, which a search box would echo back).
SEARCHES = {
    "accounts:list": ["q=Holdings", "owner={owner}", "territory={territory}", "segment={segment}"],
    "contacts:people": ["q=Alice", "department=finance"],
    "api:account-list": ["q=Holdings", "owner={owner}", "page_size=200"],
    "api:contact-list": ["account={account}", "search=Alice", "page_size=200"],
    "api:response-list": ["contact={contact}", "page_size=200"],
    "api:action-list": ["account={account}", "page_size=200"],
    "api:acknowledgement-list": ["account={account}", "contact={contact}", "owner={owner}"],
    "api:changemap-contact-list": ["contact={contact}"],
    "actions:inbox": ["show=all"],
    "actions:candidates": ["kind=referral"],
    "changemaps:portfolio": ["territory={territory}", "segment={segment}"],
}
# Shared by everyone who may log in (RULES: SHARED), so their ids are no leak.
SHARED_MODELS = {"accounts.User", "accounts.Segment", "accounts.Territory"}


def _pages(client, own, foreign):
    """(route, url, response) for every GET a manager can make: every route without an object,
    their own objects' routes, and the searches above aimed at the foreign side's values."""
    for route in classified_routes():
        if route.rule().access == "public" and route.names_an_object:
            continue  # personal links: the token is the credential (test_tokens.py)
        url = url_of(route, own)
        yield route, url, client.get(url)
        for query in SEARCHES.get(route.name, []):
            values = {
                "marker": foreign.marker,
                "owner": foreign.owner.pk,
                "account": foreign.account.pk,
                "contact": foreign.contact.pk,
                "territory": foreign.territory.pk,
                "segment": foreign.segment.pk,
            }
            searched = f"{url}?{query.format(**values)}"
            yield route, searched, client.get(searched)


def test_lists_searches_and_exports_show_nothing_of_another_team(
    client_for, manager, own, foreign, changemaps_computed
):
    client = client_for(manager)
    leaks, shown = [], 0
    for route, url, response in _pages(client, own, foreign):
        if response.status_code != 200:
            continue
        text = body_text(response)
        shown += own.marker in text
        if foreign.marker in text:
            leaks.append(f"{url} ({route.name}) shows {foreign.marker!r}")
        if route.is_api and response["Content-Type"].startswith("application/json"):
            leaks += _foreign_ids_in(route, url, response.json(), foreign)
    assert not leaks, "\n".join(leaks)
    # The manager's own data does show: the check looks where data is.
    assert shown >= 25, shown


def _foreign_ids_in(route, url, body, foreign) -> list[str]:
    """Foreign primary keys among the results of an API list of a model the world built."""
    from django.urls import resolve

    view = resolve(url.split("?")[0]).func
    serializer = getattr(getattr(view, "cls", None), "serializer_class", None)
    model = getattr(getattr(serializer, "Meta", None), "model", None)
    if model is None or model._meta.label in SHARED_MODELS:
        return []
    if not isinstance(body, dict) or "results" not in body:
        return []
    ids = {row.get("id") for row in body["results"] if isinstance(row, dict)}
    found = ids & foreign.ids.get(model._meta.label, set())
    return [f"{url} ({route.name}) lists foreign {model.__name__} ids {sorted(found)}"] * bool(
        found
    )


def test_the_marker_check_finds_data_that_is_visible(client_for, executive, own, foreign):
    """Executives see every account: the same sweep finds the outsider's marker for them, so
    the manager's sweep above would notice a leak."""
    client = client_for(executive)
    seen = {
        route.name
        for route, _url, response in _pages(client, own, foreign)
        if response.status_code == 200 and foreign.marker in body_text(response)
    }
    assert {"accounts:list", "api:account-list", "api:contact-list", "actions:inbox"} <= seen


@pytest.fixture
def changemaps_computed(own, foreign):
    from changemaps.services import changemaps_compute

    changemaps_compute(waves="all")


# Unsafe routes on an account's objects that people who only read accounts may use, and why.
READERS_MAY = {
    "reports:regenerate": "executives produce reports of every account: a new PDF, no change",
}


def test_who_may_see_but_not_change_gets_403_for_every_change(client, executive, manager, own):
    """Executives see every account but work on none: every change they try on an account's
    objects is refused with 403 and nothing changes. A change is an unsafe request that the
    route acts on for the account's owner (any answer but a 405, or the page a GET shows)."""
    tried = []
    client.force_login(executive)
    before = database_fingerprint()
    for route in _object_routes(ACCOUNT):
        if route.name in READERS_MAY:
            continue
        url = url_of(route, own)
        for method in UNSAFE:
            tried.append((route, url, method, send(client, method, url, api=route.is_api)))
    assert not fingerprint_changes(before, database_fingerprint())
    client.force_login(manager)
    failures, refused = [], 0
    for route, url, method, response in tried:
        as_owner = send(client, method, url, api=route.is_api)
        acts = as_owner.status_code not in {200, 405} or _differs_from_get(client, url, as_owner)
        if acts:
            refused += 1
            if response.status_code != 403:
                failures.append(f"{method.upper()} {url} ({route.name}): {response.status_code}")
        elif response.status_code not in {200, 403, 405}:
            failures.append(f"{method.upper()} {url} ({route.name}): {response.status_code}")
    assert refused >= 20, refused
    assert not failures, "\n".join(failures)


def _differs_from_get(client, url, response) -> bool:
    """Whether a 200 answer to an unsafe method is something else than what a GET shows."""
    if response.status_code != 200:
        return False
    shown = client.get(url)
    if response["Content-Type"].startswith("text/html"):
        return shown.templates[0].name != response.templates[0].name
    # A download (an XLSX records when it was written, so compare what it is, not its bytes).
    same = ("Content-Type", "Content-Disposition")
    return any(shown.get(header) != response.get(header) for header in same)


def test_administrator_only_pages_refuse_everyone_else(client_for, manager, executive, own):
    failures = []
    for user in (manager, executive):
        client = client_for(user)
        for route in classified_routes():
            if route.rule().access != ADMIN:
                continue
            url = url_of(route, own)
            for method in METHODS:
                status = send(client, method, url, api=route.is_api).status_code
                if status not in {403, 405}:
                    failures.append(f"{user.role} {method.upper()} {url}: {status}")
    assert not failures, "\n".join(failures)


def test_admin_needs_login(client):
    response = Client().get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_reports_show_nothing_of_another_team(manager, own, foreign, changemaps_computed):
    """The PDF reports a manager can ask for (their account's, their portfolio) are made of
    their own accounts only: the HTML the PDF is laid out from has no foreign marker."""
    from reports.models import ReportJob
    from reports.rendering import report_html
    from reports.services.jobs import TEMPLATES, report_content

    jobs = [
        ReportJob(kind=ReportJob.Kind.ACCOUNT, account=own.account, requested_by=manager),
        ReportJob(kind=ReportJob.Kind.PORTFOLIO, requested_by=manager),
    ]
    for job in jobs:
        for audience in ReportJob.Audience.values:
            job.audience = audience
            content = report_content(job)
            context = {"report": content, "board": content.dashboard}
            html = report_html(TEMPLATES[content.kind], context)
            figures = json.dumps([p.chart.figure for p in content.charts], default=str)
            assert own.marker in html, (job.kind, audience)
            assert foreign.marker not in html + figures, (job.kind, audience)
