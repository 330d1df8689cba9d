"""/api/v1/contacts/ and /api/v1/influence-links/: the people of the accounts you may see."""

import django_filters
from django.db.models import Q
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from contacts import privacy, services
from contacts.models import Contact, InfluenceLink
from contacts.serializers import ContactSerializer, InfluenceLinkSerializer
from core.api.filters import UpdatedSinceFilterSet
from core.api.permissions import CanContribute
from core.api.routers import router
from core.api.serializers import StrictFieldsMixin
from core.api.viewsets import ReadCreateUpdateViewSet, ReadCreateViewSet


class ContactFilter(UpdatedSinceFilterSet):
    q = django_filters.CharFilter(method="search", label="Name, email or job title contains.")
    role = django_filters.CharFilter(field_name="buying_roles__code", label="Buying role code.")
    owner = django_filters.NumberFilter(field_name="owner_id", label="Owner's user id.")
    department = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Contact
        fields = ["account", "status", "reports_to", "pulse_consent"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(name__icontains=value) | Q(email__icontains=value) | Q(job_title__icontains=value)
        )

    @property
    def qs(self):
        # A role filter joins the roles table: one row per person all the same.
        return super().qs.distinct()


CONTACT_EXAMPLE = OpenApiExample(
    "A contact",
    response_only=True,
    value={
        "id": 301,
        "account": 12,
        "name": "Greta Lindqvist",
        "email": "greta.lindqvist@northwind.example",
        "phone": "+46 8 555 0101",
        "job_title": "Chief Operating Officer",
        "department": "Operations",
        "seniority": "c_level",
        "location": "Stockholm",
        "time_zone": "Europe/Stockholm",
        "preferred_language": "sv",
        "roles": ["decision_maker", "budget_holder"],
        "budget_amount": "2500000.00",
        "budget_currency": "EUR",
        "influence": 5,
        "status": "active",
        "left_on": None,
        "reports_to": None,
        "owner": {"id": 3, "full_name": "Maya Patel", "email": "maya@example.com"},
        "preferred_channel": "in_person",
        "contact_frequency": "monthly",
        "pulse_consent": "opted_in",
        "pulse_consent_at": "2025-06-01T08:00:00Z",
        "notes": "",
        "relationships": [
            {
                "user": {"id": 5, "full_name": "Tom Berg", "email": "tom@example.com"},
                "strength": 4,
                "notes": "",
            }
        ],
        "links_out": [
            {
                "id": 77,
                "source": 301,
                "target": 305,
                "kind": "influences",
                "strength": 4,
                "created_at": "2025-07-01T10:00:00Z",
            }
        ],
        "links_in": [],
        "created_at": "2025-06-01T08:00:00Z",
        "updated_at": "2026-02-03T14:12:00Z",
    },
)
CONTACT_CREATE_EXAMPLE = OpenApiExample(
    "A new contact",
    request_only=True,
    value={
        "account": 12,
        "name": "Jonas Weber",
        "email": "jonas.weber@northwind.example",
        "job_title": "Head of Procurement",
        "roles": ["budget_holder"],
        "influence": 4,
        "reports_to": 301,
        "owner_id": 3,
    },
)


class EraseSerializer(StrictFieldsMixin, serializers.Serializer):
    keep_scores = serializers.BooleanField(
        help_text="true: their scores stay, anonymous, for trends and aggregates; false: their "
        "scores, ratings and choices are deleted too and the change maps recomputed."
    )


class ErasureSerializer(serializers.Serializer):
    contact = serializers.IntegerField(source="contact_id", help_text="The person's id (kept).")
    erased_at = serializers.DateTimeField(help_text="When their data was first erased.")
    keep_scores = serializers.BooleanField()
    already_erased = serializers.BooleanField(
        help_text="true when nothing was left to erase (a repeated request): nothing changed "
        "and nothing was added to the audit log."
    )
    changes = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Rows changed per kind (answers, history, webhook_deliveries, …).",
    )


