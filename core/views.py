from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.selectors import system_status


@login_required
def home(request):
    """Where a user lands after login."""
    return redirect("accounts:list")


@require_GET
@never_cache
def healthz(request):
    """Liveness for load balancers and docker-compose: the web process answers and the DB too."""
    try:
        status = system_status()
    except DatabaseError:
        return JsonResponse({"database": "unavailable"}, status=503)
    return JsonResponse({"database": status["database"]})


@login_required
def status(request):
    if not request.user.is_administrator:
        raise PermissionDenied
    return render(request, "core/status.html", {"status": system_status()})
