"""Filtering shared by every list: `updated_since` for incremental sync, errors as problems."""

from datetime import UTC

import django_filters
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.filters import OrderingFilter

from core.api.exceptions import InvalidQuery


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment, in UTC: any offset Python accepts (±23:59) reaches the database as
    UTC, which every database stores (PostgreSQL refuses offsets beyond ±15:59)."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(UTC)
        except OverflowError as error:
            raise ValidationError("That moment is out of range.", code="invalid") from error


class InstantFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class UpdatedSinceFilterSet(django_filters.FilterSet):
    """Adds `updated_since` (ISO 8601 date-time): rows changed at or after that moment.

    A subclass names its change timestamp in `updated_field` (default `updated_at`); resources
    that are never edited after creation name their creation time instead.
    """

    updated_field = "updated_at"

    updated_since = InstantFilter(
        method="filter_updated_since",
        label="Only rows changed at or after this ISO 8601 date-time (incremental sync).",
    )

    def filter_updated_since(self, queryset, name, value):
        return queryset.filter(**{f"{self.updated_field}__gte": value})


class FilterBackend(DjangoFilterBackend):
    """django-filter, with invalid parameters answered as problem details naming them."""

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            raise InvalidQuery(filterset.errors)
        return filterset.qs


class Ordering(OrderingFilter):
    """`?ordering=-updated_at`: only the view's `ordering_fields`, always ending on the primary
    key so that equal values never make rows jump between pages."""

    def filter_queryset(self, request, queryset, view):
        ordering = self.get_ordering(request, queryset, view)
        if ordering:
            keys = [field.lstrip("-") for field in ordering]
            if "pk" not in keys and "id" not in keys:
                ordering = [*ordering, "-pk" if ordering[0].startswith("-") else "pk"]
            return queryset.order_by(*ordering)
        return queryset
