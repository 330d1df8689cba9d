"""A wave's invitations go out in chunks, each over one SMTP connection, each email still once."""

import smtplib

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


# --- A chunk is claimed, loaded and looked up at once; each email still recorded on its own ---


def _statuses(invitations):
    return [Invitation.objects.get(pk=i.pk).status for i in invitations]


def test_a_chunk_costs_a_few_queries_plus_one_update_per_email(account, mailoutbox):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    wave = WaveFactory(programme=PulseProgrammeFactory(accounts=[account]))

    def queries_for(count):
        ids = [
            InvitationFactory(
                wave=wave, contact=ContactFactory(account=account), status="pending", sent_at=None
            ).pk
            for _ in range(count)
        ]
        with CaptureQueriesContext(connection) as captured:
            assert sending.invitations_send(invitation_ids=ids) == []
        return len(captured)

    small, large = queries_for(2), queries_for(6)

    assert large - small == 4  # one recording UPDATE per email, nothing else grows
    assert len(mailoutbox) == 8
    assert set(Invitation.objects.values_list("status", flat=True)) == {"sent"}


def test_a_chunk_leaves_alone_what_another_worker_is_sending(invitations, mailoutbox):
    from django.utils import timezone

    theirs = invitations[1]
    their_claim = timezone.now()
    Invitation.objects.filter(pk=theirs.pk).update(status="sending", claimed_at=their_claim)

    sending.invitations_send(invitation_ids=[i.pk for i in invitations])

    assert _statuses(invitations) == ["sent", "sending", "sent"]
    assert Invitation.objects.get(pk=theirs.pk).claimed_at == their_claim
    assert sorted(m.to[0].split("<")[-1].rstrip(">") for m in mailoutbox) == [
        "person0@client.example",
        "person2@client.example",
    ]


def test_claims_are_renewed_while_a_long_chunk_goes_out(invitations, mailoutbox, monkeypatch):
    from datetime import timedelta

    renewals = []
    renew = sending._renew_claims
    monkeypatch.setattr(sending, "CLAIM_ROUND", timedelta(0))  # every email waits too long
    monkeypatch.setattr(
        sending, "_renew_claims", lambda *args: renewals.append(args[0]) or renew(*args)
    )

    assert sending.invitations_send(invitation_ids=[i.pk for i in invitations]) == []

    ids = [i.pk for i in invitations]
    assert renewals == [ids[1:], ids[2:]]  # the first round claims, each later one renews
    assert _statuses(invitations) == ["sent", "sent", "sent"]
    assert [i.attempts for i in Invitation.objects.order_by("pk")] == [1, 1, 1]
    assert len(mailoutbox) == 3


def test_an_error_midway_releases_the_rest_of_the_chunk(invitations, mailoutbox, monkeypatch):
    finish = sending._finish_invitation

    def database_gone_after_the_first_email(invitation, our_claim, **fields):
        if invitation.pk == invitations[0].pk:
            raise RuntimeError("the database went away")
        return finish(invitation, our_claim, **fields)

    monkeypatch.setattr(sending, "_finish_invitation", database_gone_after_the_first_email)

    with pytest.raises(RuntimeError):
        sending.invitations_send(invitation_ids=[i.pk for i in invitations])

    # The one whose fate is unknown keeps its claim (taken over once stale); the others are
    # pending again, their attempt not counted, taken in hand for the task's retry.
    assert _statuses(invitations) == ["sending", "pending", "pending"]
    released = Invitation.objects.filter(pk__in=[i.pk for i in invitations[1:]])
    assert {(i.attempts, i.claimed_at is not None) for i in released} == {(0, True)}
    assert len(mailoutbox) == 1


def test_a_mail_server_lost_midway_hands_back_the_rest_unclaimed(invitations, monkeypatch):
    from django.core.mail.backends.locmem import EmailBackend

    class FlakyServer(EmailBackend):
        """Defers the second email and cannot be reached again afterwards."""

        closed = False

        def open(self):
            if self.closed:
                raise ConnectionRefusedError("the relay is gone")

        def close(self):
            self.closed = True

        def send_messages(self, messages):
            if "person1@" in messages[0].to[0]:
                raise smtplib.SMTPServerDisconnected("lost")
            return super().send_messages(messages)

    monkeypatch.setattr(sending, "get_connection", lambda: FlakyServer())
    ids = [i.pk for i in invitations]

    assert sending.invitations_send(invitation_ids=ids) == ids[1:]

    assert _statuses(invitations) == ["sent", "pending", "pending"]
    assert [i.attempts for i in Invitation.objects.order_by("pk")] == [1, 1, 0]


def test_you_said_we_did_for_a_chunk_matches_one_by_one(account, manager):
    from datetime import timedelta

    from django.utils import timezone

    from actions.models import Action
    from actions.selectors import you_said_we_did_for, you_said_we_did_for_invitations
    from actions.services.actions import action_create, action_update
    from tests.factories import AccountFactory
    from tests.pulses.factories import response_with_answers

    today = timezone.localdate()
    may = WaveFactory(opens_on=today - timedelta(days=30), closed=True)
    ana, bea, cai = (ContactFactory(account=account, name=n) for n in ("Ana", "Bea", "Cai"))
    other_account = AccountFactory(owner=manager)
    dan = ContactFactory(account=other_account, name="Dan")
    for contact in (ana, bea, dan):
        InvitationFactory(wave=may, contact=contact)
    response = response_with_answers(wave=may, contact=ana, answers={"relationship": 6})

    def done(statement, on=account, **sources):
        action = action_create(account=on, by=manager, fields={"title": statement, **sources})
        action_update(
            action=action, by=manager, fields={"status": "done", "you_said_we_did": statement}
        )
        return action

    done("From Ana's answer.", source_response=response)
    done("Bea's own point.", source_contact=bea)
    done("Everyone who answered in May.", source_wave=may)
    done("The account's focus.", is_focus=True)
    done("Dan's point, elsewhere.", on=other_account, source_contact=dan)
    old = done("Before Ana's last pulse.", source_contact=ana)
    Action.objects.filter(pk=old.pk).update(done_at=timezone.now() - timedelta(days=60))
    done("Cai, never invited before.", source_contact=cai)
    june = WaveFactory(opens_on=today)
    chunk = [
        InvitationFactory(wave=june, contact=contact, status="pending", sent_at=None)
        for contact in (ana, bea, cai, dan)
    ]
    loaded = list(Invitation.objects.select_related("wave", "contact").order_by("pk"))
    loaded = [i for i in loaded if i.wave_id == june.pk]

    told = you_said_we_did_for_invitations(loaded)

    assert told == {i.pk: you_said_we_did_for(contact=i.contact, wave=june) for i in chunk}
    assert told[chunk[0].pk][:2] == ["The account's focus.", "Everyone who answered in May."]
    assert told[chunk[2].pk] == ["Cai, never invited before.", "The account's focus."]
    assert told[chunk[3].pk] == ["Dan's point, elsewhere."]
