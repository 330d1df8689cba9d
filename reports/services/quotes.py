"""Quotes: the account team proposes a person's words, the person approves them by link.

A quote moves `proposed → requested → approved | withdrawn`. Only the person, through their
personal link, approves (optionally rewording it and choosing how they are credited) or
withdraws; the account team only proposes and sends (or re-sends) the link. Every re-send
issues a new token, so earlier links stop working; a withdrawn quote can only be approved again
after the team sends a new link.

Each service runs in one transaction and locks the quote's row, so two clicks (or a re-send
racing an approval) settle one after the other on the latest state.
"""

import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils import timezone

from accounts.models import User
from contacts.models import Contact
from core.email import TRANSIENT_ERRORS, compose_email, error_text, mailbox, message_id
from pulses.models import DEFAULT_LANGUAGE, MAX_ANSWER_LENGTH, Answer, Question
from reports.models import Quote

logger = logging.getLogger(__name__)

QUOTABLE_PURPOSES = (Question.Purpose.KEEP_DOING, Question.Purpose.IMPROVE)
EMAIL_NAME = "quote_approval"


class QuoteLinkError(ValidationError):
    """The link used no longer allows this (expired, replaced by a newer one, or withdrawn)."""


class QuoteEmailError(ValidationError):
    """The approval email could not be composed or sent; nothing was changed."""


def quote_propose(*, answer: Answer, by: User) -> Quote:
    """Propose `answer` (an open "what goes well" or "what to improve" answer) as a quote.

    The quote starts `proposed` with the person's own words as its wording and a
    name-and-role credit; nobody outside sees it until the person approves it. Raises
    ValidationError for any other kind of answer, an empty one, or one already proposed.
    """
    question = answer.question
    if question.kind != Question.Kind.OPEN_TEXT or question.purpose not in QUOTABLE_PURPOSES:
        raise ValidationError(
            "Only answers to “what goes well” and “what to improve” can become quotes."
        )
    if not answer.text.strip():
        raise ValidationError("This answer is empty: there is nothing to quote.")
    contact = answer.response.contact
    try:
        with transaction.atomic():
            return Quote.objects.create(
                answer=answer,
                contact=contact,
                side=question.purpose,
                original_text=answer.text,
                text=answer.text.strip(),
                requested_by=by,
            )
    except IntegrityError as error:
        raise ValidationError("This answer has already been proposed as a quote.") from error


def quote_request_approval(*, quote: Quote, by: User) -> Quote:
    """Email the quote's author a fresh personal approval link (send or re-send).

    Issues a new token (earlier links stop working), moves the quote to `requested` and sends
    the email — plain text and HTML, in the contact's language where templates exist, from
    "<relationship owner> via Rapport" with replies to them — all in one transaction: if the
    email cannot be composed or sent, QuoteEmailError is raised and nothing changes (an earlier
    link keeps working). Refused (ValidationError) for approved quotes and for people who left.
    """
    with transaction.atomic():
        # Only the quote's row is locked: PostgreSQL cannot lock the nullable side of the
        # owner joins, and nothing else needs to hold still.
        locked = (
            Quote.objects.select_for_update(of=("self",))
            .select_related("contact__account__owner", "contact__owner")
            .get(pk=quote.pk)
        )
        contact = locked.contact
        if locked.status == Quote.Status.APPROVED:
            raise ValidationError(f"{contact.name} has already approved this quote.")
        if contact.status == Contact.Status.LEFT:
            raise ValidationError(
                f"{contact.name} has left {contact.account.name}: their approval cannot be asked."
            )
        now = timezone.now()
        locked.issue_token()
        locked.status = Quote.Status.REQUESTED
        locked.requested_by = by
        locked.requested_at = now
        locked.decided_at = None
        locked.save(
            update_fields=[
                "token_nonce",
                "token_hash",
                "link_expires_at",
                "status",
                "requested_by",
                "requested_at",
                "decided_at",
                "updated_at",
            ]
        )
        try:
            approval_email(quote=locked).send()
        except (*TRANSIENT_ERRORS, ValueError) as error:
            # Raised inside the transaction on purpose: the new token is rolled back with it,
            # so the person never holds a link we failed to tell them about, and an earlier
            # link still works. (HeaderInjectionError is a ValueError.)
            logger.warning("Quote %s: the approval email failed: %s", locked.pk, error_text(error))
            raise QuoteEmailError(
                f"The email to {contact.name} could not be sent ({error_text(error, 200)}). "
                "Nothing was changed; please try again later."
            ) from error
    return locked


