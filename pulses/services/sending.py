"""Invitation and reminder emails: composed from templates, sent exactly once per step.

A step is the invitation or reminder n of one invitation. Each send first *claims* its step with
a conditional UPDATE, so of two workers handed the same step (a duplicate task, a retry racing
the schedule, a second beat) exactly one sends; the other finds nothing to claim and returns.

- Invitation: `pending → sending` (attempts + 1), then `sent`, `bounced`, back to `pending` for
  a retry, or `failed` after `MAX_SEND_ATTEMPTS`. A claim older than `STALE_CLAIM` is taken
  over: its worker died.
- Reminder n: `reminders_sent n-1 → n` with `claimed_at`; `last_reminded_at` (set after the
  claim) records that it left. An error moves the count back so the step can be tried again.

Every email carries a stable Message-ID per invitation and step, so the rare duplicate that no
database can prevent (a worker dying after the mail server accepted the message but before we
recorded it) is recognisable downstream.
"""

import email.policy
import logging
import smtplib
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from email.headerregistry import Address
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import F, Q
from django.template.loader import select_template
from django.urls import reverse
from django.utils import timezone, translation

from contacts.models import Contact
from pulses.models import DEFAULT_LANGUAGE, STALE_CLAIM, Invitation, Response, Wave
from pulses.services.waves import (
    MAX_SEND_ATTEMPTS,
    reminder_days,
    reminder_in_flight,
    reminder_settled,
)

logger = logging.getLogger(__name__)

# Errors worth another try later: the mail server or the network is unwell. (SMTPException is
# an OSError; both are listed to say what is meant.)
TRANSIENT_ERRORS = (smtplib.SMTPException, OSError)
ERROR_LENGTH = Invitation._meta.get_field("last_error").max_length
MAX_HEADER_LINE = 998  # RFC 5322 §2.1.1


class HeaderInjectionError(ValueError):
    """A header value would contain a line break."""


def header_text(value: str) -> str:
    """`value` on one line, for a header: control characters (CR, LF, tab, …) become spaces,
    runs of spaces one space."""
    cleaned = "".join(" " if unicodedata.category(c) == "Cc" else c for c in str(value))
    return " ".join(cleaned.split())


def _refuse_line_breaks(headers: dict[str, str]) -> None:
    for name, value in headers.items():
        if "\r" in value or "\n" in value:
            raise HeaderInjectionError(f"The {name} header would contain a line break.")


def is_bounce(error: smtplib.SMTPRecipientsRefused) -> bool:
    """A permanent refusal (5xx for every recipient), not "try again later" (4xx)."""
    codes = [code for code, _message in error.recipients.values()]
    return bool(codes) and all(code >= 500 for code in codes)


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:ERROR_LENGTH]


# --- Composing ------------------------------------------------------------------------------------


class PulseEmailMessage(EmailMultiAlternatives):
    """An email whose header lines may run to RFC 5322's 998 characters.

    The List-Unsubscribe URL is one unbreakable token, longer than the 78 characters the
    default policy folds at; Python would then fold it as RFC 2047 encoded-words, which mail
    clients do not read as a URL. Headers are only folded where they exceed 998 characters.
    """

    def message(self, *, policy=email.policy.default):
        return super().message(policy=policy.clone(max_line_length=MAX_HEADER_LINE))


@dataclass(frozen=True)
class Step:
    """Which email of an invitation: the invitation itself (number 0) or reminder `number`."""

    number: int = 0

    @property
    def is_reminder(self) -> bool:
        return self.number > 0

    @property
    def template(self) -> str:
        return "pulse_reminder" if self.is_reminder else "pulse_invitation"

    @property
    def key(self) -> str:
        return f"reminder{self.number}" if self.is_reminder else "invitation"


def _from_address() -> Address:
    _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return Address(addr_spec=address or "rapport@localhost")


def message_id_for(invitation: Invitation, step: Step) -> str:
    """The stable Message-ID of one step of one invitation."""
    return f"<pulse-{invitation.pk}-{step.key}@{_from_address().domain or 'localhost'}>"


def unsubscribe_url(invitation: Invitation) -> str:
    return settings.RAPPORT_SITE_URL.rstrip("/") + reverse(
        "pulses:unsubscribe", args=[invitation.link_token()]
    )


