"""Referral and case-study candidates: a person's positive words, and their consent."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from actions.models import AdvocacyCandidate
from pulses.models import Response


def candidate_mark(*, response: Response, kind: str, quote: str, by: User) -> AdvocacyCandidate:
    """Mark a quote from `response` as a referral or case-study candidate (consent not asked).

    One candidacy per response and kind: marking it again raises ValidationError. The quote
    must not be empty; it may be shortened from what they wrote, never made up.
    """
    if kind not in AdvocacyCandidate.Kind.values:
        raise ValidationError({"kind": "Choose referral or case study."})
    if not quote.strip():
        raise ValidationError({"quote": "Quote their words."})
    try:
        with transaction.atomic():
            return AdvocacyCandidate.objects.create(
                account_id=response.contact.account_id,
                contact=response.contact,
                response=response,
                kind=kind,
                quote=quote.strip(),
                created_by=by,
            )
    except IntegrityError as error:
        label = AdvocacyCandidate.Kind(kind).label.lower()
        raise ValidationError(f"This feedback is already a {label} candidate.") from error


def candidate_record_consent(
    *, candidate: AdvocacyCandidate, consent: str, note: str, by: User
) -> AdvocacyCandidate:
    """Record whether the person agreed to be a reference or a case study, and how we know."""
    if consent not in AdvocacyCandidate.Consent.values:
        raise ValidationError({"consent": "Choose what they said."})
    if consent != AdvocacyCandidate.Consent.NOT_ASKED and not note.strip():
        raise ValidationError({"consent_note": "Say how they told you (by email, in a call…)."})
    candidate.record_consent(consent=consent, note=note.strip(), by=by)
    candidate.save(
        update_fields=["consent", "consent_note", "consent_recorded_at", "consent_recorded_by"]
    )
    return candidate
