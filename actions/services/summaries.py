"""A "you said, we did" summary emailed to an account's participants, once each.

The statements and the recipients are fixed when someone sends it; each person's email is an
`OutgoingEmail` row (unique per mailing and person) sent by a task after the commit and, should
the broker be down, by the sweeper. At most one summary per account and day.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Account, User
from actions.models import SummaryEmail, SummaryMailing
from actions.selectors import summary_recipients, summary_statements
from actions.services import outbox
from contacts.models import Contact
from core.email import compose_email, mailbox, message_id


@transaction.atomic
def summary_send(*, account: Account, by: User) -> SummaryMailing:
    """Email the account's "you said, we did" statements to its participants.

    Statements: see `summary_statements`; participants: see `summary_recipients`. Raises
    ValidationError when there is nothing to say, nobody to tell, or a summary already went
    out today. The caller checks that `by` may.
    """
    statements = summary_statements(account=account)
    if not statements:
        raise ValidationError("Nothing to tell yet: no done action has its “you said, we did”.")
    recipients = list(summary_recipients(account=account))
    if not recipients:
        raise ValidationError("Nobody to tell: nobody at this account answered a pulse lately.")
    try:
        with transaction.atomic():
            mailing = SummaryMailing.objects.create(
                account=account, sent_by=by, statements=statements
            )
    except IntegrityError as error:
        raise ValidationError(
            f"A summary went to {account.name}’s participants today already."
        ) from error
    now = timezone.now()
    rows = SummaryEmail.objects.bulk_create(
        [SummaryEmail(mailing=mailing, contact=contact, queued_at=now) for contact in recipients]
    )
    for row in rows:
        queue_summary_email(row.pk)
    return mailing


def queue_summary_email(email_id: int) -> None:
    from actions.tasks import send_summary_email

    outbox.queue_on_commit(send_summary_email, SummaryEmail, email_id)


def _load(email_id: int) -> SummaryEmail:
    return SummaryEmail.objects.select_related(
        "contact", "mailing__account__owner", "mailing__sent_by"
    ).get(pk=email_id)


def _skip_reason(email: SummaryEmail) -> str:
    contact = email.contact
    if contact.status == Contact.Status.LEFT:
        return f"{contact.name} has left."
    if contact.pulse_consent != Contact.Consent.OPTED_IN:
        return f"{contact.name} opted out."
    if not contact.email:
        return "No email address."
    return ""


def summary_email(email: SummaryEmail):
    mailing, contact = email.mailing, email.contact
    sender = mailing.sent_by or mailing.account.owner
    return compose_email(
        name="you_said_we_did_summary",
        context={
            "contact": contact,
            "first_name": contact.name.split(" ")[0] if contact.name else "",
            "account": mailing.account,
            "statements": mailing.statements,
            "sender": sender,
        },
        to=[mailbox(contact.name, contact.email)],
        message_id=message_id("summary", mailing.pk, contact.pk),
        sender_name=sender.full_name or sender.email,
        reply_to=[mailbox(sender.full_name, sender.email)],
        headers={"Auto-Submitted": "auto-generated"},
    )


def summary_email_send(*, email_id: int) -> bool:
    """Send one person's summary, exactly once (see `outbox.email_send`)."""
    return outbox.email_send(
        model=SummaryEmail,
        email_id=email_id,
        load=_load,
        skip_reason=_skip_reason,
        compose=summary_email,
    )
