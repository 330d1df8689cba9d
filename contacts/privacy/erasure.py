"""Erasure: a contact anonymised everywhere their data was copied, once (see `contact_erase`)."""

import json
import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.admin.models import LogEntry
from django.db import transaction
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from accounts.models import AccountLogEntry, User
from actions.models import (
    Acknowledgement,
    AcknowledgementEmail,
    Action,
    ActionUpdate,
    AdvocacyCandidate,
    FeedbackReview,
    SummaryEmail,
)
from changemaps.models import ContactSnapshot, GroupSnapshot
from changemaps.services import changemaps_mark_dirty
from contacts.models import Contact, InternalRelationship
from contacts.privacy.words import (
    ERASED_TEXT,
    MIN_NEEDLE,
    PLACEHOLDERS,
    TextAnswers,
    erased_email,
    erased_name,
    quotes_withdraw,
    responses_strip_text,
    text_mentions,
)
from core.models import AuditEvent, WebhookDelivery
from core.services.audit import audit_record
from pulses.models import Answer, Invitation, Response
from reports.models import Quote, ReportJob

logger = logging.getLogger(__name__)


ERASED_REASON = "Personal data erased"
SCORES_ERASED_REASON = "Scores erased at the person's request"
NOT_SENT = "Not sent: their personal data was erased."
# Their own answers are looked for elsewhere (actions, log entries, webhook bodies) only when
# long enough to be theirs: "Nothing" or "Fine" would match other people's words.
MIN_QUOTED_ANSWER = 12
SENDING_STATES = ("pending", "sending")


@dataclass
class Erasure:
    """What `contact_erase` did: rows changed per kind. Nothing changed: `already_erased`."""

    contact_id: int
    erased_at: datetime | None
    keep_scores: bool
    changes: dict[str, int] = field(default_factory=dict)

    @property
    def already_erased(self) -> bool:
        return not self.changes


class Scrubber:
    """Replaces an erased person's identifiers and words inside any text or JSON value."""

    def __init__(self, replacements: dict[str, str]):
        kept = {n: v for n, v in replacements.items() if len(n.strip()) >= MIN_NEEDLE}
        self.replacements = {needle.casefold(): value for needle, value in kept.items()}
        # SQLite's LIKE folds ASCII case only: look for the words as written and lower-cased.
        self.needles = sorted(set(kept) | set(self.replacements))
        needles = sorted(self.replacements, key=len, reverse=True)
        self.pattern = (
            re.compile("|".join(re.escape(n) for n in needles), re.IGNORECASE) if needles else None
        )

    def text(self, value: str) -> str:
        if not value or self.pattern is None:
            return value
        return self.pattern.sub(lambda m: self.replacements[m.group(0).casefold()], value)

    def json(self, value):
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.json(item) for item in value]
        if isinstance(value, dict):
            return {key: self.json(item) for key, item in value.items()}
        return value


def _scrub_rows(queryset: QuerySet, fields: list[str], scrub: Callable[[str], str]) -> int:
    """Rewrite `fields` of each row through `scrub`; saves (UPDATE) only rows that changed."""
    changed = 0
    for row in queryset.only("pk", *fields):
        values = {name: scrub(getattr(row, name)) for name in fields}
        if any(values[name] != getattr(row, name) for name in fields):
            type(row).objects.filter(pk=row.pk).update(**values)
            changed += 1
    return changed


