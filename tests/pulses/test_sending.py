"""Invitation and reminder emails: composed warmly, sent once, failures visible."""

import copy
import smtplib
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from contacts.models import Contact
from pulses.models import STALE_CLAIM, Invitation, Wave
from pulses.services import sending, waves
from pulses.tasks import send_invitation, send_reminder
from tests.factories import ContactFactory, UserFactory
from tests.pulses.engine import (  # noqa: F401 - fixtures
    eager_celery_fixture,
    free_port,
    send_by_smtp_fixture,
    smtp_server_fixture,
)
from tests.pulses.factories import (
    InvitationFactory,
    PulseProgrammeFactory,
    ResponseFactory,
    WaveFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def wave(account):
    return WaveFactory(
        name="November 2026 pulse – Key accounts",
        programme=PulseProgrammeFactory(accounts=[account], reminder_days=[4, 9]),
    )


@pytest.fixture
def contact(account, manager):
    return ContactFactory(
        account=account, name="Ana Alvarez", email="ana@northwind.example", owner=manager
    )


@pytest.fixture
def invitation(wave, contact):
    return InvitationFactory(wave=wave, contact=contact, status="pending", sent_at=None)


def _sent(invitation, **fields):
    Invitation.objects.filter(pk=invitation.pk).update(
        status=Invitation.Status.SENT, sent_at=timezone.now() - timedelta(days=4), **fields
    )


# --- Exactly once -----------------------------------------------------------------------------


def test_an_invitation_is_sent_once_and_recorded(invitation):
    assert sending.invitation_send(invitation_id=invitation.pk) is True
    assert sending.invitation_send(invitation_id=invitation.pk) is False

    assert len(mail.outbox) == 1
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.SENT
    assert invitation.sent_at is not None
    assert invitation.attempts == 1
    assert invitation.message_id == f"<pulse-{invitation.pk}-invitation@localhost>"


def test_a_send_someone_else_is_doing_is_left_alone(invitation):
    Invitation.objects.filter(pk=invitation.pk).update(
        status=Invitation.Status.SENDING, claimed_at=timezone.now() - timedelta(minutes=1)
    )

    assert sending.invitation_send(invitation_id=invitation.pk) is False
    assert mail.outbox == []


def test_a_stale_claim_is_taken_over_once(invitation):
    # A worker claimed it eleven minutes ago and died before sending.
    Invitation.objects.filter(pk=invitation.pk).update(
        status=Invitation.Status.SENDING,
        claimed_at=timezone.now() - STALE_CLAIM - timedelta(minutes=1),
        attempts=1,
    )
    assert waves.invitations_to_send() == [invitation.pk]

    assert sending.invitation_send(invitation_id=invitation.pk) is True
    assert sending.invitation_send(invitation_id=invitation.pk) is False

    assert len(mail.outbox) == 1
    invitation.refresh_from_db()
    assert (invitation.status, invitation.attempts) == (Invitation.Status.SENT, 2)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"status": Contact.Status.LEFT}, "has left"),
        ({"pulse_consent": Contact.Consent.OPTED_OUT}, "opted out"),
    ],
)
def test_people_who_left_or_opted_out_since_are_skipped(invitation, contact, change, reason):
    Contact.objects.filter(pk=contact.pk).update(**change)

    assert sending.invitation_send(invitation_id=invitation.pk) is False

    assert mail.outbox == []
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.SKIPPED
    assert reason in invitation.last_error


def test_people_who_already_answered_are_not_invited(invitation, wave, contact):
    ResponseFactory(wave=wave, contact=contact)

    assert sending.invitation_send(invitation_id=invitation.pk) is False
    assert mail.outbox == []
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.SKIPPED


# --- Failures ---------------------------------------------------------------------------------


