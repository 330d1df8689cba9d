"""/api/v1/questionnaires/, programmes/, waves/ (read) and responses/ (read; record)."""

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, Q
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response as ApiResponse

from accounts.models import Account
from core.api.filters import InstantFilter, UpdatedSinceFilterSet
from core.api.permissions import CanContribute
from core.api.routers import router
from core.api.viewsets import ReadCreateViewSet, ReadOnlyViewSet
from pulses.models import (
    PulseProgramme,
    Question,
    Questionnaire,
    QuestionnaireVersion,
    Response,
    Wave,
)
from pulses.selectors import programmes_visible_to, responses_with_answers, waves_visible_to
from pulses.serializers import (
    ProgrammeSerializer,
    QuestionnaireSerializer,
    ResponseRecordSerializer,
    ResponseSerializer,
    WaveSerializer,
)
from pulses.services.responses import response_record


class QuestionnaireFilter(UpdatedSinceFilterSet):
    updated_field = "created_at"  # new wording is a new version; see `versions`

    class Meta:
        model = Questionnaire
        fields = ["is_default"]


@extend_schema_view(
    list=extend_schema(summary="Questionnaires, with every version's questions"),
    retrieve=extend_schema(summary="One questionnaire"),
)
class QuestionnaireViewSet(ReadOnlyViewSet):
    """The supplier's questionnaire library: the same for everyone who may log in."""

    serializer_class = QuestionnaireSerializer
    filterset_class = QuestionnaireFilter
    ordering_fields = ["name", "created_at", "id"]

    def get_queryset(self):
        versions = QuestionnaireVersion.objects.order_by("number").prefetch_related(
            Prefetch("questions", queryset=Question.objects.order_by("position"))
        )
        return Questionnaire.objects.prefetch_related(
            Prefetch("versions", queryset=versions)
        ).order_by("name", "pk")


class ProgrammeFilter(UpdatedSinceFilterSet):
    updated_field = "created_at"

    class Meta:
        model = PulseProgramme
        fields = ["is_active", "cadence", "questionnaire"]


@extend_schema_view(
    list=extend_schema(summary="Pulse programmes that cover an account you may see"),
    retrieve=extend_schema(summary="One programme"),
)
class ProgrammeViewSet(ReadOnlyViewSet):
    serializer_class = ProgrammeSerializer
    filterset_class = ProgrammeFilter
    ordering_fields = ["name", "next_wave_on", "created_at", "id"]

    def get_queryset(self):
        return (
            programmes_visible_to(user=self.request.user)
            .select_related("segment", "territory")
            .prefetch_related("accounts", "roles")
            .order_by("name", "pk")
        )

    def get_serializer_context(self):
        context = super().get_serializer_context()
        user = self.request.user
        if user.is_authenticated and not user.sees_all_accounts:
            context["visible_account_ids"] = set(
                Account.objects.visible_to(user).values_list("pk", flat=True)
            )
        return context


class WaveFilter(django_filters.FilterSet):
    updated_since = InstantFilter(
        method="filter_updated_since", label="Waves created or closed at or after this moment."
    )

    class Meta:
        model = Wave
        fields = ["programme", "status"]

    def filter_updated_since(self, queryset, name, value):
        return queryset.filter(Q(created_at__gte=value) | Q(closed_at__gte=value))


@extend_schema_view(
    list=extend_schema(summary="Waves that reached the accounts you may see"),
    retrieve=extend_schema(summary="One wave"),
)
class WaveViewSet(ReadOnlyViewSet):
    serializer_class = WaveSerializer
    filterset_class = WaveFilter
    ordering_fields = ["opens_on", "created_at", "id"]

    def get_queryset(self):
        return (
            waves_visible_to(user=self.request.user)
            .select_related("questionnaire_version")
            .order_by("-opens_on", "pk")
        )


class ResponseFilter(UpdatedSinceFilterSet):
    account = django_filters.NumberFilter(field_name="contact__account_id")
    submitted_since = InstantFilter(field_name="submitted_at", lookup_expr="gte")

    class Meta:
        model = Response
        fields = ["wave", "contact", "source"]


RESPONSE_EXAMPLE = OpenApiExample(
    "A response",
    response_only=True,
    value={
        "id": 9001,
        "wave": 41,
        "contact": 301,
        "account": 12,
        "source": "survey",
        "recorded_by": None,
        "language": "en",
        "score": 8,
        "answers": {
            "relationship": 8,
            "account_manager": 4,
            "delivery": 5,
            "value": 3,
            "keep_doing": "Quick answers from the team.",
            "improve": "Invoices that match the purchase orders.",
        },
        "submitted_at": "2026-03-02T09:15:00Z",
        "updated_at": "2026-03-02T09:15:00Z",
    },
)
RECORD_EXAMPLE = OpenApiExample(
    "Answers from an interview",
    request_only=True,
    value={
        "wave": 41,
        "contact": 301,
        "source": "interview",
        "submitted_at": "2026-03-01T14:00:00Z",
        "answers": {"relationship": 7, "improve": "Fewer handovers between project managers."},
    },
)


@extend_schema_view(
    list=extend_schema(
        summary="Responses of the people you may see, newest first", examples=[RESPONSE_EXAMPLE]
    ),
    retrieve=extend_schema(summary="One response", examples=[RESPONSE_EXAMPLE]),
    create=extend_schema(
        summary="Record answers given in an interview, a call or a workshop",
        request=ResponseRecordSerializer,
        responses={
            201: OpenApiResponse(ResponseSerializer, description="Recorded."),
            200: OpenApiResponse(ResponseSerializer, description="Updated an earlier recording."),
        },
        examples=[RECORD_EXAMPLE, RESPONSE_EXAMPLE],
    ),
)
class ResponseViewSet(ReadCreateViewSet):
    serializer_class = ResponseSerializer
    permission_classes = [IsAuthenticated, CanContribute]
    filterset_class = ResponseFilter
    ordering_fields = ["submitted_at", "updated_at", "id"]

    def get_queryset(self):
        return responses_with_answers(Response.objects.visible_to(self.request.user)).order_by(
            "-submitted_at", "-pk"
        )

    def account_of(self, obj):
        return obj.account

    def create(self, request, *args, **kwargs):
        recording = ResponseRecordSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        recording.is_valid(raise_exception=True)
        data = recording.validated_data
        contact = data["contact"]
        self.check_object_permissions(request, contact)
        try:
            response = response_record(
                wave=data["wave"],
                contact=contact,
                recorded_by=request.user,
                source=data["source"],
                answers=data["answers"],
                submitted_at=data.get("submitted_at"),
            )
        except DjangoValidationError as error:
            raise _answer_errors(error, fields=recording.fields) from error
        body = ResponseSerializer(self.get_queryset().get(pk=response.pk)).data
        code = status.HTTP_200_OK if data["existing"] else status.HTTP_201_CREATED
        return ApiResponse(body, status=code)


def _answer_errors(error: DjangoValidationError, *, fields) -> ValidationError:
    """The service names questions by key: point those errors into `answers`."""
    if not hasattr(error, "error_dict"):
        return ValidationError({"answers": error.messages})
    detail, answers = {}, {}
    for key, messages in error.message_dict.items():
        (detail if key in fields else answers)[key] = messages
    if answers:
        detail["answers"] = answers
    return ValidationError(detail)


router.register("questionnaires", QuestionnaireViewSet, basename="questionnaire")
router.register("programmes", ProgrammeViewSet, basename="programme")
router.register("waves", WaveViewSet, basename="wave")
router.register("responses", ResponseViewSet, basename="response")
