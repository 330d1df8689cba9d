"""The wave engine: open due waves, invite people, find reminders that are due, close waves.

Beat runs `pulses.tasks.run_pulse_schedule` every minute; it calls `pulse_schedule_run`, which
does every step below and returns what to queue. Every step is safe to run twice, or in two
processes at once: deadlines live in the database (`next_wave_on`, `closes_at`, `sent_at` and
the programme's `reminder_days`), and every change of state is a conditional UPDATE or meets a
unique constraint, so a second run finds nothing left to do.

The reads the engine needs live here too, next to the writes whose conditions they mirror.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import Account
from changemaps.services import changemaps_mark_dirty
from contacts.models import Contact
from pulses.models import STALE_CLAIM, Invitation, PulseProgramme, Response, Wave
from pulses.services.questionnaires import questionnaire_version_for_sending

logger = logging.getLogger(__name__)

# A pending invitation that the schedule queued (or that failed and awaits Celery's retry) is
# queued again only after this long: longer than the longest retry back-off, so the schedule
# only picks up work whose task message was lost.
REQUEUE_AFTER = timedelta(minutes=15)
SEND_BATCH = 500
# Staff may record answers in open waves and in waves opened this long ago.
RECORDABLE_DAYS = 180
# Sending attempts before an invitation is marked failed (the first try and its retries).
MAX_SEND_ATTEMPTS = 7


# --- Reads ----------------------------------------------------------------------------------------


def programme_accounts(programme: PulseProgramme) -> QuerySet[Account]:
    """The accounts a programme covers: those it names, plus every account of its segment
    and territory when set (both set: the accounts in that segment *and* that territory)."""
    scope = Q(pk__in=programme.accounts.values("pk"))
    if programme.segment_id or programme.territory_id:
        by_group = Q()
        if programme.segment_id:
            by_group &= Q(segment_id=programme.segment_id)
        if programme.territory_id:
            by_group &= Q(territory_id=programme.territory_id)
        scope |= by_group
    return Account.objects.filter(scope)


def programme_eligible_contacts(programme: PulseProgramme) -> QuerySet[Contact]:
    """Who a new wave of `programme` invites: people of its accounts who have not left and have
    not opted out of pulses, limited to the programme's buying roles when it names any."""
    contacts = Contact.objects.active().filter(
        account__in=programme_accounts(programme),
        pulse_consent=Contact.Consent.OPTED_IN,
    )
    role_codes = list(programme.roles.values_list("code", flat=True))
    if role_codes:
        with_role = Contact.buying_roles.through.objects.filter(
            contact_id=OuterRef("pk"), buyingrole_id__in=role_codes
        )
        contacts = contacts.filter(Exists(with_role))
    return contacts.order_by("pk")


def programmes_covering(account: Account) -> Q:
    """A filter on waves: those of a programme that covers `account` (the reverse of
    `programme_accounts`)."""
    covers = Q(programme__accounts=account.pk)
    if account.segment_id:
        covers |= Q(programme__segment=account.segment_id) & (
            Q(programme__territory__isnull=True) | Q(programme__territory=account.territory_id)
        )
    if account.territory_id:
        covers |= Q(programme__segment__isnull=True, programme__territory=account.territory_id)
    return covers


def waves_recordable_for(*, contact: Contact) -> QuerySet[Wave]:
    """Waves someone on our side may record this contact's answers in, newest first: open or
    opened within `RECORDABLE_DAYS`, and either covering the contact's account or already
    holding an invitation or a response of theirs."""
    since = timezone.localdate() - timedelta(days=RECORDABLE_DAYS)
    theirs = Q(pk__in=Invitation.objects.filter(contact=contact).values("wave_id")) | Q(
        pk__in=Response.objects.filter(contact=contact).values("wave_id")
    )
    ids = Wave.objects.filter(programmes_covering(contact.account) | theirs).values("pk")
    recent = Q(status=Wave.Status.OPEN) | Q(opens_on__gte=since)
    return (
        Wave.objects.filter(recent, pk__in=ids)
        .select_related("questionnaire_version")
        .order_by("-opens_on", "name")
    )


