"""Quote pages: the person's approval page by personal link, and the account team's Quotes tab."""

import logging
from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.logging import RedactLinkTokens
from pulses.views.survey import RATES
from reports.models import Quote
from tests.factories import ContactFactory
from tests.reports.factories import answer_of, answered, quote_for

pytestmark = pytest.mark.django_db

XSS = '<script>alert("owned")</script><img src=x onerror=alert(1)>'


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # Rate-limit counters live in the cache; every test starts with a clean slate.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def contact(account, manager):
    return ContactFactory(
        account=account,
        name="Anna Schmidt",
        email="anna@northwind.example",
        job_title="Head of Logistics",
        owner=manager,
    )


@pytest.fixture
def quote(contact):
    return quote_for(contact=contact, status=Quote.Status.REQUESTED, text="Drivers call ahead.")


def link(quote):
    return reverse("reports:quote_approval", args=[quote.token])


def fresh(quote):
    return Quote.objects.get(pk=quote.pk)


# --- The person's page ---------------------------------------------------------------------------


def test_the_person_sees_their_words_and_the_credit_choices(client, quote):
    page = client.get(link(quote))
    content = page.content.decode()
    assert page.status_code == 200
    assert "Hello Anna Schmidt," in content
    assert "Drivers call ahead." in content
    assert "Name and role: “Anna Schmidt, Head of Logistics”" in content
    assert "Role only: “Head of Logistics”" in content
    assert "Approve the quote" in content
    assert "no-store" in page["Cache-Control"]
    assert page["Referrer-Policy"] == "same-origin"


def test_approving_as_is(client, quote):
    data = {"text": "Drivers call ahead.", "credit": "name_and_role", "action": "approve"}
    answer = client.post(link(quote), data)
    assert answer.status_code == 302
    assert answer["Location"] == f"{link(quote)}?approved=1"
    approved = fresh(quote)
    assert approved.status == Quote.Status.APPROVED
    assert approved.text == "Drivers call ahead."
    thanks = client.get(answer["Location"]).content.decode()
    assert "Thank you, Anna Schmidt" in thanks
    assert "— Anna Schmidt, Head of Logistics" in thanks


def test_editing_the_wording_then_approving(client, quote):
    client.post(
        link(quote), {"text": "Their drivers always\r\ncall ahead.", "credit": "name_and_role"}
    )
    approved = fresh(quote)
    assert approved.status == Quote.Status.APPROVED
    assert approved.text == "Their drivers always\ncall ahead."
    assert approved.original_text == quote.original_text
    # Coming back shows both: what they wrote and the wording they approved.
    content = client.get(link(quote)).content.decode()
    assert "You approved this quote on" in content
    assert "The wording you approved:" in content
    assert "Save my changes" in content


def test_choosing_role_only(client, quote):
    client.post(link(quote), {"text": "Drivers call ahead.", "credit": "role_only"})
    approved = fresh(quote)
    assert approved.credit == Quote.Credit.ROLE_ONLY
    thanks = client.get(f"{link(quote)}?approved=1").content.decode()
    assert "— Head of Logistics" in thanks
    assert "— Anna Schmidt" not in thanks


def test_an_empty_wording_is_refused_with_a_clear_message(client, quote):
    page = client.post(link(quote), {"text": "   ", "credit": "name_and_role"})
    assert page.status_code == 200
    assert "The quote cannot be empty" in page.content.decode()
    assert fresh(quote).status == Quote.Status.REQUESTED


def test_withdrawing(client, quote):
    answer = client.post(link(quote), {"action": "withdraw"})
    assert answer.status_code == 302
    assert fresh(quote).status == Quote.Status.WITHDRAWN
    page = client.get(link(quote))
    assert page.status_code == 200
    assert "We won’t quote you" in page.content.decode()
    # The old link cannot approve it again.
    client.post(link(quote), {"text": "Drivers call ahead.", "credit": "name_and_role"})
    assert fresh(quote).status == Quote.Status.WITHDRAWN