def _scores_erase(contact: Contact, responses: QuerySet[Response]) -> Counter:
    """Their scores, ratings and choices, everywhere they are copied (snapshots, call lists,
    urgency reasons). Pockets keep their counts and means: aggregates, not one person's."""
    changes = Counter()
    changes["scores"] += responses.exclude(score=None).update(score=None)
    answers = Answer.objects.filter(response__in=responses)
    changes["scores"] += answers.exclude(number=None).update(number=None)
    changes["scores"] += answers.exclude(choice="").update(choice="")
    changes["acknowledgements"] += (
        Acknowledgement.objects.filter(contact=contact)
        .exclude(urgent_reason="")
        .update(urgent_reason="")
    )
    snapshots = ContactSnapshot.objects.filter(contact=contact).filter(
        Q(last__isnull=False) | Q(prev__isnull=False) | Q(delta__isnull=False)
    )
    changes["snapshots"] += snapshots.update(
        last=None, prev=None, delta=None, reason=SCORES_ERASED_REASON
    )

    def without_them(rows: list) -> list:
        kept = []
        for row in rows or []:
            if isinstance(row, dict) and row.get("contact_id") == contact.pk:
                continue
            if isinstance(row, dict) and contact.pk in (row.get("contact_ids") or []):
                row = {**row, "contact_ids": [i for i in row["contact_ids"] if i != contact.pk]}
            kept.append(row)
        return kept

    for snapshot in _group_snapshots_of(contact):
        values = {
            name: without_them(getattr(snapshot, name))
            for name in ("call_list", "pockets", "supports")
        }
        if any(values[name] != getattr(snapshot, name) for name in values):
            GroupSnapshot.objects.filter(pk=snapshot.pk).update(**values)
            changes["snapshots"] += 1
    if changes["scores"] or changes["snapshots"]:
        changemaps_mark_dirty()  # the latest wave's maps are recomputed without them
    return changes


def _group_snapshots_of(contact: Contact) -> QuerySet[GroupSnapshot]:
    """Group snapshots that can list them: their account's, and every territory, segment and
    owner row (those sum accounts)."""
    return GroupSnapshot.objects.filter(
        Q(dimension=GroupSnapshot.Dimension.ACCOUNT, key=contact.account_id)
        | ~Q(dimension=GroupSnapshot.Dimension.ACCOUNT)
    ).only("pk", "label", "call_list", "pockets", "supports")


def _stop_sending(contact: Contact) -> Counter:
    """Their links stop working (answer like unknown links) and nothing more goes to them."""
    changes = Counter()
    invitations = Invitation.objects.filter(contact=contact)
    changes["invitations"] += invitations.filter(
        Q(token_hash__isnull=False) | ~Q(token_nonce="")
    ).update(token_hash=None, token_nonce="")
    changes["invitations"] += invitations.filter(status__in=SENDING_STATES).update(
        status=Invitation.Status.SKIPPED, last_error=NOT_SENT
    )
    changes["emails"] += AcknowledgementEmail.objects.filter(
        acknowledgement__contact=contact, status__in=SENDING_STATES
    ).update(status=AcknowledgementEmail.Status.SKIPPED, last_error=NOT_SENT)
    changes["emails"] += SummaryEmail.objects.filter(
        contact=contact, status__in=SENDING_STATES
    ).update(status=SummaryEmail.Status.SKIPPED, last_error=NOT_SENT)
    return changes


def _staff_texts_scrub(contact: Contact, scrubber: Scrubber) -> Counter:
    """What our people wrote that names or quotes them, in their account."""
    changes = Counter()
    account_id = contact.account_id

    def scrub(queryset: QuerySet, fields: list[str]) -> int:
        # The database finds the rows that mention them; Python rewrites just those.
        mentioning = queryset.filter(text_mentions(fields, scrubber.needles))
        return _scrub_rows(mentioning, fields, lambda value: scrubber.text(value or "") or value)

    changes["log_entries"] += scrub(
        AccountLogEntry.objects.filter(account_id=account_id), ["title", "body"]
    )
    changes["actions"] += scrub(
        Action.objects.filter(account_id=account_id), ["title", "description", "you_said_we_did"]
    )
    changes["actions"] += scrub(
        ActionUpdate.objects.filter(action__account_id=account_id), ["text"]
    )
    changes["reviews"] += scrub(
        FeedbackReview.objects.filter(account_id=account_id), ["not_mentioned", "notes"]
    )
    # Colleagues' notes ("reports to Greta since May"), in their rows and their history.
    colleagues = Contact.objects.filter(account_id=account_id).exclude(pk=contact.pk)
    changes["contacts"] += scrub(colleagues, ["notes"])
    changes["history"] += scrub(
        Contact.history.model.objects.filter(account_id=account_id).exclude(id=contact.pk),
        ["notes", "history_change_reason"],
    )
    # Delivery errors quote the address ("550 greta@…: no such user").
    for model in (Invitation, SummaryEmail):
        changes["emails"] += _scrub_rows(
            model.objects.filter(contact=contact), ["last_error"], scrubber.text
        )
    changes["emails"] += _scrub_rows(
        AcknowledgementEmail.objects.filter(acknowledgement__contact=contact),
        ["last_error"],
        scrubber.text,
    )
    changes["admin_log"] += _scrub_rows(
        LogEntry.objects.filter(text_mentions(["object_repr"], scrubber.needles)),
        ["object_repr"],
        scrubber.text,
    )
    return changes