def _has_response():
    return Exists(
        Response.objects.filter(wave_id=OuterRef("wave_id"), contact_id=OuterRef("contact_id"))
    )


def _reachable(queryset: QuerySet[Invitation]) -> QuerySet[Invitation]:
    """Invitations whose contact may still be written to: not left, not opted out."""
    return queryset.exclude(contact__status=Contact.Status.LEFT).filter(
        contact__pulse_consent=Contact.Consent.OPTED_IN
    )


def _sendable(now: datetime) -> QuerySet[Invitation]:
    due = Q(status=Invitation.Status.PENDING) & (
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - REQUEUE_AFTER)
    )
    stale = Q(status=Invitation.Status.SENDING, claimed_at__lt=now - STALE_CLAIM)
    return (
        Invitation.objects.filter(due | stale)
        .filter(
            wave__status=Wave.Status.OPEN,
            wave__closes_at__gt=now,
            attempts__lt=MAX_SEND_ATTEMPTS,
        )
        .order_by("pk")
    )


def invitations_to_send(*, limit: int = SEND_BATCH, now: datetime | None = None) -> list[int]:
    """Ids of invitations to hand to `send_invitation`, oldest first, at most `limit`.

    Pending invitations of open waves that nobody has taken in hand within `REQUEUE_AFTER`
    (new ones, or ones whose queued task or retry was lost), and invitations stuck in
    `sending` for longer than `STALE_CLAIM` (their worker died mid-send).
    """
    now = now or timezone.now()
    return list(_sendable(now).values_list("pk", flat=True)[:limit])


def reminder_in_flight() -> Q:
    """A reminder is claimed (`reminders_sent` moved to n, `claimed_at` set) but not recorded as
    sent (`last_reminded_at`, which success sets to a moment after the claim)."""
    return Q(reminders_sent__gt=0, claimed_at__isnull=False) & (
        Q(last_reminded_at__isnull=True) | Q(last_reminded_at__lt=F("claimed_at"))
    )


def reminder_settled() -> Q:
    """No reminder is being sent: none yet, or the last claimed one is recorded as sent."""
    return (
        Q(reminders_sent=0)
        | Q(claimed_at__isnull=True)
        | Q(last_reminded_at__isnull=False, last_reminded_at__gte=F("claimed_at"))
    )


def reminder_days(programme: PulseProgramme | None) -> list[int]:
    if programme is None:
        return []
    return sorted({d for d in programme.reminder_days or [] if isinstance(d, int) and d > 0})


def reminders_due(*, now: datetime | None = None) -> list[tuple[int, int]]:
    """(invitation id, reminder number) for every reminder due now, number counting from 1.

    In open waves, reminder n of an invitation is due when it was sent, its contact has not
    answered (by link or through staff), has not left and has not opted out, n-1 reminders were
    sent, and `reminder_days[n-1]` days have passed since it was sent. Also returned: reminders
    claimed longer than `STALE_CLAIM` ago and never recorded as sent (their worker died).
    """
    now = now or timezone.now()
    waves = Wave.objects.filter(status=Wave.Status.OPEN, closes_at__gt=now).select_related(
        "programme"
    )
    due: list[tuple[int, int]] = []
    for wave in waves:
        days = reminder_days(wave.programme)
        if not days:
            continue
        candidates = _reachable(
            Invitation.objects.filter(wave=wave, status=Invitation.Status.SENT)
        ).exclude(_has_response())
        for index, after in enumerate(days):
            fresh = (
                candidates.filter(reminder_settled())
                .filter(reminders_sent=index, sent_at__lte=now - timedelta(days=after))
                .values_list("pk", flat=True)
            )
            due.extend((pk, index + 1) for pk in fresh)
        stale = candidates.filter(reminder_in_flight(), claimed_at__lt=now - STALE_CLAIM)
        due.extend(stale.values_list("pk", "reminders_sent"))
    return sorted(due)


