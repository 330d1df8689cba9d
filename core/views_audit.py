"""The audit log page (/audit/): administrators filter, page through and export it.

Exporting the log is itself written to the log, so who took a copy of it is on record too.
"""

from datetime import datetime, time

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core import spreadsheets
from core.models import AuditEvent
from core.services.audit import audit_record

EVENTS_PER_PAGE = 50
# An export is a copy of the whole filtered log; past this, narrow the filters.
EXPORT_MAX_ROWS = 100_000
EXPORT_FORMATS = ("csv", "xlsx")
EXPORT_COLUMNS = ["at", "actor", "verb", "target_type", "target_id", "target", "detail", "ip"]


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, max_length=254, label="Who (name or email)")
    verb = forms.ChoiceField(
        required=False, label="Action", choices=[("", "Any action"), *AuditEvent.Verb.choices]
    )
    target_type = forms.ChoiceField(required=False, label="What", choices=[])
    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kinds = AuditEvent.objects.order_by("target_type").values_list("target_type", flat=True)
        self.fields["target_type"].choices = [("", "Anything")] + [
            (kind, kind) for kind in kinds.distinct()
        ]

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError("“From” must be on or before “To”.")
        return data


def audit_events_filtered(*, filters: dict):
    """The audit log narrowed by the page's filters, newest first (dates in the site's zone)."""
    events = AuditEvent.objects.select_related("actor")
    if filters.get("actor"):
        actor = filters["actor"].strip()
        events = events.filter(
            Q(actor_label__icontains=actor) | Q(actor__full_name__icontains=actor)
        )
    if filters.get("verb"):
        events = events.filter(verb=filters["verb"])
    if filters.get("target_type"):
        events = events.filter(target_type=filters["target_type"])
    zone = timezone.get_current_timezone()
    if filters.get("since"):
        events = events.filter(at__gte=datetime.combine(filters["since"], time.min, zone))
    if filters.get("until"):
        events = events.filter(at__lte=datetime.combine(filters["until"], time.max, zone))
    return events.order_by("-at", "-pk")


def _administrators_only(request) -> None:
    if not request.user.is_administrator:
        raise PermissionDenied


@login_required
@never_cache
@require_GET
def audit_log(request):
    _administrators_only(request)
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = Paginator(audit_events_filtered(filters=filters), EVENTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode(), "nav": "audit"}
    return render(request, "core/audit_log.html", context, status=400 if form.errors else 200)


@login_required
@never_cache
@require_GET
def audit_log_export(request, fmt: str):
    _administrators_only(request)
    if fmt not in EXPORT_FORMATS:
        raise Http404("Exports are .csv or .xlsx.")
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return render(request, "core/audit_log.html", {"form": form, "page": None}, status=400)
    filters = form.cleaned_data if form.is_bound else {}
    events = list(audit_events_filtered(filters=filters)[: EXPORT_MAX_ROWS + 1])
    if len(events) > EXPORT_MAX_ROWS:
        form.add_error(None, f"More than {EXPORT_MAX_ROWS:,} entries: narrow the filters.")
        return render(request, "core/audit_log.html", {"form": form, "page": None}, status=400)
    frame = spreadsheets.frame_from_records(
        [
            {
                "at": timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M:%S %Z"),
                "actor": event.actor_label or "system",
                "verb": event.verb,
                "target_type": event.target_type,
                "target_id": event.target_id,
                "target": event.target,
                "detail": _detail_text(event.detail),
                "ip": event.ip_address or "",
            }
            for event in events
        ],
        columns=EXPORT_COLUMNS,
    )
    audit_record(
        actor=request.user,
        verb=AuditEvent.Verb.EXPORTED,
        target_type="audit_log",
        target=f"Audit log ({fmt.upper()}, {len(events)} entries)",
        detail={
            "format": fmt,
            "rows": len(events),
            "filters": {k: v for k, v in filters.items() if v not in (None, "")},
        },
        request=request,
    )
    filename = f"rapport-audit-log-{timezone.localdate():%Y-%m-%d}.{fmt}"
    if fmt == "xlsx":
        return spreadsheets.xlsx_response(frame, filename=filename, sheet_name="Audit log")
    return spreadsheets.csv_response(frame, filename=filename)


def _detail_text(detail: dict) -> str:
    return "; ".join(f"{key}: {value}" for key, value in (detail or {}).items())
