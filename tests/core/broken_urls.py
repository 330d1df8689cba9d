"""A URLconf with one view that fails with a plain bug, for the 500-versus-503 test."""

from django.urls import include, path


def broken(request):
    raise ValueError("a bug, not an outage")


urlpatterns = [path("broken/", broken), path("", include("config.urls"))]
handler500 = "core.unavailable.server_error"
