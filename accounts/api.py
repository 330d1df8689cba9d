"""/api/v1/accounts/ (with team and log) and /api/v1/users/."""

import django_filters
from django.db.models import Prefetch, Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated

from accounts import selectors, services
from accounts.models import Account, AccountLogEntry, AccountMembership, User
from accounts.serializers import AccountLogEntrySerializer, AccountSerializer, UserSerializer
from core.api.filters import UpdatedSinceFilterSet
from core.api.permissions import CanContribute
from core.api.routers import router
from core.api.viewsets import ReadCreateUpdateViewSet, ReadCreateViewSet, ReadOnlyViewSet


class AccountPermission(BasePermission):
    """Anyone reads what they may see; administrators create; the owner and administrators
    edit (`Account.can_edit`)."""

    def has_permission(self, request, view):
        if view.action == "create":
            self.message = "Only administrators create accounts."
            return request.user.is_administrator
        return True

    def has_object_permission(self, request, view, obj):
        self.message = "Only the account's owner or an administrator may change it."
        return request.method in SAFE_METHODS or obj.can_edit(request.user)


class AccountFilter(UpdatedSinceFilterSet):
    q = django_filters.CharFilter(method="search", label="Name or industry contains.")
    owner = django_filters.NumberFilter(field_name="owner_id", label="Owner's user id.")
    segment = django_filters.CharFilter(field_name="segment__name", label="Segment name.")
    territory = django_filters.CharFilter(field_name="territory__name", label="Territory name.")

    class Meta:
        model = Account
        fields = ["tier", "status", "parent"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(industry__icontains=value))


ACCOUNT_EXAMPLE = OpenApiExample(
    "An account",
    response_only=True,
    value={
        "id": 12,
        "name": "Northwind Logistics",
        "tier": "strategic",
        "status": "active",
        "segment": "Retail",
        "territory": "DACH",
        "industry": "Logistics",
        "parent": None,
        "owner": {"id": 3, "full_name": "Maya Patel", "email": "maya@example.com"},
        "team": [
            {
                "user": {"id": 5, "full_name": "Tom Berg", "email": "tom@example.com"},
                "responsibility": "Delivery lead",
                "added_at": "2026-01-12T09:30:00Z",
            }
        ],
        "seasonal_peak_months": [11, 12],
        "international_presence": "Germany, Austria",
        "markets_entering": "Poland",
        "notes": "",
        "created_at": "2025-06-01T08:00:00Z",
        "updated_at": "2026-02-03T14:12:00Z",
    },
)


@extend_schema_view(
    list=extend_schema(summary="Accounts you may see", examples=[ACCOUNT_EXAMPLE]),
    retrieve=extend_schema(summary="One account, with its team", examples=[ACCOUNT_EXAMPLE]),
    create=extend_schema(summary="Create an account (administrators)"),
    partial_update=extend_schema(summary="Change an account (its owner, administrators)"),
)
class AccountViewSet(ReadCreateUpdateViewSet):
    serializer_class = AccountSerializer
    permission_classes = [IsAuthenticated, AccountPermission]
    filterset_class = AccountFilter
    ordering_fields = ["name", "updated_at", "created_at", "id"]

    def get_queryset(self):
        return (
            Account.objects.visible_to(self.request.user)
            .select_related("owner", "segment", "territory")
            .prefetch_related(
                Prefetch(
                    "memberships",
                    queryset=AccountMembership.objects.select_related("user").order_by(
                        "user__full_name", "pk"
                    ),
                )
            )
            .order_by("name", "pk")
        )

    def perform_create(self, serializer):
        fields = dict(serializer.validated_data)
        team = fields.pop("team_ids", ())
        serializer.instance = services.account_create(fields=fields, team=team)

    def perform_update(self, serializer):
        fields = dict(serializer.validated_data)
        team = fields.pop("team_ids", None)
        services.account_update(
            account=serializer.instance,
            fields=fields,
            team=team,
            actor=self.request.user,
            request=self.request,
        )
        # The prefetched team is stale after a change of team.
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)


class LogEntryFilter(UpdatedSinceFilterSet):
    updated_field = "created_at"  # entries are never edited

    class Meta:
        model = AccountLogEntry
        fields = ["kind"]


@extend_schema_view(
    list=extend_schema(summary="An account's log, newest first"),
    retrieve=extend_schema(summary="One log entry"),
    create=extend_schema(summary="Add to an account's log (its owner, team, administrators)"),
)
@extend_schema(parameters=[OpenApiParameter("account_pk", OpenApiTypes.INT, OpenApiParameter.PATH)])
class AccountLogViewSet(ReadCreateViewSet):
    serializer_class = AccountLogEntrySerializer
    permission_classes = [IsAuthenticated, CanContribute]
    filterset_class = LogEntryFilter
    ordering_fields = ["occurred_on", "created_at", "id"]

    def get_account(self) -> Account:
        if not hasattr(self, "_account"):
            self._account = selectors.account_get_for_user(
                user=self.request.user, pk=self.kwargs["account_pk"]
            )
        return self._account

    def account_of(self, obj):
        return obj if isinstance(obj, Account) else obj.account

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if "account_pk" in self.kwargs and not getattr(self, "swagger_fake_view", False):
            context["account"] = self.get_account()
        return context

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AccountLogEntry.objects.none()
        return (
            self.get_account()
            .log_entries.select_related("author", "account")
            .prefetch_related("mentioned_contacts")
            .order_by("-occurred_on", "-created_at", "-pk")
        )

    def create(self, request, *args, **kwargs):
        # The account is in the URL: refuse who may not add to its log before judging the body.
        self.check_object_permissions(request, self.get_account())
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        account = self.get_account()
        self.check_object_permissions(self.request, account)
        fields = dict(serializer.validated_data)
        serializer.instance = services.account_log_entry_create(
            account=account,
            author=self.request.user,
            kind=fields["kind"],
            title=fields["title"],
            body=fields.get("body", ""),
            occurred_on=fields.get("occurred_on"),
            mentioned_contacts=fields.get("mentioned_contact_ids", ()),
        )


class UserFilter(django_filters.FilterSet):
    class Meta:
        model = User
        fields = ["role", "is_active"]


@extend_schema_view(
    list=extend_schema(summary="People on our side (owners, teams)"),
    retrieve=extend_schema(summary="One of our people"),
)
class UserViewSet(ReadOnlyViewSet):
    """Staff directory: who owns and works on accounts. Contains no client data."""

    serializer_class = UserSerializer
    filterset_class = UserFilter
    ordering_fields = ["full_name", "id"]

    def get_queryset(self):
        return User.objects.order_by("full_name", "pk")


router.register("accounts", AccountViewSet, basename="account")
router.register(r"accounts/(?P<account_pk>\d+)/log", AccountLogViewSet, basename="account-log")
router.register("users", UserViewSet, basename="user")
