"""A wave's invitations go out in chunks, each over one SMTP connection, each email still once."""

import pytest

from pulses.models import Invitation
from pulses.services import sending
from pulses.tasks import (
    RETRY_OPTIONS,
    SEND_CHUNK,
    queue_invitations,
    send_invitation,
    send_invitations,
)
from tests.factories import ContactFactory
from tests.pulses.engine import (  # noqa: F401 - fixtures
    free_port,
    send_by_smtp_fixture,
    smtp_server_fixture,
)
from tests.pulses.factories import InvitationFactory, PulseProgrammeFactory, WaveFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def invitations(account, manager):
    wave = WaveFactory(programme=PulseProgrammeFactory(accounts=[account]))
    return [
        InvitationFactory(
            wave=wave,
            contact=ContactFactory(account=account, email=f"person{i}@client.example"),
            status="pending",
            sent_at=None,
        )
        for i in range(3)
    ]


@pytest.fixture
def connections(send_by_smtp):
    """Counts the SMTP connections the sink receives (one EHLO or HELO each)."""
    opened = []

    async def handle_EHLO(server, session, envelope, hostname, responses):  # noqa: N802
        opened.append(hostname)
        session.host_name = hostname  # what aiosmtpd does itself when there is no hook
        return responses

    send_by_smtp.handle_EHLO = handle_EHLO
    return opened


def test_a_chunk_goes_out_over_one_connection_and_each_email_once(
    invitations, send_by_smtp, connections
):
    ids = [invitation.pk for invitation in invitations]

    assert sending.invitations_send(invitation_ids=ids + ids[:1]) == []

    assert len(connections) == 1
    assert sorted(e.rcpt_tos[0] for e in send_by_smtp.envelopes) == [
        "person0@client.example",
        "person1@client.example",
        "person2@client.example",
    ]
    assert set(Invitation.objects.values_list("status", flat=True)) == {"sent"}
    # Sent ones are not claimed again by a later chunk (a duplicate task).
    assert sending.invitations_send(invitation_ids=ids) == []
    assert len(send_by_smtp.envelopes) == 3


def test_a_deferred_recipient_is_handed_back_for_retry_and_the_rest_go_out(
    invitations, send_by_smtp, connections
):
    deferred = invitations[1]
    send_by_smtp.defer.add(deferred.contact.email)

    to_retry = sending.invitations_send(invitation_ids=[i.pk for i in invitations])

    assert to_retry == [deferred.pk]
    deferred.refresh_from_db()
    assert (deferred.status, deferred.attempts) == ("pending", 1)
    assert "451" in deferred.last_error
    assert len(send_by_smtp.envelopes) == 2
    # The connection is reopened after the error, for the email behind it.
    assert len(connections) == 2


def test_a_mail_server_that_is_down_hands_every_invitation_back(invitations, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    ids = [invitation.pk for invitation in invitations]

    assert sending.invitations_send(invitation_ids=ids) == ids
    # Never claimed: the single-invitation retries (or the schedule) send them later.
    assert set(Invitation.objects.values_list("status", flat=True)) == {"pending"}


def test_the_task_hands_what_failed_to_single_retries_with_back_off(
    invitations, send_by_smtp, monkeypatch
):
    deferred = invitations[0]
    send_by_smtp.defer.add(deferred.contact.email)
    retried = []
    monkeypatch.setattr(
        send_invitation, "apply_async", lambda args, **options: retried.append((args, options))
    )

    send_invitations.apply(args=[[i.pk for i in invitations]])

    assert retried == [((deferred.pk,), {"countdown": RETRY_OPTIONS["retry_backoff"]})]
    assert len(send_by_smtp.envelopes) == 2


def test_invitations_are_queued_in_chunks(django_capture_on_commit_callbacks, monkeypatch):
    queued = []
    monkeypatch.setattr(send_invitations, "delay", queued.append)

    with django_capture_on_commit_callbacks(execute=True):
        queue_invitations(list(range(1, 2 * SEND_CHUNK + 2)))

    assert [len(chunk) for chunk in queued] == [SEND_CHUNK, SEND_CHUNK, 1]
    assert [i for chunk in queued for i in chunk] == list(range(1, 2 * SEND_CHUNK + 2))
