"""The application's URLs plus the survey benchmark's floor: a bare view doing one INSERT."""

from django.db import connection
from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.http import require_POST


@require_POST
def insert_one(request):
    """The floor: what any form POST must do at least (middleware, CSRF, one row written)."""
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_floor (body) VALUES (%s)", [request.POST.get("text", "")])
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench-insert/", insert_one), path("", include("config.urls"))]
