from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
    throttle_classes,
)


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
@authentication_classes([])
@permission_classes([])
@throttle_classes([])
def not_found(request, *args, **kwargs):
    """Every path under /api/v1/ that names no resource: a problem-details 404."""
    raise exceptions.NotFound()
