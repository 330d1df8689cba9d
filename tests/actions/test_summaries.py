"""A "you said, we did" summary emailed to an account's participants, once each."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from actions.models import SummaryEmail, SummaryMailing
from actions.services.actions import action_create, action_update
from actions.services.summaries import summary_email_send, summary_send
from actions.tasks import sweep_acknowledgements
from contacts.models import Contact
from tests.factories import ContactFactory
from tests.pulses.engine import eager_celery_fixture  # noqa: F401 - fixture
from tests.pulses.factories import InvitationFactory, WaveFactory, response_with_answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def participants(account):
    wave = WaveFactory(opens_on=timezone.localdate() - timedelta(days=40), closed=True)
    people = []
    for name in ("Ana Alvarez", "Ben Brandt", "Left Lou", "Quiet Quinn"):
        contact = ContactFactory(account=account, name=name)
        InvitationFactory(wave=wave, contact=contact)
        if name != "Quiet Quinn":
            response_with_answers(
                wave=wave,
                contact=contact,
                answers={"relationship": 7},
                submitted_at=timezone.now() - timedelta(days=38),
            )
        people.append(contact)
    Contact.objects.filter(name="Left Lou").update(status=Contact.Status.LEFT)
    ContactFactory(account=account, name="Never Asked")
    return people


def _done(account, manager, statement):
    action = action_create(account=account, by=manager, fields={"title": statement})
    action_update(
        action=action, by=manager, fields={"status": "done", "you_said_we_did": statement}
    )


def test_the_summary_goes_to_each_participant_once(account, manager, participants):
    _done(account, manager, "Invoices now carry your <PO> number.")
    _done(account, manager, "One escalation contact: Maya.")

    mailing = summary_send(account=account, by=manager)

    assert mailing.statements == [
        "One escalation contact: Maya.",
        "Invoices now carry your <PO> number.",
    ]
    rows = list(mailing.emails.select_related("contact"))
    assert sorted(r.contact.name for r in rows) == ["Ana Alvarez", "Ben Brandt"]
    for row in rows:
        assert summary_email_send(email_id=row.pk) is True
        assert summary_email_send(email_id=row.pk) is False
    assert len(mail.outbox) == 2
    message = mail.outbox[0]
    assert message.subject.startswith("What we did with your feedback")
    assert "- Invoices now carry your <PO> number." in message.body
    assert "Invoices now carry your &lt;PO&gt; number." in message.alternatives[0][0]
    assert manager.full_name in message.from_email
    assert message.reply_to == [f"{manager.full_name} <{manager.email}>"]


def test_a_second_summary_the_same_day_is_refused(account, manager, participants):
    _done(account, manager, "Fixed it.")
    summary_send(account=account, by=manager)
    with pytest.raises(ValidationError, match="today already"):
        summary_send(account=account, by=manager)
    assert SummaryMailing.objects.count() == 1
    assert SummaryEmail.objects.count() == 2


def test_nothing_to_say_or_nobody_to_tell_sends_nothing(account, manager):
    with pytest.raises(ValidationError, match="Nothing to tell yet"):
        summary_send(account=account, by=manager)
    _done(account, manager, "Fixed it.")
    with pytest.raises(ValidationError, match="Nobody to tell"):
        summary_send(account=account, by=manager)


def test_summaries_whose_task_was_lost_are_sent_by_the_sweeper(
    account, manager, participants, eager_celery, django_capture_on_commit_callbacks
):
    _done(account, manager, "Fixed it.")
    summary_send(account=account, by=manager)  # its tasks never ran
    SummaryEmail.objects.update(queued_at=timezone.now() - timedelta(minutes=20))
    with django_capture_on_commit_callbacks(execute=True):
        sweep_acknowledgements.delay()
    with django_capture_on_commit_callbacks(execute=True):
        sweep_acknowledgements.delay()
    assert len(mail.outbox) == 2


def test_the_page_sends_it_and_outsiders_and_executives_cannot(
    client_for, manager, executive, outsider, account, participants
):
    _done(account, manager, "Fixed it.")
    url = reverse("actions:send_summary", args=[account.pk])
    assert client_for(outsider).post(url).status_code == 404
    assert client_for(executive).post(url).status_code == 403
    page = client_for(manager).post(url, follow=True)
    assert "is on its way to 2 participants" in page.content.decode()
    assert client_for(manager).get(url).status_code == 405