def _relationships_erase(contact: Contact) -> Counter:
    changes = Counter()
    relationships = InternalRelationship.objects.filter(contact=contact)
    changes["relationships"] += relationships.exclude(notes="").update(notes="")
    changes["history"] += (
        InternalRelationship.history.model.objects.filter(contact_id=contact.pk)
        .exclude(notes="")
        .update(notes="")
    )
    return changes


def _webhook_candidates(contact: Contact, response_ids: list[int], needles: list[str]):
    about_them = (
        Q(payload__data__contact=contact.pk)
        | Q(payload__data__contact_id=contact.pk)
        | Q(payload__data__source_contact=contact.pk)
        | Q(event="contact.left", payload__data__id=contact.pk)
    )
    if response_ids:
        about_them |= Q(event="response.submitted", payload__data__id__in=response_ids)
    mentions = Q(pk__in=[])
    for needle in needles:
        # JSON text keeps non-ASCII as is (PostgreSQL) or escaped (SQLite): look for both.
        for form in {needle, json.dumps(needle)[1:-1]}:
            mentions |= Q(body__icontains=form)
    return (
        WebhookDelivery.objects.annotate(body=Cast("payload", TextField()))
        .filter(about_them | mentions)
        .only("pk", "event", "payload")
    )


def _webhook_payload_erase(
    payload: dict,
    *,
    contact: Contact,
    response_ids: set[int],
    keep_scores: bool,
    text_answers: TextAnswers,
) -> dict:
    """The delivery body with their data replaced: the event's own shape, their fields gone."""
    data = payload.get("data")
    if not isinstance(data, dict):
        return payload
    data = dict(data)
    event = payload.get("event")
    if event == "contact.left" and data.get("id") == contact.pk:
        data |= _erased_profile_fields(contact.pk)
        data["relationships"] = [
            {**r, "notes": ""} if isinstance(r, dict) else r for r in data.get("relationships", [])
        ]
    if event == "response.submitted" and data.get("id") in response_ids:
        data["answers"] = {
            key: _erased_answer(value, text_answers.is_text(key, data), keep_scores=keep_scores)
            for key, value in (data.get("answers") or {}).items()
        }
        if not keep_scores:
            data["score"] = None
    if data.get("contact") == contact.pk or data.get("contact_id") == contact.pk:
        for name in ("note", "reply_subject", "reply_body"):
            if data.get(name):
                data[name] = ERASED_TEXT
        if not keep_scores:
            if "urgent_reason" in data:
                data["urgent_reason"] = ""
            if event == "changemap.category_changed":
                data["reason"] = SCORES_ERASED_REASON
    return {**payload, "data": data}


def _erased_answer(value, is_text: bool, *, keep_scores: bool):
    if isinstance(value, str) and is_text:
        return ""
    if keep_scores:
        return value
    return "" if isinstance(value, str) else None


def _webhooks_erase(
    contact: Contact, scrubber: Scrubber, *, response_ids: list[int], keep_scores: bool
) -> int:
    changed = 0
    ids, text_answers = set(response_ids), TextAnswers()
    for delivery in _webhook_candidates(contact, response_ids, scrubber.needles):
        payload = _webhook_payload_erase(
            delivery.payload,
            contact=contact,
            response_ids=ids,
            keep_scores=keep_scores,
            text_answers=text_answers,
        )
        payload = scrubber.json(payload)
        if payload != delivery.payload:
            # A delivery still pending sends the erased body; a replay too.
            WebhookDelivery.objects.filter(pk=delivery.pk).update(payload=payload)
            changed += 1
    return changed