def test_an_expired_link_shows_a_friendly_page_and_changes_nothing(client, quote):
    Quote.objects.filter(pk=quote.pk).update(link_expires_at=timezone.now() - timedelta(hours=1))
    page = client.get(link(quote))
    assert page.status_code == 200
    assert "This link has expired" in page.content.decode()
    assert "no-store" in page["Cache-Control"]
    client.post(link(quote), {"text": "Changed.", "credit": "role_only"})
    client.post(link(quote), {"action": "withdraw"})
    assert fresh(quote).status == Quote.Status.REQUESTED
    assert fresh(quote).text == "Drivers call ahead."


def test_an_unknown_link_is_a_plain_404(client, quote):
    page = client.get(reverse("reports:quote_approval", args=["not-a-real-token"]))
    assert page.status_code == 404
    assert "This link doesn’t work" in page.content.decode()
    assert "Anna" not in page.content.decode()


def test_an_overlong_token_is_a_404_without_a_lookup(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        page = client.get(reverse("reports:quote_approval", args=["x" * 500]))
    assert page.status_code == 404


def test_a_re_sent_link_replaces_the_old_one(client, quote, manager, client_for):
    old = link(quote)
    client_for(manager).post(reverse("reports:quote_request", args=[quote.pk]))
    assert client.get(old).status_code == 404
    [message] = mail.outbox
    new = fresh(quote).get_approval_url()
    assert new in message.body
    assert client.get(new.removeprefix("http://127.0.0.1:8000")).status_code == 200


def test_their_words_are_escaped_on_their_page(client, contact):
    quote = quote_for(contact=contact, status=Quote.Status.REQUESTED, text=XSS)
    content = client.get(link(quote)).content.decode()
    assert "<script>alert" not in content
    assert "<img src=x" not in content
    assert "&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;" in content


def test_guessing_links_is_rate_limited_with_the_survey_pages(client):
    limit = int(RATES["GET"].split("/")[0])
    for n in range(limit):
        url = reverse("reports:quote_approval", args=[f"guess{n}"])
        assert client.get(url, REMOTE_ADDR="203.0.113.7").status_code == 404
    limited = client.get(reverse("pulses:survey", args=["guess"]), REMOTE_ADDR="203.0.113.7")
    assert limited.status_code == 429


def test_quote_links_are_redacted_from_logs(quote):
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        (f"POST /q/{quote.token}/?approved=1 HTTP/1.1", "302", "0"),
        None,
    )
    assert RedactLinkTokens().filter(record)
    assert quote.token not in record.getMessage()
    assert record.getMessage() == '"POST /q/…/?approved=1 HTTP/1.1" 302 0'


# --- The account team's Quotes tab ------------------------------------------------------------


def quotes_url(account):
    return reverse("reports:account_quotes", args=[account.pk])


def test_the_tab_lists_quotes_with_their_state_and_words_to_quote(
    client_for, manager, account, contact
):
    quote_for(contact=contact, status=Quote.Status.APPROVED, text="Approved words.")
    quote_for(contact=contact, status=Quote.Status.WITHDRAWN)
    answered(contact=contact, keep_doing="Please keep this up.", improve="Fix the portal.")
    page = client_for(manager).get(quotes_url(account))
    content = page.content.decode()
    assert page.status_code == 200
    assert f'aria-current="page" href="/accounts/{account.pk}/quotes/">Quotes' in content
    assert "quote-state-approved text-bg-success" in content
    assert "bi-check-circle" in content
    assert "> Approved</span>" in content
    assert "quote-state-withdrawn text-bg-danger" in content
    assert "Please keep this up." in content
    assert "Fix the portal." in content
    # Two fresh answers, plus the unquoted "improve" answer of each quoted response.
    assert content.count("Ask to quote</button>") == 4


def test_filtering_by_state(client_for, manager, account, contact):
    quote_for(contact=contact, status=Quote.Status.APPROVED, text="Approved words.")
    quote_for(contact=contact, status=Quote.Status.REQUESTED, text="Waiting words.")
    content = client_for(manager).get(quotes_url(account) + "?state=approved").content.decode()
    assert "Approved words." in content
    assert "Waiting words." not in content
    everything = client_for(manager).get(quotes_url(account) + "?state=bogus").content.decode()
    assert "Approved words." in everything
    assert "Waiting words." in everything


