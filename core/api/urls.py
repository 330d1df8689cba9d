"""/api/v1/: every project app's `api.py` registers its viewsets on the shared router (imported
here, as the admin imports admin.py), so a new app's endpoints appear without touching this."""

from importlib import import_module
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.urls import re_path
from django.utils.module_loading import module_has_submodule

from core.api.routers import router
from core.api.views import not_found


def _project_apps():
    base = Path(settings.BASE_DIR).resolve()
    for app_config in apps.get_app_configs():
        path = Path(app_config.path).resolve()
        if path.is_relative_to(base) and ".venv" not in path.parts:
            yield app_config


for _app in _project_apps():
    if _app.name != "core" and module_has_submodule(_app.module, "api"):
        import_module(f"{_app.name}.api")

app_name = "api"
# Anything else under /api/v1/ is a problem-details 404, never the web app's HTML page.
urlpatterns = [*router.urls, re_path(r"^.*$", not_found)]
