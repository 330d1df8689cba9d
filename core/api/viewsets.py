from rest_framework import mixins, viewsets

from core.api.etags import ETagMixin


class ReadOnlyViewSet(ETagMixin, viewsets.ReadOnlyModelViewSet):
    """List and retrieve, with ETags. `get_queryset()` decides visibility."""


class ReadCreateViewSet(ETagMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """List, retrieve and create."""


class ReadCreateUpdateViewSet(
    ETagMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet
):
    """List, retrieve, create and PATCH (no PUT: partial updates only, no delete)."""

    http_method_names = ["get", "post", "patch", "head", "options"]


class ListViewSet(ETagMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """List only: for derived rows that have no stable id of their own."""
