"""The acknowledgement SLA: per account manager and account, over a chosen window."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from actions import selectors
from actions.sla import sla_summary


@login_required
def sla(request):
    window = request.GET.get("days", "90")
    days = selectors.SLA_WINDOWS.get(window, 90)
    now = timezone.now()
    rows = selectors.sla_rows(user=request.user, since=selectors.sla_window_start(days, now))
    context = {
        "summary": sla_summary(rows, now=now),
        "days": days,
        "windows": selectors.SLA_WINDOWS.values(),
        "nav": "sla",
    }
    return render(request, "actions/sla.html", context)
