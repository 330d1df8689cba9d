"""Answers: by the contact's personal link, recorded by staff, unsubscribes and the mirror-back.

A contact has at most one response per wave (a database constraint). Whoever writes it —
the contact through the link, or someone on our side after an interview — writes through the
same upsert, so a double submit, a second tab or two concurrent requests still leave exactly
one response with one answer per question.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from actions.services.acknowledgements import acknowledgement_open_safely
from changemaps.services import changemaps_mark_dirty, changemaps_mark_dirty_before_commit
from contacts.models import Contact
from contacts.services import contact_update
from core.services.webhooks import on_commit_publish
from pulses.models import (
    MAX_ANSWER_LENGTH,
    Answer,
    Invitation,
    Question,
    Response,
    Unsubscribe,
    Wave,
)

UNSUBSCRIBE_REASON = "Unsubscribed from pulses by email link"
STAFF_SOURCES = frozenset(
    {
        Response.Source.INTERVIEW,
        Response.Source.CALL,
        Response.Source.WORKSHOP,
        Response.Source.IMPORT,
    }
)


class WaveClosed(Exception):  # noqa: N818 - reads as what happened: "raise WaveClosed"
    """The wave no longer takes answers by link: it was closed, or its closing time has passed."""


def response_submit(
    *, invitation: Invitation, answers: dict, language: str, wave_is_current: bool = False
) -> Response:
    """Save the contact's own answers from their personal link; again on every edit.

    Only while the wave is open (raises WaveClosed otherwise), as the wave is now: it is read
    again unless the caller loaded the invitation with its wave in this same request
    (`wave_is_current`, as the survey page does). Upserts by (wave, contact): the first submit
    creates the response, later ones (a second tab, a double click, coming back through the
    link) replace its answers. `submitted_at` stays the first submission's time; `updated_at`
    moves. Every required question must be answered and every answer must fit its question
    (raises ValidationError). Text is stored exactly as typed; pages escape it.
    """
    # Otherwise as it is now, not as the caller loaded it: it may have closed meanwhile.
    wave = invitation.wave if wave_is_current else Wave.objects.get(pk=invitation.wave_id)
    if not wave.is_open:
        raise WaveClosed(f"“{wave}” has closed.")
    if invitation.wave.questionnaire_version_id == wave.questionnaire_version_id:
        # The questions the caller's form was built from (a version a wave uses never changes).
        wave.questionnaire_version = invitation.wave.questionnaire_version
    validated = _validated_answers(wave=wave, answers=answers, require_all=True)
    response, _ = _response_upsert(
        wave=wave,
        contact=invitation.contact,
        invitation=invitation,
        source=Response.Source.SURVEY,
        recorded_by=None,
        language=language,
        answers=validated,
        submitted_at=None,
        known_new=_loaded_without_response(invitation),
    )
    _publish_submitted(response)
    return response


def response_record(
    *,
    wave: Wave,
    contact: Contact,
    recorded_by: User,
    source: str,
    answers: dict,
    submitted_at: datetime | None = None,
) -> Response:
    """Record a contact's answers given in an interview, a call or a workshop.

    The response is the contact's, with `recorded_by` noted; open and closed waves both take
    it. The (wave, contact) invitation is created as "skipped" (no link) when there is none,
    and one still waiting to be sent is marked skipped, so nobody is emailed a questionnaire
    they have already answered. Same upsert as `response_submit`: one response per contact and
    wave. `submitted_at` (when the conversation took place) defaults to now for a new
    response and is kept on an edit unless given. Checks every given answer against its
    question (ValidationError); which questions are required is the form's business, since an
    interview may leave one out. The caller decides who may record for whom (the account gate).
    """
    if source not in STAFF_SOURCES:
        raise ValidationError(
            {"source": "Choose how the answers were given: interview, call or workshop."}
        )
    if contact.account_id is None:
        raise ValidationError("Only people in an account can answer a pulse.")
    validated = _validated_answers(wave=wave, answers=answers, require_all=False)
    if not validated:
        raise ValidationError("A recorded response needs at least one answer.")
    invitation, _ = Invitation.objects.get_or_create(
        wave=wave,
        contact=contact,
        defaults={"status": Invitation.Status.SKIPPED, "signer": contact.owner},
    )
    Invitation.objects.filter(pk=invitation.pk, status=Invitation.Status.PENDING).update(
        status=Invitation.Status.SKIPPED
    )
    response, _ = _response_upsert(
        wave=wave,
        contact=contact,
        invitation=invitation,
        source=source,
        recorded_by=recorded_by,
        language=contact.preferred_language,
        answers=validated,
        submitted_at=submitted_at,
    )
    _publish_submitted(response)
    return response


def invitation_mark_opened(*, invitation: Invitation) -> None:
    """Note when the contact first opened their survey page (only the first time counts)."""
    if invitation.first_opened_at is None:
        now = timezone.now()
        Invitation.objects.filter(pk=invitation.pk, first_opened_at__isnull=True).update(
            first_opened_at=now
        )
        invitation.first_opened_at = now


@transaction.atomic
def contact_unsubscribe(*, invitation: Invitation, method: str) -> bool:
    """Opt the invited contact out of pulses, from the link in an email.

    Sets their pulse consent to opted out (with history: no actor, UNSUBSCRIBE_REASON) and
    keeps an Unsubscribe row as evidence of when and how (`method`: "link" or "one_click").
    Idempotent: returns False, writing nothing, when they are already opted out.
    """
    contact = Contact.objects.select_for_update().get(pk=invitation.contact_id)
    if contact.pulse_consent == Contact.Consent.OPTED_OUT:
        return False
    contact_update(
        contact=contact,
        fields={"pulse_consent": Contact.Consent.OPTED_OUT},
        actor=None,
        reason=UNSUBSCRIBE_REASON,
    )
    Unsubscribe.objects.create(contact=contact, invitation=invitation, method=method)
    invitation.contact = contact
    return True


def previous_feedback(*, contact: Contact, before: Wave) -> dict | None:
    """What the contact last asked us to improve, in a wave that opened before `before`.

    Returns {"wave_name", "opens_on", "quote"} from their latest earlier response that answered
    the improvement question, or None. Nothing else: whoever holds a forwarded link sees this one
    quote, never the rest of the person's answers.
    """
    answer = (
        Answer.objects.filter(
            response__contact=contact,
            response__wave__opens_on__lt=before.opens_on,
            question__purpose=Question.Purpose.IMPROVE,
        )
        .exclude(text="")
        .select_related("response__wave")
        .order_by("-response__wave__opens_on", "-response__submitted_at")
        .first()
    )
    if answer is None:
        return None
    wave = answer.response.wave
    return {"wave_name": wave.name, "opens_on": wave.opens_on, "quote": answer.text}


def response_saved_answers(*, response: Response | None) -> dict[str, object]:
    """A response's answers as key → int | str, the shape SurveyForm takes as initial answers."""
    if response is None:
        return {}
    return {
        answer.question.key: _answer_value(answer)
        for answer in response.answers.select_related("question")
    }


