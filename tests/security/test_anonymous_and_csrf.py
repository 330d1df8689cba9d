"""Anonymous and CSRF sweeps over every route, and Content-Security-Policy on every page.

- Without logging in, every non-public route redirects to the login page (the web app) or
  answers 401 (the API), for GET and every unsafe method.
- Logged in through the browser session, every unsafe method without a CSRF token answers 403,
  on every route, public ones included.
- Every HTML response carries a Content-Security-Policy whose scripts come only from our origin.
"""

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.security.routes import PUBLIC, url_of
from tests.security.sweep import METHODS, UNSAFE, classified_routes, send

pytestmark = pytest.mark.django_db

# Routes an unsafe request without a CSRF token may reach, and why.
CSRF_EXEMPT = {
    "api:<catch-all>": "authenticates nobody and answers 404 to everything",
}
# Views exempt from Django's CSRF middleware that check the token themselves: their POST must
# still be refused; methods they do not take answer 405.
CHECKS_ITS_OWN_CSRF = {
    "pulses:unsubscribe": "RFC 8058 one-click POSTs carry no token; any other POST is checked",
}


def test_non_public_routes_need_a_login(own):
    client = Client()
    login = reverse(settings.LOGIN_URL)
    failures, swept = [], 0
    for route in classified_routes():
        if route.rule().access == PUBLIC:
            continue
        url = url_of(route, own)
        for method in METHODS:
            response = send(client, method, url, api=route.is_api)
            swept += 1
            if route.is_api:
                ok = response.status_code == 401 and response.has_header("WWW-Authenticate")
            else:
                ok = response.status_code == 302 and response["Location"].startswith(
                    f"{login}?next="
                )
            if not ok:
                where = response.get("Location", "")
                failures.append(f"{method.upper()} {url}: {response.status_code} {where}")
    assert swept > 5 * 50, swept
    assert not failures, "\n".join(failures)


def test_public_routes_do_not_ask_for_a_login(own):
    client = Client()
    login = reverse(settings.LOGIN_URL)
    for route in classified_routes():
        if route.rule().access != PUBLIC:
            continue
        response = client.get(url_of(route, own))
        assert not response.get("Location", "").startswith(f"{login}?next="), route.name
        if route.is_api:
            assert response.status_code != 401, route.name


def test_unsafe_methods_without_a_csrf_token_are_refused(administrator, own):
    client = Client(enforce_csrf_checks=True)
    client.force_login(administrator)
    failures = []
    for route in classified_routes():
        if route.name in CSRF_EXEMPT:
            continue
        url = url_of(route, own)
        for method in UNSAFE:
            status = send(client, method, url, api=route.is_api).status_code
            if status == 405 and method != "post" and route.name in CHECKS_ITS_OWN_CSRF:
                continue
            if status != 403:
                failures.append(f"{method.upper()} {url} ({route.name}): {status}")
    assert not failures, "\n".join(failures)


def test_the_csrf_sweep_itself_lets_a_request_with_the_token_through(administrator, own):
    """The 403s above come from the missing token, not from the route: with it, it works."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(administrator)
    page = client.get(reverse("accounts:api_tokens"))
    token = page.cookies[settings.CSRF_COOKIE_NAME].value
    url = reverse("accounts:api_tokens")
    assert client.post(url, {"name": "Script"}).status_code == 403
    assert client.post(url, {"name": "Script", "csrfmiddlewaretoken": token}).status_code == 200
    assert own.owner.pk != administrator.pk


def test_every_html_page_has_a_content_security_policy_without_inline_scripts(
    client_for, administrator, own
):
    client = client_for(administrator)
    failures, pages = [], 0
    # Every route, and the error pages (the site's 404, and the survey's own).
    urls = {route.name: url_of(route, own) for route in classified_routes()}
    urls |= {"404": "/no-such-page/", "survey 404": "/p/no-such-link/"}
    for page, url in urls.items():
        response = client.get(url)
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        pages += 1
        policy = response.get("Content-Security-Policy", "")
        directives = dict(
            part.strip().partition(" ")[::2] for part in policy.split(";") if part.strip()
        )
        scripts = directives.get("script-src", directives.get("default-src", ""))
        if "'self'" not in scripts or "unsafe-inline" in scripts or "unsafe-eval" in scripts:
            failures.append(f"{page}: Content-Security-Policy {policy!r}")
        # JSON data islands (type="application/json") are data, not script: the policy allows
        # them; any other <script> must load a file.
        for tag in re.findall(rb"<script\b[^>]*>", response.content):
            if b" src=" not in tag and b"application/json" not in tag:
                failures.append(f"{page}: inline {tag.decode()}")
    assert pages >= 40, pages
    assert not failures, "\n".join(failures)
