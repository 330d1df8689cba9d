"""Quote services and selectors: propose, ask by email, approve (as is, reworded, credited),
withdraw, links that expire or are replaced, and what each kind of report may show."""

import email
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from contacts.models import Contact
from contacts.selectors import contact_story
from reports.models import Quote
from reports.selectors.quotes import (
    UNPROPOSED,
    quote_candidates,
    quotes_for_report,
    quotes_for_user,
)
from reports.services.quotes import (
    QuoteEmailError,
    QuoteLinkError,
    quote_approve,
    quote_propose,
    quote_request_approval,
    quote_withdraw,
)
from tests.factories import ContactFactory
from tests.pulses.engine import free_port
from tests.pulses.factories import WaveFactory
from tests.reports.factories import answer_of, answered, quote_for

pytestmark = pytest.mark.django_db


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
def response(contact):
    return answered(
        contact=contact,
        keep_doing="Your drivers call ahead.",
        improve="Invoices that match the purchase orders.",
    )


def requested(quote, by):
    """Ask for approval; return the fresh quote and the token of the link just emailed."""
    quote = quote_request_approval(quote=quote, by=by)
    return quote, quote.link_token()


# --- Proposing ------------------------------------------------------------------------------------


def test_proposing_an_answer_keeps_their_words_and_waits_to_be_asked(response, manager):
    quote = quote_propose(answer=answer_of(response, "improve"), by=manager)
    assert quote.status == Quote.Status.PROPOSED
    assert quote.side == Quote.Side.TO_IMPROVE
    assert quote.text == quote.original_text == "Invoices that match the purchase orders."
    assert quote.contact == response.contact
    assert quote.credit == Quote.Credit.NAME_AND_ROLE
    assert quote.token_hash is None
    assert not mail.outbox


def test_an_answer_is_proposed_once(response, manager):
    quote_propose(answer=answer_of(response, "keep_doing"), by=manager)
    with pytest.raises(ValidationError, match="already been proposed"):
        quote_propose(answer=answer_of(response, "keep_doing"), by=manager)
    assert Quote.objects.count() == 1


def test_only_open_answers_about_what_goes_well_or_to_improve_can_be_quoted(response, manager):
    with pytest.raises(ValidationError, match="Only answers to"):
        quote_propose(answer=answer_of(response, "relationship"), by=manager)
    assert not Quote.objects.exists()


def test_an_empty_answer_cannot_be_quoted(contact, manager):
    empty = answered(contact=contact, keep_doing="   ")
    with pytest.raises(ValidationError, match="empty"):
        quote_propose(answer=answer_of(empty, "keep_doing"), by=manager)


# --- Asking by email -----------------------------------------------------------------------------


def test_asking_emails_a_personal_link_from_the_relationship_owner(response, manager, teammate):
    quote = quote_propose(answer=answer_of(response, "keep_doing"), by=teammate)
    quote, token = requested(quote, teammate)

    assert quote.status == Quote.Status.REQUESTED
    assert quote.requested_by == teammate
    assert quote.link_is_live
    assert Quote.from_token(token) == quote
    assert token not in (quote.token_hash, quote.token_nonce)

    [message] = mail.outbox
    url = quote.get_approval_url()
    assert f"/q/{token}/" in url
    assert message.to == ["Anna Schmidt <anna@northwind.example>"]
    assert message.from_email == "Maya Manager via Rapport <rapport@localhost>"
    assert message.reply_to == ["Maya Manager <manager@example.com>"]
    assert message.subject == "Anna, may we quote you?"
    assert url in message.body
    assert "Your drivers call ahead." in message.body
    html = message.alternatives[0].content
    assert message.alternatives[0].mimetype == "text/html"
    assert f'href="{url}"' in html
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"
    assert message.extra_headers["Message-ID"].startswith(f"<quote-{quote.pk}-request-")


def test_without_templates_in_their_language_the_email_is_english_throughout(
    account, manager, settings
):
    settings.USE_I18N = True
    contact = ContactFactory(account=account, name="Jonas Weber", preferred_language="de")
    quote = quote_for(contact=contact)
    quote, _token = requested(quote, manager)
    [message] = mail.outbox
    month = timezone.localdate(quote.link_expires_at).strftime("%B")  # English month name
    assert f"The link works until {timezone.localdate(quote.link_expires_at).day} {month}" in (
        message.body
    )


