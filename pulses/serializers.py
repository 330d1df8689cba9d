"""API representations of questionnaires, programmes, waves and responses."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contacts.serializers import VisibleContactField
from core.api.serializers import StrictFieldsMixin, UserRefSerializer
from pulses.models import (
    PulseProgramme,
    Question,
    Questionnaire,
    QuestionnaireVersion,
    Response,
    Wave,
)
from pulses.selectors import waves_visible_to
from pulses.services.responses import STAFF_SOURCES
from pulses.services.waves import waves_recordable_for

ANSWER_VALUE = {"oneOf": [{"type": "integer"}, {"type": "string"}]}
ANSWERS_SCHEMA = {
    "type": "object",
    "additionalProperties": ANSWER_VALUE,
    "description": "Question key → answer: a whole number (score 0–10, rating 1–5), the value "
    "of a single choice, or text.",
    "example": {"relationship": 8, "keep_doing": "Quick answers.", "improve": "Invoices."},
}


class QuestionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Question
        fields = ["key", "position", "kind", "purpose", "required", "prompt", "choices"]
        read_only_fields = fields


class QuestionnaireVersionSerializer(serializers.ModelSerializer):
    questions = QuestionSerializer(many=True, read_only=True)

    class Meta:
        model = QuestionnaireVersion
        fields = ["id", "number", "created_at", "frozen_at", "questions"]
        read_only_fields = fields


class QuestionnaireSerializer(serializers.ModelSerializer):
    """A balanced questionnaire with every version of its wording."""

    versions = QuestionnaireVersionSerializer(many=True, read_only=True)

    class Meta:
        model = Questionnaire
        fields = ["id", "name", "description", "is_default", "created_at", "versions"]
        read_only_fields = fields


class ProgrammeSerializer(serializers.ModelSerializer):
    """A pulse programme. `accounts` lists only the named accounts you may see."""

    accounts = serializers.SerializerMethodField()
    segment = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    territory = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    roles = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = PulseProgramme
        fields = [
            "id",
            "name",
            "questionnaire",
            "accounts",
            "segment",
            "territory",
            "roles",
            "cadence",
            "open_days",
            "reminder_days",
            "signer",
            "next_wave_on",
            "is_active",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_accounts(self, programme) -> list[int]:
        visible = self.context.get("visible_account_ids")
        ids = [account.pk for account in programme.accounts.all()]
        return sorted(ids if visible is None else set(ids) & visible)


class WaveSerializer(serializers.ModelSerializer):
    questionnaire = serializers.IntegerField(
        source="questionnaire_version.questionnaire_id", read_only=True
    )

    class Meta:
        model = Wave
        fields = [
            "id",
            "name",
            "programme",
            "questionnaire",
            "questionnaire_version",
            "opens_on",
            "closes_at",
            "status",
            "closed_at",
            "created_at",
        ]
        read_only_fields = fields


class ResponseSerializer(serializers.ModelSerializer):
    """A contact's answers in one wave, by link or recorded by staff."""

    account = serializers.IntegerField(source="contact.account_id", read_only=True)
    recorded_by = UserRefSerializer(read_only=True, allow_null=True)
    answers = serializers.SerializerMethodField()

    class Meta:
        model = Response
        fields = [
            "id",
            "wave",
            "contact",
            "account",
            "source",
            "recorded_by",
            "language",
            "score",
            "answers",
            "submitted_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ANSWERS_SCHEMA)
    def get_answers(self, response) -> dict:
        values = {}
        for answer in response.answers.all():
            kind = answer.question.kind
            if kind in Question.RANGES:
                values[answer.question.key] = answer.number
            elif kind == Question.Kind.SINGLE_CHOICE:
                values[answer.question.key] = answer.choice
            else:
                values[answer.question.key] = answer.text
        return values


class AnswersField(serializers.DictField):
    def __init__(self, **kwargs):
        super().__init__(child=serializers.JSONField(), **kwargs)


extend_schema_field(ANSWERS_SCHEMA)(AnswersField)


@extend_schema_field(OpenApiTypes.INT)
class VisibleWaveField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return waves_visible_to(user=self.context["request"].user)


class ResponseRecordSerializer(StrictFieldsMixin, serializers.Serializer):
    """What someone on our side heard in an interview, a call or a workshop.

    Recording again for the same person and wave updates their answers (one response per
    person and wave); answers they gave themselves by link are never overwritten.
    """

    wave = VisibleWaveField()
    contact = VisibleContactField()
    source = serializers.ChoiceField(
        choices=sorted(STAFF_SOURCES - {Response.Source.IMPORT}),
        help_text="How the answers were given.",
    )
    submitted_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When the conversation took place (now)."
    )
    answers = AnswersField(allow_empty=False)

    def validate_submitted_at(self, value):
        if value is not None and value > timezone.now():
            raise serializers.ValidationError("That moment is in the future.")
        return value

    def validate(self, attrs):
        wave, contact = attrs["wave"], attrs["contact"]
        if not waves_recordable_for(contact=contact).filter(pk=wave.pk).exists():
            raise serializers.ValidationError(
                {"wave": "Answers for this person cannot be recorded in this wave."}
            )
        existing = Response.objects.filter(wave=wave, contact=contact).first()
        if existing is not None and existing.source == Response.Source.SURVEY:
            raise serializers.ValidationError(
                {"wave": f"{contact.name} answered this pulse themselves; their own answers stand."}
            )
        attrs["existing"] = existing
        return attrs