@extend_schema_view(
    list=extend_schema(summary="People of the accounts you may see", examples=[CONTACT_EXAMPLE]),
    retrieve=extend_schema(summary="One person", examples=[CONTACT_EXAMPLE]),
    create=extend_schema(
        summary="Add a person to an account (its owner, team, administrators)",
        examples=[CONTACT_CREATE_EXAMPLE, CONTACT_EXAMPLE],
    ),
    partial_update=extend_schema(
        summary="Change a person (status `left` marks them as having left: `contact.left`)",
        examples=[CONTACT_EXAMPLE],
    ),
)
class ContactViewSet(ReadCreateUpdateViewSet):
    """People are never deleted: someone who leaves is marked `status: left`."""

    serializer_class = ContactSerializer
    permission_classes = [IsAuthenticated, CanContribute]
    filterset_class = ContactFilter
    ordering_fields = ["name", "updated_at", "created_at", "id"]

    def get_queryset(self):
        return (
            Contact.objects.visible_to(self.request.user)
            .select_related("owner", "account")
            .prefetch_related("buying_roles", "relationships__user", "links_out", "links_in")
            .order_by("name", "pk")
        )

    def account_of(self, obj):
        return obj if not isinstance(obj, Contact) else obj.account

    def perform_create(self, serializer):
        fields = dict(serializer.validated_data)
        account = fields.pop("account")
        self.check_object_permissions(self.request, account)
        roles = fields.pop("buying_roles", ())
        contact = services.contact_create(
            account=account, fields=fields, roles=roles, actor=self.request.user
        )
        serializer.instance = self.get_queryset().get(pk=contact.pk)

    def perform_update(self, serializer):
        fields = dict(serializer.validated_data)
        fields.pop("account", None)
        roles = fields.pop("buying_roles", None)
        services.contact_update(
            contact=serializer.instance, fields=fields, roles=roles, actor=self.request.user
        )
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    @extend_schema(
        summary="Everything held on one person (subject access), as JSON; audited",
        description="Their profile and its history, relationships, links, log entries that "
        "mention them, invitations, responses in their own words, acknowledgements, actions, "
        "reviews, candidacies, quotes, summaries and change-map snapshots. Anyone who may see "
        "the person may export it; each export is recorded in the audit log.",
        filters=False,
        responses={200: OpenApiResponse(response=privacy.SUBJECT_ACCESS_SCHEMA)},
    )
    @action(detail=True, methods=["get"], url_path="subject-access")
    def subject_access(self, request, pk=None):
        contact = self.get_object()
        data = privacy.contact_subject_access_export(
            contact=contact, actor=request.user, via="api", request=request
        )
        return Response(data)

    @extend_schema(
        summary="Erase a person's personal data (administrators)",
        description="Anonymises the person everywhere (see docs/privacy.md); their links stop "
        "working and nothing more is sent to them. Repeating it changes nothing "
        "(`already_erased`). Others who may see the person get 403.",
        filters=False,
        request=EraseSerializer,
        responses={200: ErasureSerializer},
    )
    # Administrators only (checked below, after visibility): not the account team's write rule.
    @action(detail=True, methods=["post"], url_path="erase", permission_classes=[IsAuthenticated])
    def erase(self, request, pk=None):
        contact = self.get_object()
        if not request.user.is_administrator:
            raise PermissionDenied("Only administrators erase personal data.")
        body = EraseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        erasure = privacy.contact_erase(
            contact=contact,
            actor=request.user,
            keep_scores=body.validated_data["keep_scores"],
            request=request,
        )
        return Response(ErasureSerializer(erasure).data)


class InfluenceLinkFilter(UpdatedSinceFilterSet):
    updated_field = "created_at"  # links are created and deleted, never edited
    contact = django_filters.NumberFilter(method="involving", label="Links from or to this person.")
    account = django_filters.NumberFilter(field_name="source__account_id")

    class Meta:
        model = InfluenceLink
        fields = ["kind", "source", "target"]

    def involving(self, queryset, name, value):
        return queryset.filter(Q(source_id=value) | Q(target_id=value))


@extend_schema_view(
    list=extend_schema(summary="Influence links between people you may see"),
    retrieve=extend_schema(summary="One influence link"),
    create=extend_schema(summary="Link two people of the same account"),
    destroy=extend_schema(summary="Remove a link"),
)
class InfluenceLinkViewSet(mixins.DestroyModelMixin, ReadCreateViewSet):
    serializer_class = InfluenceLinkSerializer
    permission_classes = [IsAuthenticated, CanContribute]
    filterset_class = InfluenceLinkFilter
    ordering_fields = ["created_at", "id"]
    http_method_names = ["get", "post", "delete", "head", "options"]

    def get_queryset(self):
        return (
            InfluenceLink.objects.filter(source__in=Contact.objects.visible_to(self.request.user))
            .select_related("source__account")
            .order_by("pk")
        )

    def account_of(self, obj):
        return obj.source.account if isinstance(obj, InfluenceLink) else obj.account

    def perform_create(self, serializer):
        source = serializer.validated_data["source"]
        self.check_object_permissions(self.request, source)
        serializer.instance = services.influence_link_create(
            source=source,
            target=serializer.validated_data["target"],
            kind=serializer.validated_data.get("kind", InfluenceLink.Kind.INFLUENCES),
            strength=serializer.validated_data.get("strength", 3),
        )

    def perform_destroy(self, instance):
        services.influence_link_delete(link=instance)


router.register("contacts", ContactViewSet, basename="contact")
router.register("influence-links", InfluenceLinkViewSet, basename="influence-link")
