"""The emails of an acknowledgement, each sent exactly once.

- receipt: to the person, at once: "thank you — <owner> will be in touch";
- reply: to the person, the owner's own words, from "<Owner> via Rapport", replies to the owner;
- reminder: to the owner, 24 hours after the response arrived, while it is still open;
- escalation: to the account's owner and the executives, at 48 hours, while it is still open.

`acknowledgement_email_send` claims its row with a conditional UPDATE before sending, so of two
workers handed the same email (a duplicate message, a retry racing the sweeper, a second beat)
exactly one sends. Each email's Message-ID is stable (`<ack-<id>-<kind>@…>`): should a worker
die after the mail server accepted a message but before we recorded it, the second copy the
takeover sends carries the same Message-ID and is recognisable as the same message.
"""

from django.urls import reverse

from accounts.models import Role, User
from actions.models import Acknowledgement, AcknowledgementEmail
from actions.services import outbox
from core.email import compose_email, header_text, mailbox, message_id, site_url
from pulses.models import DEFAULT_LANGUAGE

Kind = AcknowledgementEmail.Kind


def email_message_id(email: AcknowledgementEmail) -> str:
    return message_id("ack", email.acknowledgement_id, email.kind)


def _load(email_id: int) -> AcknowledgementEmail:
    return AcknowledgementEmail.objects.select_related(
        "acknowledgement__contact",
        "acknowledgement__account__owner",
        "acknowledgement__owner",
        "acknowledgement__acknowledged_by",
        "acknowledgement__response__wave",
    ).get(pk=email_id)


def skip_reason(email: AcknowledgementEmail) -> str:
    """Why this email must not go out now, or ""."""
    acknowledgement = email.acknowledgement
    if email.kind in (Kind.REMINDER, Kind.ESCALATION) and not acknowledgement.is_open:
        return "Acknowledged before it was due."
    if email.kind == Kind.REMINDER and not (
        acknowledgement.owner and acknowledgement.owner.is_active
    ):
        return "Nobody to remind: the escalation follows at 48 hours."
    if email.kind in (Kind.RECEIPT, Kind.REPLY) and not acknowledgement.contact.email:
        return "No email address."
    if email.kind in (Kind.RECEIPT, Kind.REPLY) and acknowledgement.contact.erased_at:
        return "Their personal data was erased."
    return ""


def _owner_name(acknowledgement: Acknowledgement) -> str:
    owner = acknowledgement.owner or acknowledgement.account.owner
    return header_text(owner.full_name or owner.email)


def _context(acknowledgement: Acknowledgement) -> dict:
    contact = acknowledgement.contact
    return {
        "acknowledgement": acknowledgement,
        "contact": contact,
        "first_name": contact.name.split(" ")[0] if contact.name else "",
        "account": acknowledgement.account,
        "owner": acknowledgement.owner or acknowledgement.account.owner,
        "owner_name": _owner_name(acknowledgement),
        "wave": acknowledgement.response.wave,
        "score": acknowledgement.response.score,
        "quotes": acknowledgement.quotes(),
        "url": site_url(reverse("actions:acknowledgement", args=[acknowledgement.pk])),
        "inbox_url": site_url(reverse("actions:inbox")),
    }


def escalation_recipients(acknowledgement: Acknowledgement) -> list[User]:
    """The account's owner and every active executive, each once."""
    executives = User.objects.filter(role=Role.EXECUTIVE, is_active=True).order_by("pk")
    people = [acknowledgement.account.owner, *executives]
    seen, recipients = set(), []
    for person in people:
        if person.is_active and person.pk not in seen:
            seen.add(person.pk)
            recipients.append(person)
    return recipients


def acknowledgement_email(email: AcknowledgementEmail):
    """The EmailMultiAlternatives of one row (not sent)."""
    acknowledgement = email.acknowledgement
    context = _context(acknowledgement)
    contact = acknowledgement.contact
    person = [mailbox(contact.name, contact.email)] if contact.email else []
    mid = email_message_id(email)
    if email.kind == Kind.RECEIPT:
        owner = context["owner"]
        return compose_email(
            name="acknowledgement_receipt",
            context=context,
            to=person,
            message_id=mid,
            sender_name=context["owner_name"],
            reply_to=[mailbox(owner.full_name, owner.email)],
            language=contact.preferred_language or DEFAULT_LANGUAGE,
            headers={"Auto-Submitted": "auto-replied"},
        )
    if email.kind == Kind.REPLY:
        writer = acknowledgement.acknowledged_by or context["owner"]
        receipt = message_id("ack", acknowledgement.pk, Kind.RECEIPT)
        return compose_email(
            name="acknowledgement_reply",
            context=context
            | {
                "subject": acknowledgement.reply_subject,
                "body": acknowledgement.reply_body,
                "writer": writer,
            },
            to=person,
            message_id=mid,
            sender_name=writer.full_name or writer.email,
            reply_to=[mailbox(writer.full_name, writer.email)],
            headers={"In-Reply-To": receipt, "References": receipt},
        )
    if email.kind == Kind.REMINDER:
        owner = acknowledgement.owner
        return compose_email(
            name="acknowledgement_reminder",
            context=context,
            to=[mailbox(owner.full_name, owner.email)],
            message_id=mid,
            headers={"Auto-Submitted": "auto-generated"},
        )
    recipients = escalation_recipients(acknowledgement)
    owner = acknowledgement.owner
    cc = (
        [mailbox(owner.full_name, owner.email)]
        if owner and owner.is_active and owner.pk not in {r.pk for r in recipients}
        else []
    )
    return compose_email(
        name="acknowledgement_escalation",
        context=context,
        to=[mailbox(r.full_name, r.email) for r in recipients],
        cc=cc,
        message_id=mid,
        headers={"Auto-Submitted": "auto-generated"},
    )


def acknowledgement_email_send(*, email_id: int) -> bool:
    """Send one acknowledgement email, exactly once (see `outbox.email_send`). Returns whether
    this call sent it. Skipped when no longer wanted: a reminder or escalation for a response
    acknowledged meanwhile, nobody to remind, no address to write to."""
    return outbox.email_send(
        model=AcknowledgementEmail,
        email_id=email_id,
        load=_load,
        skip_reason=skip_reason,
        compose=acknowledgement_email,
    )
