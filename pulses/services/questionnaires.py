"""Balanced questionnaires: every pulse asks what goes well as well as what to improve."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from pulses.models import Question, Questionnaire, QuestionnaireVersion

DEFAULT_QUESTIONNAIRE_NAME = "Relationship pulse"

# The shipped questionnaire: short (two minutes), balanced, in the contact's language.
DEFAULT_QUESTIONS = [
    {
        "key": "relationship",
        "kind": Question.Kind.RELATIONSHIP_SCORE,
        "prompt": {
            "en": "Overall, how would you rate your relationship with us? (0 = very poor, 10 = excellent)",
            "de": "Wie bewerten Sie insgesamt Ihre Beziehung zu uns? (0 = sehr schlecht, 10 = ausgezeichnet)",
            "fr": "Dans l’ensemble, comment évaluez-vous votre relation avec nous ? (0 = très mauvaise, 10 = excellente)",
        },
    },
    {
        "key": "account_manager",
        "kind": Question.Kind.RATING,
        "prompt": {
            "en": "How satisfied are you with your account manager?",
            "de": "Wie zufrieden sind Sie mit Ihrem Account Manager?",
            "fr": "Êtes-vous satisfait(e) de votre responsable de compte ?",
        },
    },
    {
        "key": "delivery",
        "kind": Question.Kind.RATING,
        "prompt": {
            "en": "How satisfied are you with what we deliver?",
            "de": "Wie zufrieden sind Sie mit unseren Leistungen?",
            "fr": "Êtes-vous satisfait(e) de ce que nous livrons ?",
        },
    },
    {
        "key": "value",
        "kind": Question.Kind.RATING,
        "prompt": {
            "en": "How well do we deliver value for money?",
            "de": "Wie gut ist unser Preis-Leistungs-Verhältnis?",
            "fr": "Notre rapport qualité-prix vous satisfait-il ?",
        },
    },
    {
        "key": "keep_doing",
        "kind": Question.Kind.OPEN_TEXT,
        "purpose": Question.Purpose.KEEP_DOING,
        "prompt": {
            "en": "What should we keep doing?",
            "de": "Was sollten wir unbedingt beibehalten?",
            "fr": "Que devrions-nous continuer à faire ?",
        },
    },
    {
        "key": "improve",
        "kind": Question.Kind.OPEN_TEXT,
        "purpose": Question.Purpose.IMPROVE,
        "prompt": {
            "en": "What one thing should we change?",
            "de": "Was ist das Eine, das wir ändern sollten?",
            "fr": "Quelle est la chose que nous devrions changer ?",
        },
    },
    {
        "key": "anything_else",
        "kind": Question.Kind.OPEN_TEXT,
        "required": False,
        "prompt": {
            "en": "Anything else you would like to tell us?",
            "de": "Möchten Sie uns sonst noch etwas mitteilen?",
            "fr": "Souhaitez-vous nous dire autre chose ?",
        },
    },
]


@transaction.atomic
def questionnaire_save_version(
    *, questionnaire: Questionnaire, questions: list[dict]
) -> QuestionnaireVersion:
    """Save new wording as the questionnaire's next version, or replace an unfrozen draft.

    Sent versions are never edited in place: once frozen, a change makes a new version, so
    answers keep the wording their respondent saw. Raises ValidationError when the questions
    are not a balanced pulse (exactly one 0–10 score, a keep-doing and an improve question).
    """
    current = questionnaire.current_version
    if current is not None and not current.is_frozen:
        current.questions.all().delete()
        version = current
    else:
        version = QuestionnaireVersion.objects.create(
            questionnaire=questionnaire, number=(current.number + 1) if current else 1
        )
    built = [
        Question(
            version=version,
            position=position,
            key=spec["key"],
            kind=spec["kind"],
            purpose=spec.get("purpose", Question.Purpose.OTHER),
            required=spec.get("required", True),
            prompt=spec["prompt"],
            choices=spec.get("choices", []),
        )
        for position, spec in enumerate(questions, start=1)
    ]
    errors = version.balance_errors(built)
    for question in built:
        try:
            question.full_clean(exclude=["version"])
        except ValidationError as error:
            errors.extend(f"{question.key}: {m}" for m in error.messages)
    if errors:
        raise ValidationError(errors)
    Question.objects.bulk_create(built)
    return version


def questionnaire_version_for_sending(*, questionnaire: Questionnaire) -> QuestionnaireVersion:
    """The version a new wave uses; freezing it so its wording can never change again."""
    version = questionnaire.current_version
    if version is None:
        raise ValidationError(f"“{questionnaire}” has no questions yet.")
    if not version.is_frozen:
        QuestionnaireVersion.objects.filter(pk=version.pk, frozen_at__isnull=True).update(
            frozen_at=timezone.now()
        )
        version.refresh_from_db(fields=["frozen_at"])
    return version


def questionnaire_ensure_default() -> Questionnaire:
    """The shipped balanced questionnaire (idempotent)."""
    questionnaire, created = Questionnaire.objects.get_or_create(
        name=DEFAULT_QUESTIONNAIRE_NAME,
        defaults={
            "is_default": True,
            "description": "Two minutes: one score, three ratings, what goes well and what to change.",
        },
    )
    if created or questionnaire.current_version is None:
        questionnaire_save_version(questionnaire=questionnaire, questions=DEFAULT_QUESTIONS)
    return questionnaire
