"""Subject access: everything held on one contact, as JSON (shape: `privacy.schema`)."""

from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import AccountLogEntry, User
from actions.models import (
    Acknowledgement,
    Action,
    ActionUpdate,
    AdvocacyCandidate,
    FeedbackReview,
    SummaryEmail,
)
from changemaps.models import ContactSnapshot
from contacts.models import Contact, InternalRelationship
from contacts.privacy.words import identifiers, text_mentions
from core.models import AuditEvent
from core.services.audit import audit_record
from pulses.models import Invitation, Response, Unsubscribe
from reports.models import Quote

FORMAT = "rapport-subject-access"
FORMAT_VERSION = 1


def _iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _user(user: User | None) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "full_name": user.full_name, "email": user.email}


def _wave(wave) -> dict:
    return {"id": wave.pk, "name": wave.name, "opens_on": _iso(wave.opens_on)}


def _profile(contact: Contact) -> dict:
    return {
        "id": contact.pk,
        "account": {"id": contact.account_id, "name": contact.account.name},
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "job_title": contact.job_title,
        "department": contact.department,
        "seniority": contact.seniority,
        "location": contact.location,
        "time_zone": contact.time_zone,
        "preferred_language": contact.preferred_language,
        "roles": sorted(contact.role_codes),
        "budget_amount": _iso(contact.budget_amount),
        "budget_currency": contact.budget_currency,
        "influence": contact.influence,
        "status": contact.status,
        "left_on": _iso(contact.left_on),
        "reports_to": contact.reports_to_id,
        "owner": _user(contact.owner),
        "preferred_channel": contact.preferred_channel,
        "contact_frequency": contact.contact_frequency,
        "pulse_consent": contact.pulse_consent,
        "pulse_consent_at": _iso(contact.pulse_consent_at),
        "notes": contact.notes,
        "erased_at": _iso(contact.erased_at),
        "created_at": _iso(contact.created_at),
        "updated_at": _iso(contact.updated_at),
    }


HISTORY_FIELDS = [
    "name", "email", "phone", "job_title", "department", "seniority", "location", "time_zone",
    "preferred_language", "budget_amount", "budget_currency", "influence", "status", "left_on",
    "reports_to_id", "owner_id", "preferred_channel", "contact_frequency", "pulse_consent",
    "pulse_consent_at", "notes",
]  # fmt: skip
HISTORY_TYPES = {"+": "created", "~": "changed", "-": "deleted"}


def _history(contact: Contact) -> list[dict]:
    rows = contact.history.select_related("history_user").order_by("history_date", "history_id")
    return [
        {
            "at": _iso(row.history_date),
            "type": HISTORY_TYPES.get(row.history_type, row.history_type),
            "by": _user(row.history_user),
            "reason": row.history_change_reason or "",
            "record": {
                name.removesuffix("_id"): _json_value(getattr(row, name)) for name in HISTORY_FIELDS
            },
        }
        for row in rows
    ]


def _json_value(value):
    if isinstance(value, datetime | date | Decimal):
        return _iso(value)
    return value


def _answers(response: Response) -> list[dict]:
    return [
        {
            "question": answer.question.key,
            "kind": answer.question.kind,
            "purpose": answer.question.purpose,
            "prompt": answer.question.text(response.language),
            "number": answer.number,
            "text": answer.text,
            "choice": answer.choice,
        }
        for answer in response.answers.all()
    ]


def _actions_about(contact: Contact) -> QuerySet[Action]:
    """Actions raised by them or from their responses, and actions of their account whose text
    names them."""
    named = Q(account_id=contact.account_id) & (
        text_mentions(["title", "description", "you_said_we_did"], identifiers(contact))
        | Q(pk__in=ActionUpdate.objects.filter(_updates_naming(contact)).values("action_id"))
    )
    return Action.objects.filter(
        Q(source_contact=contact) | Q(source_response__contact=contact) | named
    ).distinct()


def _updates_naming(contact: Contact) -> Q:
    return Q(action__account_id=contact.account_id) & text_mentions(["text"], identifiers(contact))


