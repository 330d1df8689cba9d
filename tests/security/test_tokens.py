"""Tokens that open something without a password: personal survey links and API tokens.

What tests/pulses already shows is not repeated here (a closed wave's link stops taking
answers, tampered and unknown tokens get a plain 404, 30 guesses a minute then 429, pages are
no-store and same-origin, the log filter). This adds: where the randomness comes from and how
much there is, that only hashes are stored, that lookups compare in constant time, a thousand
guesses from one address with another address unaffected, and that every route whose URL
carries a token has it kept out of the logs.
"""

import base64
import hashlib
import hmac
import logging
import re
import secrets

import pytest
from django.urls import reverse

from accounts.models import ApiToken
from accounts.services import api_token_create
from core.logging import RedactLinkTokens
from pulses.models import Invitation
from tests.factories import ContactFactory
from tests.pulses.factories import InvitationFactory
from tests.security.routes import PUBLIC, all_routes, url_of

pytestmark = pytest.mark.django_db


def _bits(token: str) -> int:
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    return len(raw) * 8


def test_link_tokens_carry_256_bits_from_a_secrets_nonce(monkeypatch, account):
    drawn = []
    real = secrets.token_hex

    def spy(nbytes=None):
        drawn.append(nbytes)
        return real(nbytes)

    monkeypatch.setattr("pulses.models.secrets.token_hex", spy)
    invitation = InvitationFactory(contact=ContactFactory(account=account))
    token = invitation.link_token()
    # The nonce is 128 random bits from `secrets`; the link is its 256-bit HMAC under our key.
    assert drawn == [16]
    assert len(invitation.token_nonce) == 32
    assert _bits(token) >= 256


def test_link_tokens_are_stored_only_as_a_hash(account):
    invitation = InvitationFactory(contact=ContactFactory(account=account))
    token = invitation.link_token()
    stored = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert stored["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {str(value) for value in stored.values()}


def test_link_and_api_token_lookups_compare_in_constant_time(monkeypatch, manager, account):
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    invitation = InvitationFactory(contact=ContactFactory(account=account))
    assert Invitation.from_token(invitation.link_token()) == invitation
    assert len(calls) == 1
    _token, raw = api_token_create(user=manager, name="script")
    assert ApiToken.objects.authenticate(raw) is not None
    assert len(calls) == 2


def test_api_tokens_carry_256_bits_and_only_their_hash_is_stored(manager):
    token, raw = api_token_create(user=manager, name="script")
    assert raw.startswith("rap_")
    assert _bits(raw.removeprefix("rap_")) >= 256
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert stored["key_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {str(value) for value in stored.values()}


def test_a_thousand_guesses_from_one_address_find_nothing_and_others_are_unaffected(
    client, account
):
    invitation = InvitationFactory(contact=ContactFactory(account=account))
    statuses = {}
    for _ in range(1000):
        guess = secrets.token_urlsafe(32)
        status = client.get(reverse("pulses:survey", args=[guess]), REMOTE_ADDR="203.0.113.66")
        statuses[status.status_code] = statuses.get(status.status_code, 0) + 1
    assert set(statuses) <= {404, 429}, statuses
    assert statuses.get(429, 0) >= 900, statuses
    # Another address still opens its own link, and its own wrong guesses get a plain 404.
    own_link = reverse("pulses:survey", args=[invitation.link_token()])
    assert client.get(own_link, REMOTE_ADDR="198.51.100.20").status_code == 200
    wrong = reverse("pulses:survey", args=[secrets.token_urlsafe(32)])
    assert client.get(wrong, REMOTE_ADDR="198.51.100.20").status_code == 404
    # Even the right link is refused to the guessing address until its minute is over.
    assert client.get(own_link, REMOTE_ADDR="203.0.113.66").status_code == 429


def _token_routes():
    return [
        route
        for route in all_routes()
        if route.rule() and route.rule().access == PUBLIC and "token" in route.kwargs
    ]


def test_every_url_that_carries_a_token_keeps_it_out_of_the_logs():
    """Django logs the path of every 4xx answer: a route with a token in its path needs the
    log filter to know it (core.logging.RedactLinkTokens)."""
    routes = _token_routes()
    assert routes
    leaks = []
    for route in routes:
        kwargs = {name: secrets.token_urlsafe(32) for name in route.kwargs}
        path = reverse(route.name, kwargs=kwargs)
        record = logging.LogRecord(
            "django.request", logging.WARNING, __file__, 1, "Not Found: %s", (path,), None
        )
        RedactLinkTokens().filter(record)
        if kwargs["token"] in record.getMessage():
            leaks.append(f"{route.name}: {record.getMessage()}")
    assert not leaks, "\n".join(leaks)


def test_every_page_opened_by_a_token_is_private_and_self_contained(client, own):
    """Survey, unsubscribe and quote-approval pages show what a person said: never cached, no
    referrer beyond our site, nothing loaded from another origin (a known link or not)."""
    problems = []
    for route in _token_routes():
        guess = {name: secrets.token_urlsafe(32) for name in route.kwargs}
        for url in (url_of(route, own), reverse(route.name, kwargs=guess)):
            response = client.get(url, REMOTE_ADDR="192.0.2.10")
            if "no-store" not in response.get("Cache-Control", ""):
                problems.append(f"{url}: Cache-Control {response.get('Cache-Control')!r}")
            if response.get("Referrer-Policy") != "same-origin":
                problems.append(f"{url}: Referrer-Policy {response.get('Referrer-Policy')!r}")
            outside = re.findall(rb"""(?:src|href|action)=["']?(?:https?:)?//""", response.content)
            if outside:
                problems.append(f"{url}: loads or links to another origin {outside}")
    assert not problems, "\n".join(problems)
