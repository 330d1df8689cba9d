"""/api/v1/acknowledgements/ (read) and /api/v1/actions/: closing the loop, for the accounts
you may see."""

import django_filters
from django.db.models import Prefetch, Q
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.permissions import IsAuthenticated

from accounts.models import Account
from actions.models import Acknowledgement, Action, ActionUpdate
from actions.serializers import SET_ON_CREATION, AcknowledgementSerializer, ActionSerializer
from actions.services import actions as services
from core.api.filters import UpdatedSinceFilterSet
from core.api.permissions import CanContribute
from core.api.routers import router
from core.api.viewsets import ReadCreateUpdateViewSet, ReadOnlyViewSet


class AcknowledgementFilter(UpdatedSinceFilterSet):
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label="Still open after its due time."
    )
    owner = django_filters.NumberFilter(field_name="owner_id", label="Owner's user id.")

    class Meta:
        model = Acknowledgement
        fields = ["status", "urgent", "account", "contact"]

    def filter_updated_since(self, queryset, name, value):
        # Created, or acknowledged since: an acknowledgement changes only when it is done.
        return queryset.filter(Q(created_at__gte=value) | Q(acknowledged_at__gte=value))

    def filter_overdue(self, queryset, name, value):
        overdue = Q(status=Acknowledgement.Status.PENDING, due_at__lte=timezone.now())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


ACKNOWLEDGEMENT_EXAMPLE = OpenApiExample(
    "An acknowledgement",
    response_only=True,
    value={
        "id": 88,
        "response": 5120,
        "account": 12,
        "contact": 301,
        "owner": {"id": 3, "full_name": "Maya Patel", "email": "maya@example.com"},
        "received_at": "2026-02-02T09:15:00Z",
        "due_at": "2026-02-04T09:15:00Z",
        "overdue": False,
        "urgent": True,
        "urgent_reason": "score 5",
        "status": "in_person",
        "method": "call",
        "acknowledged_at": "2026-02-03T11:00:00Z",
        "acknowledged_by": {"id": 3, "full_name": "Maya Patel", "email": "maya@example.com"},
        "note": "Called Greta; we agreed to review the invoicing together.",
        "created_at": "2026-02-02T09:15:00Z",
    },
)


@extend_schema_view(
    list=extend_schema(
        summary="Acknowledgements owed for responses of the accounts you may see",
        examples=[ACKNOWLEDGEMENT_EXAMPLE],
    ),
    retrieve=extend_schema(summary="One acknowledgement", examples=[ACKNOWLEDGEMENT_EXAMPLE]),
)
class AcknowledgementViewSet(ReadOnlyViewSet):
    """Acknowledgements are made in the app (a reply by email, a note of a call); read here."""

    serializer_class = AcknowledgementSerializer
    permission_classes = [IsAuthenticated]
    filterset_class = AcknowledgementFilter
    ordering_fields = ["due_at", "received_at", "created_at", "id"]

    def get_queryset(self):
        return (
            # Through the response's person: their account decides who sees it.
            Acknowledgement.objects.filter(
                response__contact__account__in=Account.objects.visible_to(self.request.user)
            )
            .select_related("owner", "acknowledged_by")
            .order_by("-urgent", "due_at", "pk")
        )


class ActionFilter(UpdatedSinceFilterSet):
    owner = django_filters.NumberFilter(field_name="owner_id", label="Owner's user id.")

    class Meta:
        model = Action
        fields = ["account", "status", "priority", "is_focus", "source_contact"]


ACTION_EXAMPLE = OpenApiExample(
    "An action",
    response_only=True,
    value={
        "id": 41,
        "account": 12,
        "title": "Invoices that match the POs",
        "description": "Greta's team spends a day a month reconciling our invoices.",
        "owner": {"id": 3, "full_name": "Maya Patel", "email": "maya@example.com"},
        "due_on": "2026-03-31",
        "status": "done",
        "priority": 1,
        "is_focus": True,
        "cycle_start": "2026-02-01",
        "you_said_we_did": "You said invoices were hard to match; they now carry your PO number.",
        "done_at": "2026-03-20T16:00:00Z",
        "source_response": 5120,
        "source_contact": 301,
        "source_wave": 7,
        "created_by": {"id": 3, "full_name": "Maya Patel", "email": "maya@example.com"},
        "created_at": "2026-02-03T11:05:00Z",
        "updated_at": "2026-03-20T16:00:00Z",
        "updates": [
            {
                "at": "2026-03-20T16:00:00Z",
                "author": {"id": 3, "full_name": "Maya Patel", "email": "maya@example.com"},
                "text": "Status: In progress → Done",
                "status": "done",
            }
        ],
    },
)
ACTION_CREATE_EXAMPLE = OpenApiExample(
    "A new focus action",
    request_only=True,
    value={
        "account": 12,
        "title": "Invoices that match the POs",
        "owner_id": 3,
        "due_on": "2026-03-31",
        "priority": 1,
        "is_focus": True,
        "source_response": 5120,
    },
)


@extend_schema_view(
    list=extend_schema(summary="Actions of the accounts you may see", examples=[ACTION_EXAMPLE]),
    retrieve=extend_schema(summary="One action, with its log", examples=[ACTION_EXAMPLE]),
    create=extend_schema(
        summary="Add an action (owner, team, administrators; one focus per account and cycle)",
        examples=[ACTION_CREATE_EXAMPLE, ACTION_EXAMPLE],
    ),
    partial_update=extend_schema(
        summary="Change an action (logged; moving to `done` publishes `action.completed`)",
        examples=[ACTION_EXAMPLE],
    ),
    destroy=extend_schema(summary="Delete an action and its log"),
)
class ActionViewSet(mixins.DestroyModelMixin, ReadCreateUpdateViewSet):
    serializer_class = ActionSerializer
    permission_classes = [IsAuthenticated, CanContribute]
    filterset_class = ActionFilter
    ordering_fields = ["due_on", "priority", "updated_at", "created_at", "id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return (
            Action.objects.visible_to(self.request.user)
            .select_related("account", "owner", "created_by")
            .prefetch_related(
                Prefetch("updates", queryset=ActionUpdate.objects.select_related("author"))
            )
            .order_by("-is_focus", "priority", "due_on", "pk")
        )

    def account_of(self, obj):
        return obj.account if isinstance(obj, Action) else obj

    def perform_create(self, serializer):
        fields = dict(serializer.validated_data)
        account = fields.pop("account")
        self.check_object_permissions(self.request, account)
        action = services.action_create(account=account, by=self.request.user, fields=fields)
        serializer.instance = self.get_queryset().get(pk=action.pk)

    def perform_update(self, serializer):
        fields = {
            name: value
            for name, value in serializer.validated_data.items()
            if name not in SET_ON_CREATION
        }
        services.action_update(action=serializer.instance, by=self.request.user, fields=fields)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_destroy(self, instance):
        services.action_delete(action=instance)


router.register("acknowledgements", AcknowledgementViewSet, basename="acknowledgement")
router.register("actions", ActionViewSet, basename="action")