def _log_entries_about(contact: Contact) -> QuerySet[AccountLogEntry]:
    named = Q(account_id=contact.account_id) & text_mentions(
        ["title", "body"], identifiers(contact)
    )
    return AccountLogEntry.objects.filter(Q(mentioned_contacts=contact) | named).distinct()


def contact_subject_access(*, contact: Contact) -> dict:
    """Everything Rapport holds on `contact`, as a JSON-ready dict (strings, numbers, booleans,
    None, lists, dicts; dates and times in ISO 8601). Shape: `SUBJECT_ACCESS_SCHEMA`.

    Their profile and every historical version of it (who changed what, when), our people who
    know them, their influence links (the other person by id only), account-log entries that
    mention them, every invitation (never its link), unsubscribe, response with its answers,
    acknowledgement with its replies and emails, action raised by them, from their responses or
    naming them, feedback review of their responses, referral or case-study candidacy, quote,
    "you said, we did" summary sent to them, and their change-map snapshots. Other contacts
    appear only as ids. Reads only: `contact_subject_access_export` is the audited door.
    """
    contact = (
        Contact.objects.select_related("account", "owner")
        .prefetch_related("buying_roles")
        .get(pk=contact.pk)
    )
    responses = (
        Response.objects.filter(contact=contact)
        .select_related("wave", "recorded_by")
        .prefetch_related("answers__question")
        .order_by("submitted_at", "pk")
    )
    acknowledgements = (
        Acknowledgement.objects.filter(contact=contact)
        .select_related("acknowledged_by", "owner")
        .prefetch_related("emails")
        .order_by("received_at", "pk")
    )
    actions = (
        _actions_about(contact)
        .select_related("owner")
        .prefetch_related("updates__author")
        .order_by("created_at", "pk")
    )
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "generated_at": _iso(timezone.now()),
        "contact": _profile(contact),
        "history": _history(contact),
        "relationships": [
            {
                "user": _user(r.user),
                "strength": r.strength,
                "notes": r.notes,
                "created_at": _iso(r.created_at),
            }
            for r in InternalRelationship.objects.filter(contact=contact)
            .select_related("user")
            .order_by("pk")
        ],
        "influence_links": [
            {
                "direction": "out" if link.source_id == contact.pk else "in",
                "other_contact_id": link.target_id
                if link.source_id == contact.pk
                else link.source_id,
                "kind": link.kind,
                "strength": link.strength,
                "created_at": _iso(link.created_at),
            }
            for link in contact.links_out.all().union(contact.links_in.all()).order_by("pk")
        ],
        "log_entries": [
            {
                "id": entry.pk,
                "kind": entry.kind,
                "occurred_on": _iso(entry.occurred_on),
                "title": entry.title,
                "body": entry.body,
                "author": _user(entry.author),
                "created_at": _iso(entry.created_at),
            }
            for entry in _log_entries_about(contact)
            .select_related("author")
            .order_by("occurred_on", "pk")
        ],
        "invitations": [
            {
                "id": invitation.pk,
                "wave": _wave(invitation.wave),
                "status": invitation.status,
                "sent_at": _iso(invitation.sent_at),
                "reminders_sent": invitation.reminders_sent,
                "last_reminded_at": _iso(invitation.last_reminded_at),
                "first_opened_at": _iso(invitation.first_opened_at),
                "created_at": _iso(invitation.created_at),
            }
            for invitation in Invitation.objects.filter(contact=contact)
            .select_related("wave")
            .order_by("created_at", "pk")
        ],
        "unsubscribes": [
            {"at": _iso(u.at), "method": u.method}
            for u in Unsubscribe.objects.filter(contact=contact).order_by("at", "pk")
        ],
        "responses": [
            {
                "id": response.pk,
                "wave": _wave(response.wave),
                "source": response.source,
                "recorded_by": _user(response.recorded_by),
                "language": response.language,
                "score": response.score,
                "submitted_at": _iso(response.submitted_at),
                "updated_at": _iso(response.updated_at),
                "answers": _answers(response),
            }
            for response in responses
        ],
        "acknowledgements": [
            {
                "id": ack.pk,
                "response": ack.response_id,
                "owner": _user(ack.owner),
                "status": ack.status,
                "method": ack.method,
                "received_at": _iso(ack.received_at),
                "due_at": _iso(ack.due_at),
                "urgent": ack.urgent,
                "urgent_reason": ack.urgent_reason,
                "acknowledged_at": _iso(ack.acknowledged_at),
                "acknowledged_by": _user(ack.acknowledged_by),
                "note": ack.note,
                "reply_subject": ack.reply_subject,
                "reply_body": ack.reply_body,
                "emails": [
                    {"kind": email.kind, "status": email.status, "sent_at": _iso(email.sent_at)}
                    for email in ack.emails.all()
                ],
            }
            for ack in acknowledgements
        ],
        "actions": [
            {
                "id": action.pk,
                "title": action.title,
                "description": action.description,
                "status": action.status,
                "is_focus": action.is_focus,
                "owner": _user(action.owner),
                "raised_by_them": action.source_contact_id == contact.pk,
                "source_response": action.source_response_id,
                "you_said_we_did": action.you_said_we_did,
                "created_at": _iso(action.created_at),
                "done_at": _iso(action.done_at),
                "updates": [
                    {
                        "at": _iso(update.at),
                        "author": _user(update.author),
                        "text": update.text,
                        "status": update.status,
                    }
                    for update in action.updates.all()
                ],
            }
            for action in actions
        ],
        "reviews": [
            {
                "id": review.pk,
                "response": review.response_id,
                "fairness": review.fairness,
                "nature": review.nature,
                "not_mentioned": review.not_mentioned,
                "notes": review.notes,
                "author": _user(review.author),
                "updated_at": _iso(review.updated_at),
            }
            for review in FeedbackReview.objects.filter(response__contact=contact)
            .select_related("author")
            .order_by("created_at", "pk")
        ],
        "candidacies": [
            {
                "id": candidacy.pk,
                "kind": candidacy.kind,
                "response": candidacy.response_id,
                "quote": candidacy.quote,
                "consent": candidacy.consent,
                "consent_note": candidacy.consent_note,
                "consent_recorded_at": _iso(candidacy.consent_recorded_at),
                "created_at": _iso(candidacy.created_at),
            }
            for candidacy in AdvocacyCandidate.objects.filter(contact=contact).order_by(
                "created_at", "pk"
            )
        ],
        "quotes": [
            {
                "id": quote.pk,
                "response": quote.answer.response_id,
                "side": quote.side,
                "original_text": quote.original_text,
                "text": quote.text,
                "credit": quote.credit,
                "status": quote.status,
                "requested_at": _iso(quote.requested_at),
                "decided_at": _iso(quote.decided_at),
            }
            for quote in Quote.objects.filter(contact=contact)
            .select_related("answer")
            .order_by("created_at", "pk")
        ],
        "summaries": [
            {
                "sent_on": _iso(email.mailing.sent_on),
                "statements": list(email.mailing.statements or []),
                "status": email.status,
                "sent_at": _iso(email.sent_at),
            }
            for email in SummaryEmail.objects.filter(contact=contact)
            .select_related("mailing")
            .order_by("created_at", "pk")
        ],
        "change_map": [
            {
                "wave": _wave(snapshot.wave),
                "category": snapshot.category,
                "previous_category": snapshot.previous_category,
                "reason": snapshot.reason,
                "last": snapshot.last,
                "prev": snapshot.prev,
                "delta": snapshot.delta,
            }
            for snapshot in ContactSnapshot.objects.filter(contact=contact)
            .select_related("wave")
            .order_by("wave__opens_on", "wave_id")
        ],
    }


def contact_subject_access_export(*, contact: Contact, actor: User, via: str, request=None) -> dict:
    """`contact_subject_access(contact=…)`, recorded in the audit log (EXPORTED) as handed to
    `actor` through `via` ("web" or "api"). The caller has checked that `actor` may see them.

    The audit entry names the person by id and account only: it outlives an erasure.
    """
    with transaction.atomic():
        data = contact_subject_access(contact=contact)
        audit_record(
            actor=actor,
            verb=AuditEvent.Verb.EXPORTED,
            target_type="contact",
            target_id=contact.pk,
            target=f"Contact #{contact.pk} ({contact.account.name})",
            detail={"what": "subject access", "format": "json", "via": via},
            request=request,
        )
    return data