def test_a_mail_server_that_is_down_is_retried_then_the_invitation_fails(invitation, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens

    # In this process, as a worker would run it; every retry runs now, without the back-off.
    result = send_invitation.apply(args=[invitation.pk], throw=False)

    assert result.successful()  # the last attempt gave up and said so in the database

    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.FAILED
    assert invitation.attempts == waves.MAX_SEND_ATTEMPTS
    assert "ConnectionRefusedError" in invitation.last_error
    assert send_invitation.max_retries == waves.MAX_SEND_ATTEMPTS - 1
    assert send_invitation.retry_backoff
    assert send_invitation.retry_backoff_max <= 5 * 60


def test_a_temporary_error_puts_the_invitation_back_for_the_retry(invitation, send_by_smtp):
    send_by_smtp.data_reply = "451 4.3.0 Temporary local problem"

    with pytest.raises(smtplib.SMTPDataError):
        sending.invitation_send(invitation_id=invitation.pk)

    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.PENDING
    assert invitation.attempts == 1
    assert "451" in invitation.last_error
    # The task's retry sends it; the schedule leaves it alone meanwhile.
    assert waves.invitations_to_send() == []

    send_by_smtp.data_reply = None
    assert sending.invitation_send(invitation_id=invitation.pk) is True
    invitation.refresh_from_db()
    assert (invitation.status, invitation.attempts, invitation.last_error) == ("sent", 2, "")


def test_a_refused_recipient_bounces(invitation, contact, send_by_smtp):
    send_by_smtp.refuse.add(contact.email)

    assert sending.invitation_send(invitation_id=invitation.pk) is False

    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.BOUNCED
    assert "550" in invitation.last_error
    assert send_by_smtp.envelopes == []


def test_a_recipient_deferred_for_now_is_retried_not_bounced(invitation, contact, send_by_smtp):
    send_by_smtp.defer.add(contact.email)

    with pytest.raises(smtplib.SMTPRecipientsRefused):
        sending.invitation_send(invitation_id=invitation.pk)

    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.PENDING


def test_an_email_that_cannot_be_composed_fails_visibly(invitation, contact):
    Contact.objects.filter(pk=contact.pk).update(email="ana@northwind.example\r\nBcc: x@y.z")

    assert sending.invitation_send(invitation_id=invitation.pk) is False

    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.FAILED
    assert invitation.last_error
    assert mail.outbox == []


# --- Reminders --------------------------------------------------------------------------------


def test_a_reminder_is_sent_once_with_the_same_link(invitation):
    _sent(invitation)

    assert sending.reminder_send(invitation_id=invitation.pk, number=1) is True
    assert sending.reminder_send(invitation_id=invitation.pk, number=1) is False
    assert sending.reminder_send(invitation_id=invitation.pk, number=3) is False

    [reminder] = mail.outbox
    assert invitation.get_survey_url() in reminder.body
    assert reminder.extra_headers["Message-ID"] == f"<pulse-{invitation.pk}-reminder1@localhost>"
    invitation.refresh_from_db()
    assert invitation.reminders_sent == 1
    assert invitation.last_reminded_at >= invitation.claimed_at


def test_a_reminder_is_not_sent_to_someone_who_answered_meanwhile(invitation, wave, contact):
    _sent(invitation)
    ResponseFactory(wave=wave, contact=contact)

    assert sending.reminder_send(invitation_id=invitation.pk, number=1) is False

    assert mail.outbox == []
    invitation.refresh_from_db()
    assert invitation.reminders_sent == 0


def test_a_failed_reminder_can_be_tried_again(invitation, send_by_smtp, eager_celery):
    _sent(invitation)
    send_by_smtp.data_reply = "421 4.3.0 Closing connection"

    with pytest.raises(smtplib.SMTPException):
        sending.reminder_send(invitation_id=invitation.pk, number=1)
    invitation.refresh_from_db()
    assert invitation.reminders_sent == 0
    assert waves.reminders_due() == [(invitation.pk, 1)]

    send_by_smtp.data_reply = None
    send_reminder.delay(invitation.pk, 1)
    invitation.refresh_from_db()
    assert invitation.reminders_sent == 1
    assert len(send_by_smtp.envelopes) == 1


def test_a_bounced_reminder_marks_the_invitation_bounced(invitation, contact, send_by_smtp):
    _sent(invitation)
    send_by_smtp.refuse.add(contact.email)

    assert sending.reminder_send(invitation_id=invitation.pk, number=1) is False

    invitation.refresh_from_db()
    assert (invitation.status, invitation.reminders_sent) == (Invitation.Status.BOUNCED, 0)
    assert waves.reminders_due() == []


# --- What the email says ----------------------------------------------------------------------


def test_the_invitation_is_personal_from_the_signer_with_one_click_unsubscribe(invitation, manager):
    sending.invitation_send(invitation_id=invitation.pk)

    [message] = mail.outbox
    parsed = message.message()
    assert parsed["From"].addresses[0].display_name == "Maya Manager via Rapport"
    assert parsed["From"].addresses[0].addr_spec == "rapport@localhost"
    assert parsed["Reply-To"].addresses[0].addr_spec == manager.email
    assert parsed["To"].addresses[0].addr_spec == "ana@northwind.example"
    unsubscribe = "http://127.0.0.1:8000" + reverse(
        "pulses:unsubscribe", args=[invitation.link_token()]
    )
    assert parsed["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["Message-ID"] == f"<pulse-{invitation.pk}-invitation@localhost>"
    assert message.subject == "Ana, how are we doing for Northwind Logistics?"
    html = message.alternatives[0].content
    for body in (message.body, html):
        assert "Hello Ana," in body
        assert invitation.get_survey_url() in body
        assert unsubscribe in body
        assert "what one thing we should change" in body
        assert "Maya Manager" in body
        assert "Since your last pulse" not in body


def test_line_breaks_in_names_cannot_inject_headers(wave, manager):
    manager.full_name = "Maya\r\nBcc: evil@attacker.example"
    manager.save()
    account = Account.objects.create(name="Evil\nCc: spy@attacker.example", owner=manager)
    contact = ContactFactory(
        account=account, name="Ana\r\nBcc: another@attacker.example", owner=manager
    )
    invitation = InvitationFactory(wave=wave, contact=contact, status="pending", sent_at=None)

    assert sending.invitation_send(invitation_id=invitation.pk) is True

    [message] = mail.outbox
    raw = message.message().as_string()
    header_names = [line.split(":")[0].lower() for line in raw.split("\n\n")[0].splitlines()]
    assert "bcc" not in header_names
    assert "cc" not in header_names
    assert message.recipients() == [f'"Ana Bcc: another@attacker.example" <{contact.email}>']
    assert "\n" not in message.subject
    assert "\r" not in message.subject
    assert message.message()["From"].addresses[0].display_name == (
        "Maya Bcc: evil@attacker.example via Rapport"
    )


def test_headers_with_line_breaks_are_refused():
    assert sending.header_text("Ana\r\n\tBcc: x@y.z  ") == "Ana Bcc: x@y.z"
    with pytest.raises(sending.HeaderInjectionError):
        sending._refuse_line_breaks({"Subject": "Hello\r\nBcc: x@y.z"})


def test_reminders_say_so_and_the_last_one_says_it_is_the_last(invitation):
    _sent(invitation)
    first = sending.pulse_email(invitation=invitation, step=sending.Step(1))
    last = sending.pulse_email(invitation=invitation, step=sending.Step(2))

    assert first.subject.startswith("A quick reminder")
    assert last.subject.startswith("Last call")
    assert first.extra_headers["Message-ID"] != last.extra_headers["Message-ID"]
    assert "buried" in first.body


def test_what_we_did_since_the_last_pulse_appears_only_when_there_is_something(invitation):
    context = sending.email_context(invitation, sending.Step(0))
    assert context["you_said_we_did"] == []
    with_actions = context | {"you_said_we_did": ["Invoices now match the <PO> numbers"]}

    text = render_to_string("emails/pulse_invitation_body.txt", with_actions)
    html = render_to_string("emails/pulse_invitation_body.html", with_actions)

    assert "Since your last pulse we have:\n- Invoices now match the <PO> numbers" in text
    assert "<li>Invoices now match the &lt;PO&gt; numbers</li>" in html


def test_a_template_in_the_contacts_language_is_used_when_there_is_one(
    invitation, contact, settings, tmp_path
):
    (tmp_path / "emails").mkdir()
    (tmp_path / "emails" / "pulse_invitation_body.de.txt").write_text(
        "Hallo {{ first_name }}, {{ survey_url }}"
    )
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [tmp_path, *templates[0]["DIRS"]]
    settings.TEMPLATES = templates
    Contact.objects.filter(pk=contact.pk).update(preferred_language="de")
    Wave.objects.filter(pk=invitation.wave_id).update(
        closes_at=datetime(2027, 3, 10, 12, tzinfo=UTC)
    )
    invitation.refresh_from_db()

    message = sending.pulse_email(invitation=invitation, step=sending.Step(0))

    assert message.body.startswith("Hallo Ana, http")
    # No German HTML or subject yet: those stay English, dates included.
    assert message.subject == "Ana, how are we doing for Northwind Logistics?"
    assert "open until 10 March 2027" in message.alternatives[0].content  # not "März"


def test_the_signer_is_the_invitations_signer(wave, contact):
    rui = UserFactory(full_name="Rui Relationship", email="rui@supplier.example")
    invitation = InvitationFactory(
        wave=wave, contact=contact, signer=rui, status="pending", sent_at=None
    )

    sending.invitation_send(invitation_id=invitation.pk)

    [message] = mail.outbox
    assert message.from_email == "Rui Relationship via Rapport <rapport@localhost>"
    assert message.reply_to == ["Rui Relationship <rui@supplier.example>"]


# --- Through a real SMTP server ---------------------------------------------------------------


def test_the_invitation_arrives_through_a_real_smtp_server(invitation, contact, send_by_smtp):
    assert sending.invitation_send(invitation_id=invitation.pk) is True

    [envelope] = send_by_smtp.envelopes
    assert envelope.mail_from == "rapport@localhost"
    assert envelope.rcpt_tos == [contact.email]
    [message] = send_by_smtp.messages()
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    link = invitation.get_survey_url()
    assert link in text
    assert f'href="{link}"' in html
    assert message["Subject"] == "Ana, how are we doing for Northwind Logistics?"
    assert str(message["From"]) == "Maya Manager via Rapport <rapport@localhost>"
    assert message["Message-ID"] == f"<pulse-{invitation.pk}-invitation@localhost>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The URL travels as it is, not folded into encoded-words that clients cannot read.
    unsubscribe = sending.unsubscribe_url(invitation)
    assert f"List-Unsubscribe: <{unsubscribe}>\r\n".encode() in envelope.original_content
