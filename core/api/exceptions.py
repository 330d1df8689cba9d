"""Errors as problem details (RFC 9457): `application/problem+json` with type, title, status,
detail and, for invalid input, `errors`: one {pointer, detail, code} per problem, the pointer a
JSON Pointer into the request body (`#/answers/relationship`), or a `parameter` for a query."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://rapport.example/problems/"  # identifiers, not links (RFC 9457 §3.1.1)

TITLES = {
    400: "Invalid request",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    415: "Unsupported media type",
    429: "Too many requests",
}


def _pointers(detail, prefix: str = "#") -> list[dict]:
    """Flatten DRF's nested error detail into RFC 9457-style entries with JSON Pointers."""
    if isinstance(detail, dict):
        entries = []
        for key, value in detail.items():
            if key in ("non_field_errors", "__all__"):
                entries.extend(_pointers(value, prefix))
            else:
                name = str(key).replace("~", "~0").replace("/", "~1")
                entries.extend(_pointers(value, f"{prefix}/{name}"))
        return entries
    if isinstance(detail, list):
        entries = []
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                entries.extend(_pointers(value, f"{prefix}/{index}"))
            else:
                entries.extend(_pointers(value, prefix))
        return entries
    return [{"pointer": prefix, "detail": str(detail), "code": getattr(detail, "code", "invalid")}]


def problem_response(
    *, status_code: int, detail: str, code: str, request=None, errors=None, headers=None
) -> Response:
    body = {
        "type": f"{TYPE_BASE}{code.replace('_', '-')}",
        "title": TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.get_full_path()
    if errors is not None:
        body["errors"] = errors
    response = Response(body, status=status_code, headers=headers)
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


class InvalidQuery(exceptions.ValidationError):
    """Invalid query parameters (filters, ordering): errors name the `parameter`."""


def problem_details_handler(exc, context):
    request = context.get("request")
    if isinstance(exc, DjangoValidationError):
        # A service refused the input (model clean, domain rule): the same 400 as a serializer.
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None  # a real server error: Django's 500 handling and logging take over
    kept = ("WWW-Authenticate", "Retry-After", "Allow")
    headers = {name: value for name, value in response.headers.items() if name in kept}
    if isinstance(exc, exceptions.ValidationError):
        errors = _pointers(exc.detail)
        if isinstance(exc, InvalidQuery):
            for entry in errors:
                entry["parameter"] = entry.pop("pointer").removeprefix("#/")
        return problem_response(
            status_code=status.HTTP_400_BAD_REQUEST,
            detail="The request has invalid fields; see errors.",
            code="invalid",
            request=request,
            errors=errors,
            headers=headers,
        )
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    if not isinstance(code, str):
        code = "error"
    return problem_response(
        status_code=response.status_code,
        detail=str(detail),
        code=code,
        request=request,
        headers=headers,
    )
