"""/api/v1/changemap-contacts/ and /api/v1/changemap-accounts/: change-map snapshots, read only.

Snapshots are rewritten whole on every recompute, so rows have no stable id of their own: they
are listed (never fetched by id) and keyed by (wave, contact) or (wave, account).
`updated_since` returns every row when the maps were recomputed since then, none otherwise.
"""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view

from accounts.models import Account
from changemaps.models import ChangeMapState, ContactSnapshot, GroupSnapshot
from changemaps.serializers import AccountSnapshotSerializer, ContactSnapshotSerializer
from core.api.filters import InstantFilter
from core.api.routers import router
from core.api.viewsets import ListViewSet


class RecomputedSinceFilterSet(django_filters.FilterSet):
    updated_since = InstantFilter(
        method="filter_updated_since",
        label="Every row if the change maps were recomputed at or after this moment; else none.",
    )

    def filter_updated_since(self, queryset, name, value):
        state = ChangeMapState.objects.filter(pk=ChangeMapState.SINGLETON).first()
        if state is None or state.computed_at is None or state.computed_at < value:
            return queryset.none()
        return queryset


class ContactSnapshotFilter(RecomputedSinceFilterSet):
    class Meta:
        model = ContactSnapshot
        fields = ["contact", "account", "wave", "category", "key_person"]


@extend_schema_view(
    list=extend_schema(
        summary="People's change-map categories per wave (filter by contact for one journey)"
    )
)
class ContactSnapshotViewSet(ListViewSet):
    serializer_class = ContactSnapshotSerializer
    filterset_class = ContactSnapshotFilter
    ordering_fields = ["wave", "contact"]

    def get_queryset(self):
        return ContactSnapshot.objects.filter(
            account__in=Account.objects.visible_to(self.request.user)
        ).order_by("-wave__opens_on", "-wave_id", "contact_id")


class AccountSnapshotFilter(RecomputedSinceFilterSet):
    account = django_filters.NumberFilter(field_name="key", label="The account's id.")

    class Meta:
        model = GroupSnapshot
        fields = ["wave"]


@extend_schema_view(list=extend_schema(summary="Accounts' change-map aggregates per wave"))
class AccountSnapshotViewSet(ListViewSet):
    serializer_class = AccountSnapshotSerializer
    filterset_class = AccountSnapshotFilter
    ordering_fields = ["wave", "key"]

    def get_queryset(self):
        visible = Account.objects.visible_to(self.request.user).values("pk")
        return GroupSnapshot.objects.filter(
            dimension=GroupSnapshot.Dimension.ACCOUNT, key__in=visible
        ).order_by("-wave__opens_on", "-wave_id", "key")


router.register("changemap-contacts", ContactSnapshotViewSet, basename="changemap-contact")
router.register("changemap-accounts", AccountSnapshotViewSet, basename="changemap-account")