def test_the_email_escapes_their_words_in_html(contact, manager):
    response = answered(contact=contact, keep_doing='<script>alert("x")</script> & more')
    quote = quote_propose(answer=answer_of(response, "keep_doing"), by=manager)
    requested(quote, manager)
    [message] = mail.outbox
    html = message.alternatives[0].content
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert '<script>alert("x")</script> & more' in message.body  # plain text stays plain


def test_line_breaks_in_names_never_reach_a_header(account, manager):
    contact = ContactFactory(
        account=account, name="Eve\r\nBcc: thief@evil.example", email="eve@client.example"
    )
    quote = quote_for(contact=contact)
    requested(quote, manager)
    [message] = mail.outbox
    raw = message.message().as_bytes()
    parsed = email.message_from_bytes(raw)
    assert parsed["Bcc"] is None
    # The name is flattened onto one line and quoted: still one recipient, no Bcc.
    assert message.recipients() == ['"Eve Bcc: thief@evil.example" <eve@client.example>']
    assert "\r" not in parsed["To"]
    assert "\n" not in parsed["To"]


def test_a_new_link_replaces_the_old_one(contact, manager):
    quote = quote_for(contact=contact)
    quote, first = requested(quote, manager)
    quote, second = requested(quote, manager)
    assert first != second
    assert Quote.from_token(first) is None
    assert Quote.from_token(second) == quote
    assert len(mail.outbox) == 2
    assert mail.outbox[0].extra_headers["Message-ID"] != mail.outbox[1].extra_headers["Message-ID"]


def test_an_approved_quote_is_not_asked_again(contact, manager):
    quote = quote_for(contact=contact, status=Quote.Status.APPROVED)
    with pytest.raises(ValidationError, match="already approved"):
        quote_request_approval(quote=quote, by=manager)
    assert not mail.outbox


def test_people_who_left_are_not_asked(contact, manager):
    quote = quote_for(contact=contact)
    Contact.objects.filter(pk=contact.pk).update(status=Contact.Status.LEFT)
    with pytest.raises(ValidationError, match="has left"):
        quote_request_approval(quote=quote, by=manager)
    quote.refresh_from_db()
    assert quote.status == Quote.Status.PROPOSED
    assert not mail.outbox


def test_when_the_mail_server_is_down_nothing_changes(contact, manager, settings):
    quote = quote_for(contact=contact, status=Quote.Status.REQUESTED)
    earlier_link = quote.token
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    settings.EMAIL_TIMEOUT = 5
    with pytest.raises(QuoteEmailError, match="could not be sent"):
        quote_request_approval(quote=quote, by=manager)
    # The new token was rolled back with the failed email: the earlier link still works.
    assert Quote.from_token(earlier_link) == quote


# --- Approving and withdrawing -------------------------------------------------------------------


def test_approving_as_is(contact):
    quote = quote_for(contact=contact, status=Quote.Status.REQUESTED)
    approved = quote_approve(quote=quote)
    approved.refresh_from_db()
    assert approved.status == Quote.Status.APPROVED
    assert approved.decided_at is not None
    assert approved.text == approved.original_text
    assert approved.credit_line == "Anna Schmidt, Head of Logistics"


def test_approving_a_reworded_quote_keeps_their_original_words(contact):
    quote = quote_for(contact=contact, status=Quote.Status.REQUESTED)
    original = quote.original_text
    quote_approve(quote=quote, text="  Drivers who call ahead.\r\nEvery time.  ")
    quote.refresh_from_db()
    assert quote.text == "Drivers who call ahead.\nEvery time."
    assert quote.original_text == original
    assert quote.status == Quote.Status.APPROVED