def _render(name: str, extension: str, language: str, context: dict) -> str:
    """Render `emails/<name>.<extension>`, preferring the contact's language when a template
    exists for it (`emails/pulse_invitation_body.de.txt`). Dates and numbers follow the
    language of the template used, so an English text never carries a German month."""
    base = f"emails/{name}.{extension}"
    localised = f"emails/{name}.{language}.{extension}"
    candidates = [base] if not language or language == DEFAULT_LANGUAGE else [localised, base]
    template = select_template(candidates)
    used = language if template.template.name == localised else DEFAULT_LANGUAGE
    with translation.override(used):
        return template.render(context)


def you_said_we_did(invitation: Invitation) -> list[str]:
    """What the account team did since this contact's last pulse, for "Since your last pulse we
    have: …"; the emails show the paragraph only when this is not empty."""
    # Imported here: actions builds on pulses, not the other way round.
    from actions.selectors import you_said_we_did_for_invitation

    return you_said_we_did_for_invitation(invitation)


def email_context(
    invitation: Invitation, step: Step, *, you_said_we_did_items: list[str] | None = None
) -> dict:
    """The templates' context; `you_said_we_did_items` when the caller looked them up already
    (for a whole chunk at once), else they are looked up here."""
    contact = invitation.contact
    signer = invitation.signer or contact.account.owner
    wave = invitation.wave
    days = reminder_days(wave.programme)
    return {
        "contact": contact,
        "first_name": contact.name.split(" ")[0] if contact.name else "",
        "account": contact.account,
        "signer": signer,
        "signer_name": header_text(signer.full_name or signer.email),
        "wave": wave,
        "closes_on": timezone.localdate(wave.closes_at),
        "survey_url": invitation.get_survey_url(),
        "unsubscribe_url": unsubscribe_url(invitation),
        "reminder_number": step.number,
        "is_last_reminder": step.is_reminder and step.number >= len(days),
        "you_said_we_did": (
            you_said_we_did(invitation) if you_said_we_did_items is None else you_said_we_did_items
        ),
    }


