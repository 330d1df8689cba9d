"""A friendly 503 instead of a 500 when the database is unreachable.

Django turns any exception, in a view or a middleware, into the `handler500` response; this
handler (config/urls.py) tells a database outage (PostgreSQL restarting, a cut connection)
apart from a bug. The answer is rendered without a request context, so nothing on the way reads
the database again: `templates/503.html` is self-contained. API clients get an RFC 9457
problem. Both say when to try again (Retry-After).
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views import defaults

RETRY_AFTER_SECONDS = 30
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


def database_unavailable_response(request) -> HttpResponse:
    """The 503 answer: a problem detail for the API, the self-contained page otherwise."""
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {
                "type": "about:blank",
                "title": "Service temporarily unavailable",
                "status": 503,
                "detail": "The database is unavailable for a moment. Try again shortly.",
                "instance": request.path,
            },
            status=503,
            content_type="application/problem+json",
        )
    else:
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request, template_name: str = defaults.ERROR_500_TEMPLATE_NAME):
    """`handler500`: 503 when the exception being handled is the database being away."""
    if isinstance(sys.exception(), DATABASE_UNAVAILABLE):
        return database_unavailable_response(request)
    return defaults.server_error(request, template_name)
