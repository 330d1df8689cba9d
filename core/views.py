from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import DatabaseError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role
from core import selectors
from core.forms import WebhookEndpointForm
from core.models import WebhookDelivery, WebhookEndpoint
from core.selectors import system_status
from core.services import webhooks as webhook_service


@login_required
def home(request):
    """Where a user lands after login: account managers on their inbox of responses to
    acknowledge, executives on the portfolio, administrators on the accounts."""
    if request.user.role == Role.ACCOUNT_MANAGER:
        return redirect("actions:inbox")
    if request.user.role == Role.EXECUTIVE:
        return redirect("changemaps:portfolio")
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


# --- Webhooks (administrators) --------------------------------------------------------------------


def _administrators_only(request) -> None:
    if not request.user.is_administrator:
        raise PermissionDenied


@login_required
@never_cache
def webhooks(request):
    """Endpoints and their delivery counts; register one (its secret is shown this once)."""
    _administrators_only(request)
    form = WebhookEndpointForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = webhook_service.webhook_endpoint_create(
                created_by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            for field, messages_ in error.message_dict.items():
                form.add_error(field if field in form.fields else None, messages_)
        else:
            created = {"endpoint": endpoint, "secret": secret}
            form = WebhookEndpointForm()
    context = {
        "form": form,
        "created": created,
        "endpoints": selectors.webhook_endpoints(),
        "events": webhook_service.WEBHOOK_EVENTS,
    }
    return render(request, "core/webhooks.html", context)


@login_required
def webhook_detail(request, pk):
    _administrators_only(request)
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    status = request.GET.get("status", "")
    if status not in WebhookDelivery.Status.values:
        status = ""
    deliveries = selectors.webhook_deliveries(endpoint=endpoint, status=status)
    page = Paginator(deliveries, 25).get_page(request.GET.get("page"))
    context = {
        "endpoint": endpoint,
        "page": page,
        "status": status,
        "statuses": WebhookDelivery.Status.choices,
        "query": f"status={status}" if status else "",
    }
    return render(request, "core/webhook_detail.html", context)


@login_required
@require_POST
def webhook_toggle(request, pk):
    _administrators_only(request)
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    webhook_service.webhook_endpoint_set_active(endpoint=endpoint, is_active=not endpoint.is_active)
    state = "resumed" if endpoint.is_active else "paused"
    messages.success(request, f"{endpoint} is {state}.")
    return redirect("webhook_detail", pk=endpoint.pk)


@login_required
def webhook_delivery(request, pk):
    _administrators_only(request)
    delivery = selectors.webhook_delivery_get(pk=pk)
    context = {
        "delivery": delivery,
        "endpoint": delivery.endpoint,
        "attempts": delivery.attempt_log.order_by("-number"),
        "body": webhook_service.delivery_body(delivery).decode(),
    }
    return render(request, "core/webhook_delivery.html", context)


@login_required
@require_POST
def webhook_delivery_replay(request, pk):
    _administrators_only(request)
    delivery = selectors.webhook_delivery_get(pk=pk)
    if webhook_service.webhook_delivery_replay(delivery=delivery):
        messages.success(request, f"Delivery {delivery.delivery_id} is queued again.")
    else:
        messages.info(request, "That delivery is being sent right now; try again in a moment.")
    if request.POST.get("back") == "endpoint":
        return redirect("webhook_detail", pk=delivery.endpoint_id)
    return redirect("webhook_delivery", pk=delivery.pk)