def pulse_email(
    *, invitation: Invitation, step: Step, you_said_we_did_items: list[str] | None = None
) -> EmailMultiAlternatives:
    """The email of one step: from the signer's name via Rapport, replies to the signer, in the
    contact's language where templates exist, with one-click unsubscribe (RFC 8058) headers.

    Names end up in headers, so line breaks in them are flattened; a header that would still
    hold one raises HeaderInjectionError rather than being sent. `you_said_we_did_items`: see
    `email_context`.
    """
    context = email_context(invitation, step, you_said_we_did_items=you_said_we_did_items)
    language = invitation.contact.preferred_language or DEFAULT_LANGUAGE
    subject = header_text(_render(f"{step.template}_subject", "txt", language, context))
    text = _render(f"{step.template}_body", "txt", language, context)
    html = _render(f"{step.template}_body", "html", language, context)
    sender = _from_address()
    signer = context["signer"]
    from_header = str(
        Address(
            display_name=f"{context['signer_name']} via Rapport",
            username=sender.username,
            domain=sender.domain,
        )
    )
    contact = invitation.contact
    to_header = str(Address(display_name=header_text(contact.name), addr_spec=contact.email))
    headers = {
        "Message-ID": message_id_for(invitation, step),
        "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        # Out-of-office replies and mailing-list software should not answer or re-send.
        "Auto-Submitted": "auto-generated",
    }
    _refuse_line_breaks({"Subject": subject, "From": from_header, "To": to_header, **headers})
    message = PulseEmailMessage(
        subject=subject,
        body=text,
        from_email=from_header,
        to=[to_header],
        reply_to=[str(Address(display_name=context["signer_name"], addr_spec=signer.email))],
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    return message


# --- Sending an invitation ------------------------------------------------------------------------


def _load(invitation_id: int) -> Invitation:
    return Invitation.objects.select_related(
        "wave__programme",
        "contact__account__owner",
        "signer",
    ).get(pk=invitation_id)


def skip_reason(invitation: Invitation, *, now, answered: bool | None = None) -> str:
    """Why this invitation must not be emailed now, or "" when it may. `answered`: whether the
    contact answered this wave, when the caller looked it up already (for a whole chunk)."""
    contact = invitation.contact
    if invitation.wave.status != Wave.Status.OPEN or invitation.wave.closes_at <= now:
        return "The wave closed before this email could be sent."
    if contact.status == Contact.Status.LEFT:
        return f"{contact.name} has left {contact.account.name}."
    if contact.pulse_consent != Contact.Consent.OPTED_IN:
        return f"{contact.name} opted out of pulses."
    if answered is None:
        answered = Response.objects.filter(
            wave_id=invitation.wave_id, contact_id=contact.pk
        ).exists()
    if answered:
        return f"{contact.name} has already answered this pulse."
    return ""


def _claim_invitation(invitation_id: int, now) -> bool:
    claimable = Q(status=Invitation.Status.PENDING) | Q(
        status=Invitation.Status.SENDING, claimed_at__lt=now - STALE_CLAIM
    )
    claimed = Invitation.objects.filter(
        claimable, pk=invitation_id, attempts__lt=MAX_SEND_ATTEMPTS
    ).update(status=Invitation.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    return claimed == 1


def _finish_invitation(invitation: Invitation, our_claim, **fields) -> bool:
    """Move our claimed row on; False if someone took our claim over (we were too slow)."""
    moved = Invitation.objects.filter(
        pk=invitation.pk, status=Invitation.Status.SENDING, claimed_at=our_claim
    ).update(**fields)
    if not moved:
        logger.warning("Invitation %s: our claim was taken over while sending", invitation.pk)
    return bool(moved)


def _send_failed(invitation: Invitation, our_claim, error: Exception) -> bool:
    """Back to pending for a retry (raising `error`), or failed after the last attempt."""
    exhausted = invitation.attempts >= MAX_SEND_ATTEMPTS
    _finish_invitation(
        invitation,
        our_claim,
        status=Invitation.Status.FAILED if exhausted else Invitation.Status.PENDING,
        # Still "taken in hand": the task's retry sends it, not the next schedule run.
        claimed_at=timezone.now(),
        last_error=_error_text(error),
    )
    if exhausted:
        logger.warning("Invitation %s failed after %d attempts", invitation.pk, invitation.attempts)
        return False
    raise error


def invitation_send(*, invitation_id: int, connection=None) -> bool:
    """Email one invitation, exactly once. Returns whether this call sent it.

    Claims the invitation (pending, or sending with a stale claim) and then, in order: marks it
    skipped when its wave closed, its contact left or opted out, or they already answered;
    marks it failed when the email cannot be composed; sends it and marks it sent (with
    `sent_at` and `message_id`). A refused recipient marks it bounced. Other mail errors put it
    back to pending with `last_error` and are raised, so the task retries with back-off; the
    attempt that reaches `MAX_SEND_ATTEMPTS` marks it failed instead. Anything already sent,
    bounced, failed, skipped or being sent by someone else is left alone (returns False).
    `connection` (an open email backend) is reused instead of opening one for this email.
    """
    now = timezone.now()
    if not _claim_invitation(invitation_id, now):
        return False
    return _send_claimed(_load(invitation_id), now, connection=connection)


def _send_claimed(
    invitation: Invitation,
    our_claim,
    *,
    connection,
    answered: bool | None = None,
    you_said_we_did_items: list[str] | None = None,
) -> bool:
    """`invitation_send` after the claim: skip, compose, send, record (one UPDATE)."""
    reason = skip_reason(invitation, now=timezone.now(), answered=answered)
    if reason:
        _finish_invitation(
            invitation, our_claim, status=Invitation.Status.SKIPPED, last_error=reason
        )
        return False
    step = Step(0)
    try:
        message = pulse_email(
            invitation=invitation, step=step, you_said_we_did_items=you_said_we_did_items
        )
    except Exception as error:
        logger.exception("Invitation %s: could not compose the email", invitation.pk)
        _finish_invitation(
            invitation,
            our_claim,
            status=Invitation.Status.FAILED,
            last_error=_error_text(error),
        )
        return False
    message.connection = connection
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as error:
        if not is_bounce(error):
            return _send_failed(invitation, our_claim, error)
        _finish_invitation(
            invitation, our_claim, status=Invitation.Status.BOUNCED, last_error=_error_text(error)
        )
        return False
    except TRANSIENT_ERRORS as error:
        return _send_failed(invitation, our_claim, error)
    _finish_invitation(
        invitation,
        our_claim,
        status=Invitation.Status.SENT,
        sent_at=timezone.now(),
        message_id=message.extra_headers["Message-ID"],
        last_error="",
    )
    return True


# A chunk's claims are renewed, and its rows reloaded, at least this often: no claim comes near
# STALE_CLAIM while its email waits behind slow ones, and what decides skipping (the wave
# closed, the contact left, opted out or answered) is never older than this.
CLAIM_ROUND = timedelta(seconds=60)


def _claim_invitations(invitation_ids: list[int], now) -> None:
    """`_claim_invitation` for many at once (one UPDATE); `_load_claimed` finds ours."""
    claimable = Q(status=Invitation.Status.PENDING) | Q(
        status=Invitation.Status.SENDING, claimed_at__lt=now - STALE_CLAIM
    )
    Invitation.objects.filter(
        claimable, pk__in=invitation_ids, attempts__lt=MAX_SEND_ATTEMPTS
    ).update(status=Invitation.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)


def _renew_claims(invitation_ids: list[int], our_claim, now) -> None:
    Invitation.objects.filter(
        pk__in=invitation_ids, status=Invitation.Status.SENDING, claimed_at=our_claim
    ).update(claimed_at=now)


def _load_claimed(invitation_ids: list[int], claim) -> list[Invitation]:
    """The invitations among `invitation_ids` claimed at `claim` (by us), in that order."""
    claimed = Invitation.objects.select_related(
        "wave__programme", "contact__account__owner", "signer"
    ).filter(pk__in=invitation_ids, status=Invitation.Status.SENDING, claimed_at=claim)
    by_id = {invitation.pk: invitation for invitation in claimed}
    return [by_id[pk] for pk in invitation_ids if pk in by_id]


def _release_claims(invitation_ids: list[int], our_claim) -> None:
    """Claimed but not tried: back to pending, the attempt not counted, still taken in hand
    (claimed_at) so that the retry sends them, not the next schedule run."""
    Invitation.objects.filter(
        pk__in=invitation_ids, status=Invitation.Status.SENDING, claimed_at=our_claim
    ).update(
        status=Invitation.Status.PENDING, attempts=F("attempts") - 1, claimed_at=timezone.now()
    )


def invitations_send(*, invitation_ids: list[int]) -> list[int]:
    """Email several invitations over one mail-server connection, each exactly once. Returns
    the ids that met a transient mail error, for the caller to retry one by one with back-off:
    they are pending again (with `last_error`), or were never claimed (or released unclaimed)
    when the server could not be reached.

    Opening an SMTP connection (and TLS, and login) costs more than sending one email, so a
    wave's thousands of emails go out in batches, each over one connection. The batch is
    claimed with one conditional UPDATE (as `invitation_send` claims one: whatever another
    worker holds, or was sent, is left out), loaded with one query, and checked for answers
    and "you said, we did" in a few more; each email is then sent and recorded with its own
    UPDATE, as `invitation_send` does. Claims are renewed every CLAIM_ROUND. Should this
    call fail midway (the database gone), the claims it could not release go stale after
    STALE_CLAIM and the schedule hands those invitations out again, as for a worker that died.
    """
    # Imported here: actions builds on pulses, not the other way round.
    from actions.selectors import you_said_we_did_for_invitations

    to_retry: list[int] = []
    connection = get_connection()
    try:
        try:
            connection.open()
        except TRANSIENT_ERRORS:
            return list(invitation_ids)  # nothing claimed: the retries send them
        remaining, our_claim = list(dict.fromkeys(invitation_ids)), None
        while remaining:
            now = timezone.now()
            if our_claim is None:
                _claim_invitations(remaining, now)
            else:
                _renew_claims(remaining, our_claim, now)
            invitations = _load_claimed(remaining, now)
            our_claim, remaining = now, []
            answered = set(
                Response.objects.filter(
                    wave_id__in={i.wave_id for i in invitations},
                    contact_id__in={i.contact_id for i in invitations},
                ).values_list("wave_id", "contact_id")
            )
            told = you_said_we_did_for_invitations(invitations)
            for index, invitation in enumerate(invitations):
                # At least one email per round, so that every round makes progress.
                if index and timezone.now() - our_claim > CLAIM_ROUND:
                    remaining = [i.pk for i in invitations[index:]]
                    break
                try:
                    connection.open()  # no-op while open; reopens after an error closed it
                except TRANSIENT_ERRORS:
                    unsent = [i.pk for i in invitations[index:]]
                    _release_claims(unsent, our_claim)
                    return to_retry + unsent
                try:
                    _send_claimed(
                        invitation,
                        our_claim,
                        connection=connection,
                        answered=(invitation.wave_id, invitation.contact_id) in answered,
                        you_said_we_did_items=told[invitation.pk],
                    )
                except TRANSIENT_ERRORS:
                    to_retry.append(invitation.pk)
                    # The connection may be broken; the next email opens a fresh one.
                    connection.close()
                except BaseException:
                    # Whether this one left is unknown: its claim stays and goes stale.
                    _release_claims_quietly([i.pk for i in invitations[index + 1 :]], our_claim)
                    raise
    finally:
        connection.close()
    return to_retry


def _release_claims_quietly(invitation_ids: list[int], our_claim) -> None:
    """`_release_claims` while an error is on its way out: if this fails too (the database is
    gone), the claims go stale and the schedule hands the invitations out again."""
    try:
        _release_claims(invitation_ids, our_claim)
    except Exception:
        logger.exception("Could not release %d claimed invitations", len(invitation_ids))


# --- Sending a reminder ---------------------------------------------------------------------------


def _claim_reminder(invitation_id: int, number: int, now) -> bool:
    fresh = Q(reminders_sent=number - 1) & reminder_settled()
    stale = Q(reminders_sent=number, claimed_at__lt=now - STALE_CLAIM) & reminder_in_flight()
    claimed = Invitation.objects.filter(
        fresh | stale, pk=invitation_id, status=Invitation.Status.SENT
    ).update(reminders_sent=number, claimed_at=now)
    return claimed == 1


def _release_reminder(invitation_id: int, number: int, claimed_at, **fields) -> None:
    """Undo our claim of reminder `number`, so that it counts as not sent."""
    Invitation.objects.filter(
        pk=invitation_id, reminders_sent=number, claimed_at=claimed_at
    ).update(reminders_sent=number - 1, claimed_at=F("last_reminded_at"), **fields)


def reminder_send(*, invitation_id: int, number: int) -> bool:
    """Send reminder `number` (from 1) of a sent invitation, exactly once; same personal link.

    Claims the step by moving `reminders_sent` from number-1 to number (or takes over a claim
    older than STALE_CLAIM that never recorded success). Skipped, and the claim undone, when
    the wave closed or the contact left, opted out or answered meanwhile. A refused recipient
    marks the invitation bounced; other mail errors undo the claim, note `last_error` and are
    raised for the task to retry. Returns whether this call sent the reminder.
    """
    if number < 1:
        raise ValueError("Reminders count from 1.")
    now = timezone.now()
    if not _claim_reminder(invitation_id, number, now):
        return False
    invitation = _load(invitation_id)
    if skip_reason(invitation, now=now):
        _release_reminder(invitation_id, number, now)
        return False
    try:
        message = pulse_email(invitation=invitation, step=Step(number))
        message.send()
    except smtplib.SMTPRecipientsRefused as error:
        if not is_bounce(error):
            _release_reminder(invitation_id, number, now, last_error=_error_text(error))
            raise
        _release_reminder(
            invitation_id,
            number,
            now,
            status=Invitation.Status.BOUNCED,
            last_error=_error_text(error),
        )
        return False
    except Exception as error:
        _release_reminder(invitation_id, number, now, last_error=_error_text(error))
        raise
    Invitation.objects.filter(pk=invitation_id, reminders_sent=number, claimed_at=now).update(
        last_reminded_at=timezone.now()
    )
    return True