def waves_to_close(*, now: datetime | None = None) -> QuerySet[Wave]:
    """Open waves whose `closes_at` has passed."""
    now = now or timezone.now()
    return Wave.objects.filter(status=Wave.Status.OPEN, closes_at__lte=now).order_by("pk")


# --- Writes ---------------------------------------------------------------------------------------


def wave_name(*, programme: PulseProgramme | None, opens_on: date) -> str:
    """ "November 2026 pulse", or "November 2026 pulse – <programme>" for a named programme."""
    month = date_format(opens_on, "F Y")
    if programme is None:
        return f"Pulse of {month}"
    return f"{month} pulse – {programme.name}"


def invitation_signer(contact: Contact, programme: PulseProgramme):
    """Whom the email comes from: the relationship owner (falling back on the account's key
    account manager when there is none or they left us), or the key account manager."""
    if (
        programme.signer == PulseProgramme.Signer.RELATIONSHIP_OWNER
        and contact.owner is not None
        and contact.owner.is_active
    ):
        return contact.owner
    return contact.account.owner


def _invite(*, wave: Wave, programme: PulseProgramme) -> int:
    contacts = programme_eligible_contacts(programme).select_related("owner", "account__owner")
    invitations = []
    for contact in contacts.iterator(chunk_size=1000):
        invitation = Invitation(
            wave=wave, contact=contact, signer=invitation_signer(contact, programme)
        )
        invitation.issue_token()
        invitations.append(invitation)
    # The unique (wave, contact) constraint is the backstop against a second run.
    Invitation.objects.bulk_create(invitations, batch_size=500, ignore_conflicts=True)
    return len(invitations)


def _next_opening(programme: PulseProgramme, opened: date, today: date) -> date:
    following = programme.following_wave_date(opened)
    while following <= today:  # the engine was down for a while: skip, never burst
        following = programme.following_wave_date(following)
    return following


def wave_open_for_programme(*, programme_id: int, today: date) -> Wave | None:
    """Open the programme's due wave, invite its eligible people, and move `next_wave_on` on.

    Returns the new wave, or None when nothing was due (not active, not yet, or another process
    got there first). One transaction with the programme's row locked, so two beat processes
    cannot both open it; the conditional UPDATE of `next_wave_on` and the unique constraints
    (programme + opens_on, wave + contact) stop a second wave or invitation even so. The wave
    opens on its scheduled date and stays open `open_days` from now, so a late run still gives
    people their full window; dates missed while the engine was down are skipped, not sent in a
    burst. Raises ValidationError when the questionnaire has no questions.
    """
    now = timezone.now()
    with transaction.atomic():
        programme = (
            PulseProgramme.objects.select_for_update(of=("self",))
            .filter(pk=programme_id, is_active=True, next_wave_on__lte=today)
            .select_related("questionnaire")
            .first()
        )
        if programme is None:
            return None
        opens_on = programme.next_wave_on
        version = questionnaire_version_for_sending(questionnaire=programme.questionnaire)
        wave, created = Wave.objects.get_or_create(
            programme=programme,
            opens_on=opens_on,
            defaults={
                "name": wave_name(programme=programme, opens_on=opens_on),
                "questionnaire_version": version,
                "closes_at": now + timedelta(days=programme.open_days),
            },
        )
        advanced = PulseProgramme.objects.filter(pk=programme.pk, next_wave_on=opens_on).update(
            next_wave_on=_next_opening(programme, opens_on, today)
        )
        if not advanced:  # another process moved the programme on: undo our part
            transaction.set_rollback(True)
            return None
        if not created:  # the wave exists already (opened by hand, say): just move on
            return None
        invited = _invite(wave=wave, programme=programme)
    logger.info("Opened %s with %d invitations", wave, invited)
    return wave