def _signer(contact: Contact) -> User:
    """Who the approval email comes from: the person's relationship owner, as for pulses."""
    return contact.owner or contact.account.owner


def _email_language(contact: Contact) -> str:
    """The contact's language if this email has templates in it (as pulse emails may:
    `quote_approval_body.de.txt`), else English: `render_email` formats dates in the language
    it is given, and an English text must not carry a German month."""
    language = contact.preferred_language or DEFAULT_LANGUAGE
    if language == DEFAULT_LANGUAGE:
        return language
    try:
        get_template(f"emails/{EMAIL_NAME}_body.{language}.txt")
    except TemplateDoesNotExist:
        return DEFAULT_LANGUAGE
    return language


def approval_email(*, quote: Quote):
    """The approval email for `quote`, carrying its current link (not sent)."""
    contact = quote.contact
    signer = _signer(contact)
    signer_name = signer.full_name or signer.email
    context = {
        "contact": contact,
        "first_name": contact.name.split(" ")[0] if contact.name else "",
        "account": contact.account,
        "quote": quote,
        "signer": signer,
        "signer_name": signer_name,
        "approval_url": quote.get_approval_url(),
        "expires_on": timezone.localdate(quote.link_expires_at),
    }
    return compose_email(
        name=EMAIL_NAME,
        context=context,
        to=[mailbox(contact.name, contact.email)],
        # One Message-ID per link sent (a re-send is a new step). A prefix of the token's hash
        # tells links apart and reveals nothing: the hash is one-way.
        message_id=message_id("quote", quote.pk, "request", quote.token_hash[:12]),
        sender_name=signer_name,
        reply_to=[mailbox(signer_name, signer.email)],
        language=_email_language(contact),
        headers={"Auto-Submitted": "auto-generated"},
    )


def _lock_for_link(quote: Quote) -> Quote:
    """The quote's row, locked, if the link `quote` was loaded by still speaks for it."""
    locked = (
        Quote.objects.select_for_update(of=("self",)).select_related("contact").get(pk=quote.pk)
    )
    if not locked.token_hash or locked.token_hash != quote.token_hash:
        raise QuoteLinkError("This link has been replaced by a newer one.")
    if not locked.link_is_live:
        raise QuoteLinkError("This link has expired.")
    if locked.status == Quote.Status.WITHDRAWN:
        raise QuoteLinkError(
            "This quote was withdrawn; it can only be approved through a new link."
        )
    if locked.status not in {Quote.Status.REQUESTED, Quote.Status.APPROVED}:
        raise QuoteLinkError("This quote is not waiting for approval.")
    return locked


def clean_quote_text(text: str) -> str:
    """The wording as it will be shown: browser line breaks unified, ends trimmed."""
    return text.replace("\r\n", "\n").strip()


def quote_approve(*, quote: Quote, text: str | None = None, credit: str | None = None) -> Quote:
    """The person approves `quote` through its link, optionally rewording it and choosing how
    they are credited (`Quote.Credit`). Their original words stay in `original_text`.

    Works while the link is live, and again after an approval (to change wording or credit).
    Raises QuoteLinkError when the link was replaced, expired or the quote withdrawn, and
    ValidationError for an empty or overlong wording or an unknown credit.
    """
    with transaction.atomic():
        locked = _lock_for_link(quote)
        if text is not None:
            wording = clean_quote_text(text)
            if not wording:
                raise ValidationError(
                    {"text": "The quote cannot be empty. To not be quoted, withdraw it instead."}
                )
            if len(wording) > MAX_ANSWER_LENGTH:
                raise ValidationError(
                    {"text": f"Please keep the quote to {MAX_ANSWER_LENGTH:,} characters or fewer."}
                )
            locked.text = wording
        if credit is not None:
            if credit not in Quote.Credit.values:
                raise ValidationError({"credit": "Choose how you would like to be credited."})
            locked.credit = credit
        locked.status = Quote.Status.APPROVED
        locked.decided_at = timezone.now()
        locked.save(update_fields=["text", "credit", "status", "decided_at", "updated_at"])
    return locked


def quote_withdraw(*, quote: Quote) -> Quote:
    """The person withdraws `quote` through its link: no report shows it any more.

    The link then only says it was withdrawn; approving again needs a new link from the
    account team. Raises QuoteLinkError when the link was replaced or expired, or the quote
    was already withdrawn.
    """
    with transaction.atomic():
        locked = _lock_for_link(quote)
        locked.status = Quote.Status.WITHDRAWN
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "decided_at", "updated_at"])
    return locked