# --- Internals ----------------------------------------------------------------------------------


def _publish_submitted(response: Response) -> None:
    """`response.submitted` for webhooks, once committed, with the response as the API shows it."""

    def data():
        from pulses.selectors import response_data  # selectors reach the API serializers

        return response_data(response_id=response.pk)

    on_commit_publish("response.submitted", data)


def _loaded_without_response(invitation: Invitation) -> bool:
    """Loaded with its response (Invitation.from_token) and it had none: a first submit."""
    related = Invitation.response.related
    return related.is_cached(invitation) and related.get_cached_value(invitation) is None


def _validated_answers(*, wave: Wave, answers: dict, require_all: bool) -> dict[Question, object]:
    """Map answers (key → value) to the wave's questions, refusing anything that does not fit."""
    version = wave.questionnaire_version
    version.prefetch_questions()
    questions = {q.key: q for q in version.questions.all()}
    errors = {}
    validated = {}
    for key in answers:
        if key not in questions:
            errors[key] = "This pulse has no such question."
    for key, question in questions.items():
        value = answers.get(key)
        if value is None or value == "":
            if require_all and question.required:
                errors[key] = "Please answer this question."
            continue
        error = _answer_error(question, value)
        if error:
            errors[key] = error
        else:
            validated[question] = value
    if errors:
        raise ValidationError(errors)
    return validated