def test_the_tab_costs_the_same_queries_with_more_quotes(
    client_for, manager, account, contact, django_assert_max_num_queries
):
    quote_for(contact=contact, status=Quote.Status.APPROVED)
    answered(contact=contact)
    client = client_for(manager)
    client.get(quotes_url(account))  # warm up sessions and caches
    with CaptureQueriesContext(connection) as few:
        client.get(quotes_url(account))
    for n in range(6):
        other = ContactFactory(account=account, name=f"Person {n}")
        quote_for(contact=other, status=Quote.Status.REQUESTED)
        answered(contact=other)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(quotes_url(account))


def test_ask_to_quote_proposes_and_emails_the_link(client_for, teammate, account, contact):
    response = answered(contact=contact, keep_doing="Please keep this up.")
    answer = answer_of(response, "keep_doing")
    page = client_for(teammate).post(
        reverse("reports:quote_propose", args=[answer.pk]), follow=True
    )
    quote = Quote.objects.get(answer=answer)
    assert quote.status == Quote.Status.REQUESTED
    assert quote.requested_by == teammate
    [message] = mail.outbox
    assert quote.get_approval_url() in message.body
    assert "Anna Schmidt was emailed a link to approve the quote." in page.content.decode()


def test_asking_twice_for_the_same_answer_says_why_not(client_for, manager, contact):
    quote = quote_for(contact=contact)
    page = client_for(manager).post(
        reverse("reports:quote_propose", args=[quote.answer_id]), follow=True
    )
    assert "already been proposed" in page.content.decode()
    assert not mail.outbox


def test_sending_a_proposed_quote_and_asking_again_after_a_withdrawal(client_for, manager, contact):
    proposed = quote_for(contact=contact)
    withdrawn = quote_for(contact=contact, status=Quote.Status.WITHDRAWN)
    client = client_for(manager)
    for quote in (proposed, withdrawn):
        assert client.post(reverse("reports:quote_request", args=[quote.pk])).status_code == 302
        assert fresh(quote).status == Quote.Status.REQUESTED
    assert len(mail.outbox) == 2


def test_outsiders_get_404_everywhere(client_for, outsider, account, contact):
    quote = quote_for(contact=contact)
    answer = answer_of(answered(contact=contact), "improve")
    client = client_for(outsider)
    assert client.get(quotes_url(account)).status_code == 404
    assert client.post(reverse("reports:quote_request", args=[quote.pk])).status_code == 404
    assert client.post(reverse("reports:quote_propose", args=[answer.pk])).status_code == 404
    assert fresh(quote).status == Quote.Status.PROPOSED
    assert not Quote.objects.filter(answer=answer).exists()
    assert not mail.outbox


def test_executives_read_the_tab_but_do_not_ask(client_for, executive, account, contact):
    quote = quote_for(contact=contact)
    answered(contact=contact, improve="Fix the portal.")
    client = client_for(executive)
    page = client.get(quotes_url(account))
    assert page.status_code == 200
    assert "Fix the portal." in page.content.decode()
    assert "Ask to quote</button>" not in page.content.decode()
    assert "Send approval link</button>" not in page.content.decode()
    assert client.post(reverse("reports:quote_request", args=[quote.pk])).status_code == 403
    assert not mail.outbox


def test_the_staff_pages_need_a_login(client, account, contact):
    quote = quote_for(contact=contact)
    assert client.get(quotes_url(account)).status_code == 302
    assert client.post(reverse("reports:quote_request", args=[quote.pk])).status_code == 302
    assert not mail.outbox


def test_their_words_are_escaped_on_staff_pages(client_for, manager, account, contact):
    quote_for(contact=contact, status=Quote.Status.APPROVED, text=XSS)
    answered(contact=contact, improve=XSS)
    client = client_for(manager)
    for url in (quotes_url(account), contact.get_absolute_url()):
        content = client.get(url).content.decode()
        assert "<script>alert" not in content
        assert "<img src=x" not in content
        assert "&lt;script&gt;" in content


def test_the_relationship_story_shows_the_quote_state(client_for, manager, contact):
    quote_for(contact=contact, status=Quote.Status.REQUESTED, text="Waiting words.")
    content = client_for(manager).get(contact.get_absolute_url()).content.decode()
    assert "Asked to approve a quote" in content
    assert "quote-state-requested text-bg-warning" in content
    assert "Waiting for approval</span>" in content