def wave_open_due(*, today: date) -> list[Wave]:
    """Open every active programme's wave that is due on or before `today` (see
    `wave_open_for_programme`). A programme that cannot open (no questions) is logged and
    skipped, so one broken programme never stops the others."""
    due = PulseProgramme.objects.filter(is_active=True, next_wave_on__lte=today).order_by("pk")
    opened = []
    for programme_id in due.values_list("pk", flat=True):
        try:
            wave = wave_open_for_programme(programme_id=programme_id, today=today)
        except Exception:
            logger.exception("Could not open the due wave of programme %s", programme_id)
            continue
        if wave is not None:
            opened.append(wave)
    return opened


def invitations_take_for_sending(
    *, limit: int = SEND_BATCH, now: datetime | None = None
) -> list[int]:
    """`invitations_to_send`, marked as taken in hand (claimed_at = now) so the next schedule
    run does not queue them again while their tasks wait in the broker. Sending still claims
    each one on its own: a duplicate task never sends twice."""
    now = now or timezone.now()
    with transaction.atomic():
        # Rows another schedule run is taking right now are skipped, not waited for.
        sendable = _sendable(now).select_for_update(skip_locked=True, of=("self",))
        ids = list(sendable.values_list("pk", flat=True)[:limit])
        Invitation.objects.filter(pk__in=ids, status=Invitation.Status.PENDING).update(
            claimed_at=now
        )
    return ids


def wave_close(*, wave: Wave) -> bool:
    """Close an open wave. Returns whether this call closed it (False: it already was).

    Invitations still waiting to be sent are marked skipped: nobody is invited to a closed wave.
    """
    now = timezone.now()
    with transaction.atomic():
        closed = Wave.objects.filter(pk=wave.pk, status=Wave.Status.OPEN).update(
            status=Wave.Status.CLOSED, closed_at=now
        )
        if closed:
            Invitation.objects.filter(wave_id=wave.pk, status=Invitation.Status.PENDING).update(
                status=Invitation.Status.SKIPPED,
                last_error="The wave closed before this invitation could be sent.",
            )
            # Unanswered invitations now count as silence on the change maps.
            changemaps_mark_dirty()
    if closed:
        wave.status, wave.closed_at = Wave.Status.CLOSED, now
    return bool(closed)


def invitations_fail_abandoned(*, now: datetime | None = None) -> int:
    """Mark failed the invitations stuck in `sending` after their last allowed attempt.

    Their worker died mid-send `MAX_SEND_ATTEMPTS` times; whether the email left is unknown,
    so they are not tried again but shown to the owner. Returns how many.
    """
    now = now or timezone.now()
    return Invitation.objects.filter(
        status=Invitation.Status.SENDING,
        claimed_at__lt=now - STALE_CLAIM,
        attempts__gte=MAX_SEND_ATTEMPTS,
    ).update(
        status=Invitation.Status.FAILED,
        last_error="Sending was interrupted too often; check the mail server.",
    )


@dataclass
class ScheduleRun:
    """What one run of the schedule did, and the work it leaves for the queue."""

    opened: list[Wave] = field(default_factory=list)
    invitations: list[int] = field(default_factory=list)
    reminders: list[tuple[int, int]] = field(default_factory=list)
    closed: list[Wave] = field(default_factory=list)


def pulse_schedule_run(*, now: datetime | None = None) -> ScheduleRun:
    """One tick of the engine: open due waves, take a batch of invitations to send, find due
    reminders, close waves whose time is up. Idempotent step by step; the caller queues
    `run.invitations` and `run.reminders` (each send claims its own row again)."""
    now = now or timezone.now()
    run = ScheduleRun()
    run.opened = wave_open_due(today=timezone.localdate(now))
    invitations_fail_abandoned(now=now)
    run.invitations = invitations_take_for_sending(now=now)
    run.reminders = reminders_due(now=now)
    for wave in waves_to_close(now=now):
        if wave_close(wave=wave):
            run.closed.append(wave)
    return run