def test_choosing_to_be_credited_by_role_only(contact):
    quote = quote_for(contact=contact, status=Quote.Status.REQUESTED)
    quote_approve(quote=quote, credit=Quote.Credit.ROLE_ONLY)
    quote.refresh_from_db()
    assert quote.credit == Quote.Credit.ROLE_ONLY
    assert quote.credit_line == "Head of Logistics"
    assert "Anna" not in quote.credit_line


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"text": "   "}, "cannot be empty"),
        ({"text": "x" * 5001}, "5,000 characters"),
        ({"credit": "anonymous"}, "credited"),
    ],
)
def test_bad_approvals_are_refused_with_a_reason(contact, fields, message):
    quote = quote_for(contact=contact, status=Quote.Status.REQUESTED)
    with pytest.raises(ValidationError, match=message):
        quote_approve(quote=quote, **fields)
    quote.refresh_from_db()
    assert quote.status == Quote.Status.REQUESTED


def test_an_approval_can_be_changed_while_the_link_lives(contact):
    quote = quote_for(contact=contact, status=Quote.Status.APPROVED)
    quote_approve(quote=quote, text="Shorter.", credit=Quote.Credit.ROLE_ONLY)
    quote.refresh_from_db()
    assert (quote.text, quote.credit) == ("Shorter.", Quote.Credit.ROLE_ONLY)


def test_withdrawing_and_then_only_a_new_link_can_approve_again(contact, manager):
    quote = quote_for(contact=contact, status=Quote.Status.APPROVED)
    quote_withdraw(quote=quote)
    quote.refresh_from_db()
    assert quote.status == Quote.Status.WITHDRAWN
    with pytest.raises(QuoteLinkError, match="withdrawn"):
        quote_approve(quote=Quote.from_token(quote.token))
    with pytest.raises(QuoteLinkError):
        quote_withdraw(quote=Quote.from_token(quote.token))

    withdrawn_link = quote.token
    quote, token = requested(quote, manager)
    assert Quote.from_token(withdrawn_link) is None
    quote_approve(quote=Quote.from_token(token))
    quote.refresh_from_db()
    assert quote.status == Quote.Status.APPROVED


def test_an_expired_link_approves_nothing(contact):
    quote = quote_for(contact=contact, status=Quote.Status.REQUESTED)
    Quote.objects.filter(pk=quote.pk).update(link_expires_at=timezone.now() - timedelta(minutes=1))
    stale = Quote.from_token(quote.token)
    with pytest.raises(QuoteLinkError, match="expired"):
        quote_approve(quote=stale)
    with pytest.raises(QuoteLinkError, match="expired"):
        quote_withdraw(quote=stale)
    stale.refresh_from_db()
    assert stale.status == Quote.Status.REQUESTED


def test_a_page_opened_before_a_re_send_cannot_approve(contact, manager):
    quote = quote_for(contact=contact, status=Quote.Status.REQUESTED)
    opened = Quote.from_token(quote.token)  # the person opens the old link…
    requested(quote, manager)  # …the team re-sends meanwhile
    with pytest.raises(QuoteLinkError, match="replaced"):
        quote_approve(quote=opened)
    opened.refresh_from_db()
    assert opened.status == Quote.Status.REQUESTED


# --- Selectors -----------------------------------------------------------------------------------


def test_candidates_are_unquoted_open_answers_of_people_still_there(account, contact, manager):
    response = answered(contact=contact, keep_doing="Quoted already.", improve="Not yet.")
    quote_propose(answer=answer_of(response, "keep_doing"), by=manager)
    answered(contact=contact, keep_doing="", improve="Faster quotes.")
    gone = ContactFactory(account=account, status=Contact.Status.LEFT)
    answered(contact=gone, keep_doing="Left us words.")
    answered(contact=ContactFactory(), keep_doing="Another account.")

    goes_well, to_improve = quote_candidates(account=account)
    assert goes_well.side == Quote.Side.GOES_WELL
    assert [a.text for a in goes_well.answers] == []
    assert sorted(a.text for a in to_improve.answers) == ["Faster quotes.", "Not yet."]
    assert to_improve.total == 2


def test_candidates_are_capped_per_side_but_counted(account, contact):
    for n in range(3):
        answered(contact=contact, keep_doing=f"Good thing {n}.")
    goes_well, _ = quote_candidates(account=account, limit=2)
    assert len(goes_well.answers) == 2
    assert goes_well.total == 3