def _group_snapshot_texts_erase(contact: Contact, scrubber: Scrubber) -> int:
    # Snapshots list people by id today; any name that a list or label carries goes too.
    return _scrub_rows(
        _group_snapshots_of(contact),
        ["label", "call_list", "pockets", "supports"],
        lambda value: scrubber.json(value),
    )


def _reports_withdraw(contact: Contact) -> int:
    """Stored PDFs that may show their name or words: their account's and portfolio reports."""
    jobs = ReportJob.objects.filter(
        Q(account_id=contact.account_id) | Q(kind=ReportJob.Kind.PORTFOLIO)
    ).exclude(file="")
    if contact.erased_at:  # reports made since the erasure never held their data
        jobs = jobs.filter(created_at__lt=contact.erased_at)
    withdrawn = 0
    for job in jobs:
        try:
            job.file.delete(save=False)
        except OSError:  # already gone from disk: the row must still stop pointing at it
            logger.warning("Report %s: its file could not be deleted", job.pk)
        ReportJob.objects.filter(pk=job.pk).update(
            file="",
            status=ReportJob.Status.FAILED,
            error="Withdrawn: it held personal data that has since been erased. Generate it again.",
        )
        withdrawn += 1
    return withdrawn


def _erased_profile_fields(contact_id: int) -> dict:
    blank = dict.fromkeys(Contact.PERSONAL_FIELDS, "")
    return blank | {"name": erased_name(contact_id), "email": erased_email(contact_id)}


def _profile_erase(contact: Contact, *, actor: User | None, now: datetime) -> Counter:
    """The profile (one history entry, "Personal data erased") and every historical row of it."""
    changes = Counter()
    fields = _erased_profile_fields(contact.pk) | {
        "pulse_consent": Contact.Consent.OPTED_OUT,
    }
    if any(getattr(contact, name) != value for name, value in fields.items()):
        if contact.pulse_consent != Contact.Consent.OPTED_OUT:
            contact.pulse_consent_at = now
        for name, value in fields.items():
            setattr(contact, name, value)
        contact.erased_at = contact.erased_at or now
        contact._history_user = actor
        contact._change_reason = ERASED_REASON
        contact.save()
        changes["contact"] += 1
    history = Contact.history.model.objects.filter(id=contact.pk)
    stale = Q()
    for name, value in _erased_profile_fields(contact.pk).items():
        stale |= ~Q(**{name: value})
    changes["history"] += history.filter(stale).update(**_erased_profile_fields(contact.pk))
    # Reasons were typed by our people ("moved to a competitor"); only ours stays.
    changes["history"] += (
        history.exclude(history_change_reason__isnull=True)
        .exclude(history_change_reason__in=["", ERASED_REASON])
        .update(history_change_reason="")
    )
    return changes


def _scrubber_for(contact: Contact) -> Scrubber:
    replacements = {
        contact.name: erased_name(contact.pk),
        contact.email: erased_email(contact.pk),
    }
    if len(contact.phone.strip()) >= 6:
        replacements[contact.phone] = ERASED_TEXT
    # Earlier names and addresses are in the history rows (until this erasure rewrites them).
    for name, email in Contact.history.model.objects.filter(id=contact.pk).values_list(
        "name", "email"
    ):
        replacements.setdefault(name, erased_name(contact.pk))
        replacements.setdefault(email, erased_email(contact.pk))
    texts = Answer.objects.filter(response__contact=contact).values_list("text", flat=True)
    for text in texts:
        if len(text.strip()) >= MIN_QUOTED_ANSWER:
            replacements.setdefault(text.strip(), ERASED_TEXT)
    for quote in Quote.objects.filter(contact=contact).values_list("text", "original_text"):
        for text in quote:
            if len(text.strip()) >= MIN_QUOTED_ANSWER and text not in PLACEHOLDERS:
                replacements.setdefault(text.strip(), ERASED_TEXT)
    replacements.pop(erased_name(contact.pk), None)
    replacements.pop(erased_email(contact.pk), None)
    return Scrubber(replacements)