def _answer_error(question: Question, value) -> str | None:
    if question.kind in Question.RANGES:
        low, high = Question.RANGES[question.kind]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return f"Choose a whole number from {low} to {high}."
    elif question.kind == Question.Kind.SINGLE_CHOICE:
        if value not in {c["value"] for c in question.choices}:
            return "Choose one of the options."
    elif not isinstance(value, str):
        return "Answer in words."
    elif len(value) > MAX_ANSWER_LENGTH:
        return f"Keep this to {MAX_ANSWER_LENGTH:,} characters or fewer."
    return None


def _answer_value(answer: Answer) -> object:
    kind = answer.question.kind
    if kind in Question.RANGES:
        return answer.number
    if kind == Question.Kind.SINGLE_CHOICE:
        return answer.choice
    return answer.text


def _answer_fields(question: Question, value) -> dict:
    fields = {"number": None, "text": "", "choice": ""}
    if question.kind in Question.RANGES:
        fields["number"] = value
    elif question.kind == Question.Kind.SINGLE_CHOICE:
        fields["choice"] = value
    else:
        fields["text"] = value
    return fields


def _response_upsert(
    *,
    wave: Wave,
    contact: Contact,
    invitation: Invitation,
    source: str,
    recorded_by: User | None,
    language: str,
    answers: dict[Question, object],
    submitted_at: datetime | None,
    known_new: bool = False,
) -> tuple[Response, bool]:
    # Two concurrent first submits both find no response (or both were `known_new`); the
    # loser's INSERT hits the (wave, contact) constraint and is retried, looking up the
    # winner's row to update.
    for attempt in range(2):
        try:
            with transaction.atomic():
                response, created = _response_write(
                    wave=wave,
                    contact=contact,
                    invitation=invitation,
                    source=source,
                    recorded_by=recorded_by,
                    language=language,
                    answers=answers,
                    submitted_at=submitted_at,
                    known_new=known_new and not attempt,
                )
                # The owner's 48-hour acknowledgement and the receipt, committed with the answers.
                acknowledgement_open_safely(response=response)
                if source == Response.Source.SURVEY:
                    # A person's submit is one short transaction: counted in it, last thing.
                    changemaps_mark_dirty_before_commit()
                else:
                    # Staff may record inside a longer one (an import): counted after it.
                    changemaps_mark_dirty()
                return response, created
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def _response_write(
    *,
    wave: Wave,
    contact: Contact,
    invitation: Invitation,
    source: str,
    recorded_by: User | None,
    language: str,
    answers: dict[Question, object],
    submitted_at: datetime | None,
    known_new: bool,
) -> tuple[Response, bool]:
    # With its acknowledgement, if any (not locked: only the response is). A response the
    # caller knows is new is not looked up: if one appeared meanwhile, the INSERT says so.
    response = (
        None
        if known_new
        else Response.objects.select_for_update(of=("self",))
        .select_related("acknowledgement")
        .filter(wave=wave, contact=contact)
        .first()
    )
    created = response is None
    if created:
        response = Response(wave=wave, contact=contact, submitted_at=submitted_at or timezone.now())
        # A new response has no acknowledgement yet: nobody needs to look it up.
        Response.acknowledgement.related.set_cached_value(response, None)
    else:
        response.wave, response.contact = wave, contact  # the rows this request loaded
        if submitted_at is not None:
            response.submitted_at = submitted_at
    response.invitation = invitation
    response.source = source
    response.recorded_by = recorded_by
    response.language = language
    response.score = next(
        (v for q, v in answers.items() if q.kind == Question.Kind.RELATIONSHIP_SCORE), None
    )
    response.save()

    existing = {a.question_id: a for a in response.answers.all()} if not created else {}
    to_create, to_update = [], []
    for question, value in answers.items():
        fields = _answer_fields(question, value)
        answer = existing.pop(question.pk, None)
        if answer is None:
            to_create.append(Answer(response=response, question=question, **fields))
        elif any(getattr(answer, name) != v for name, v in fields.items()):
            for name, v in fields.items():
                setattr(answer, name, v)
            to_update.append(answer)
    Answer.objects.bulk_create(to_create)
    if to_update:
        Answer.objects.bulk_update(to_update, ["number", "text", "choice"])
    if existing:
        # Questions answered before and left blank now (optional ones) lose their old answer.
        Answer.objects.filter(pk__in=[a.pk for a in existing.values()]).delete()
    return response, created