def test_quotes_are_visible_through_their_account_only(
    contact, manager, teammate, outsider, executive
):
    quote = quote_for(contact=contact)
    assert list(quotes_for_user(user=manager)) == [quote]
    assert list(quotes_for_user(user=teammate)) == [quote]
    assert list(quotes_for_user(user=executive)) == [quote]
    assert list(quotes_for_user(user=outsider)) == []


@pytest.fixture
def report_quotes(account, contact):
    """One quote in each state, plus unproposed answers in an older and the latest wave."""
    today = timezone.localdate()
    older = WaveFactory(opens_on=today - timedelta(days=90))
    latest = WaveFactory(opens_on=today)

    def long_ago():
        return WaveFactory(opens_on=today - timedelta(days=400))

    colleague = ContactFactory(account=account, name="Ben Okafor", job_title="CFO")
    approved = quote_for(
        contact=contact,
        status=Quote.Status.APPROVED,
        text="Drivers who call ahead.",
        credit=Quote.Credit.ROLE_ONLY,
        wave=long_ago(),
    )
    approved_improve = quote_for(
        contact=colleague, key="improve", status=Quote.Status.APPROVED, wave=long_ago()
    )
    others = [
        quote_for(contact=colleague, status=status, wave=long_ago())
        for status in (Quote.Status.PROPOSED, Quote.Status.REQUESTED, Quote.Status.WITHDRAWN)
    ]
    answered(contact=contact, wave=older, keep_doing="Old words.", improve="Old gripe.")
    answered(contact=colleague, wave=latest, keep_doing="Fresh words.", improve="Fresh gripe.")
    return {"approved": approved, "approved_improve": approved_improve, "others": others}


def test_a_client_report_shows_only_approved_quotes_as_approved(account, report_quotes):
    shown = quotes_for_report(account=account, audience="client")
    assert list(shown) == ["keep_doing", "improve"]
    [goes_well] = shown["keep_doing"]
    assert goes_well.text == "Drivers who call ahead."
    assert goes_well.credit_line == "Head of Logistics"
    assert goes_well.original_text == ""  # the client never sees the words before the edit
    [to_improve] = shown["improve"]
    assert to_improve.text == report_quotes["approved_improve"].text
    assert to_improve.credit_line == "Ben Okafor, CFO"


def test_an_internal_report_shows_every_quote_and_the_latest_unproposed_answers(
    account, report_quotes
):
    shown = quotes_for_report(account=account, audience="internal")
    states = sorted(row.state for row in shown["keep_doing"])
    assert states == sorted(["approved", "proposed", "requested", "withdrawn", UNPROPOSED])
    edited = next(row for row in shown["keep_doing"] if row.state == "approved")
    assert edited.is_edited
    assert edited.original_text == report_quotes["approved"].original_text
    unproposed = [row.text for side in shown.values() for row in side if row.state == UNPROPOSED]
    # Only the latest wave's: the older wave's answers are left out.
    assert sorted(unproposed) == ["Fresh gripe.", "Fresh words."]
    assert {row.state_label for row in shown["keep_doing"]} >= {"Approved", "Not proposed"}

    two_waves = quotes_for_report(account=account, audience="internal", latest_waves=2)
    texts = {row.text for side in two_waves.values() for row in side}
    assert {"Old words.", "Old gripe."} <= texts


def test_an_unknown_audience_is_refused(account):
    with pytest.raises(ValueError, match="audience"):
        quotes_for_report(account=account, audience="everyone")


def test_the_story_shows_each_quote_with_its_state(contact, manager):
    quote = quote_for(contact=contact, status=Quote.Status.REQUESTED)
    quote_approve(quote=quote, text="Reworded.")
    [event] = [e for e in contact_story(contact=contact) if "approval" in e.kind]
    assert event.title == "Approved a quote for client reports"
    assert event.quote.status == Quote.Status.APPROVED
    assert ("What goes well", "Reworded.") in event.quotes
    assert ("Originally", quote.original_text) in event.quotes