def contact_erase(
    *, contact: Contact, actor: User | None, keep_scores: bool, request=None
) -> Erasure:
    """Anonymise `contact` everywhere, in one transaction, and audit it (ERASED) once.

    - Profile: name "Erased person #<id>", address `erased-<id>@erased.invalid`, phone, job
      title, location, time zone and notes cleared, opted out of pulses, `erased_at` set; the
      same in every historical row, whose change reasons are cleared too. Account, department,
      seniority, roles, influence, owner and reports-to stay: the account's structure.
    - Their words: answer texts cleared; acknowledgement notes and replies, quote texts (quotes
      withdrawn, approval links revoked) and candidacy quotes replaced by "[erased]";
      candidacies deleted; relationship notes cleared (and their history).
    - Their name, address and own words wherever our people or the system copied them: the
      account log, actions and their updates, feedback reviews, colleagues' notes (and history),
      delivery errors, admin log entries, webhook delivery bodies (pending ones send the erased
      body), group-snapshot lists. Stored report PDFs of their account and portfolio reports are
      deleted (the job says to generate it again).
    - Links and queued work: every invitation's token is cleared (their survey and unsubscribe
      links answer like unknown links), invitations and acknowledgement/summary emails still
      waiting are marked not sent; opting out stops reminders and future waves.
    - `keep_scores=False`: their scores, ratings and choices go too (responses stay, without
      them, so participation still counts), their snapshots lose last/prev/delta, call lists
      and pockets lose them, and the change maps are marked for recomputing.

    Idempotent: a second run (with the same choice) changes nothing and records nothing; the
    returned Erasure then has no changes. The caller checks that `actor` may erase.
    """
    now = timezone.now()
    with transaction.atomic():
        contact = Contact.objects.select_for_update().select_related("account").get(pk=contact.pk)
        scrubber = _scrubber_for(contact)
        responses = Response.objects.filter(contact=contact)
        response_ids = list(responses.values_list("pk", flat=True))
        changes = Counter()
        changes += responses_strip_text(responses, placeholder=ERASED_TEXT)
        changes += Counter(
            {
                "quotes": quotes_withdraw(
                    Quote.objects.filter(contact=contact), placeholder=ERASED_TEXT
                )
            }
        )
        deleted, _ = AdvocacyCandidate.objects.filter(contact=contact).delete()
        changes["candidacies"] += deleted
        if not keep_scores:
            changes += _scores_erase(contact, responses)
        changes += _stop_sending(contact)
        changes += _relationships_erase(contact)
        changes += _staff_texts_scrub(contact, scrubber)
        changes["webhook_deliveries"] += _webhooks_erase(
            contact, scrubber, response_ids=response_ids, keep_scores=keep_scores
        )
        changes["snapshots"] += _group_snapshot_texts_erase(contact, scrubber)
        changes["reports"] += _reports_withdraw(contact)
        changes += _profile_erase(contact, actor=actor, now=now)
        changes = {name: count for name, count in sorted(changes.items()) if count}
        if changes:
            audit_record(
                actor=actor,
                verb=AuditEvent.Verb.ERASED,
                target_type="contact",
                target_id=contact.pk,
                target=f"{erased_name(contact.pk)} ({contact.account.name})",
                detail={"keep_scores": keep_scores, "changes": changes},
                request=request,
            )
    return Erasure(
        contact_id=contact.pk, erased_at=contact.erased_at, keep_scores=keep_scores, changes=changes
    )


def contact_erasure_scope(*, contact: Contact) -> dict[str, int]:
    """What an erasure would touch, counted, for the confirmation page."""
    responses = Response.objects.filter(contact=contact)
    return {
        "responses": responses.count(),
        "answers_with_text": Answer.objects.filter(response__in=responses).exclude(text="").count(),
        "acknowledgements": Acknowledgement.objects.filter(contact=contact).count(),
        "quotes": Quote.objects.filter(contact=contact).count(),
        "invitations": Invitation.objects.filter(contact=contact).count(),
        "history": contact.history.count(),
    }
