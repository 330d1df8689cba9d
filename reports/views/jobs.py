"""Report jobs: ask for a report, watch it being generated, download it (audited), regenerate.

The job page polls a small progress fragment with htmx; when the job finishes the fragment
answers HTTP 286, which tells htmx to stop polling.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reports.forms import ReportRequestForm
from reports.models import ReportJob
from reports.services.jobs import (
    report_job_download,
    report_job_regenerate,
    report_job_request,
)

STOP_POLLING = 286


def _job_for(user, pk: int) -> ReportJob:
    return get_object_or_404(
        ReportJob.objects.visible_to(user).select_related(
            "account", "segment", "territory", "requested_by"
        ),
        pk=pk,
    )


@login_required
@require_GET
def report_list(request):
    jobs = ReportJob.objects.visible_to(request.user).select_related(
        "account", "segment", "territory", "requested_by"
    )[:50]
    return render(request, "reports/report_list.html", {"jobs": jobs, "nav": "reports"})


@login_required
@require_http_methods(["GET", "POST"])
def report_request(request):
    initial = {"kind": ReportJob.Kind.PORTFOLIO}
    if request.GET.get("account", "").isdigit():
        initial = {"kind": ReportJob.Kind.ACCOUNT, "account": int(request.GET["account"])}
    form = ReportRequestForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            job = report_job_request(
                user=request.user,
                kind=data["kind"],
                audience=data["audience"],
                account=data["account"],
                segment=data["segment"],
                territory=data["territory"],
                prepared_for=data["prepared_for"],
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect(job)
    return render(request, "reports/report_request.html", {"form": form, "nav": "reports"})


@login_required
@require_GET
def report_job(request, pk):
    return render(request, "reports/report_job.html", {"job": _job_for(request.user, pk)})


@login_required
@require_GET
def report_progress(request, pk):
    job = _job_for(request.user, pk)
    status = STOP_POLLING if job.is_finished else 200
    return render(request, "reports/_job_progress.html", {"job": job}, status=status)


def report_file_response(job: ReportJob) -> FileResponse:
    """The finished report's PDF as a private, uncached attachment (the page's and the API's)."""
    response = FileResponse(
        job.file.open("rb"),
        as_attachment=True,
        filename=job.filename,
        content_type="application/pdf",
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def report_download(request, pk):
    job = _job_for(request.user, pk)
    try:
        report_job_download(job=job, user=request.user, request=request)
    except ValidationError as error:
        raise Http404("This report is not ready.") from error
    return report_file_response(job)


@login_required
@require_POST
def report_regenerate(request, pk):
    job = report_job_regenerate(job=_job_for(request.user, pk), user=request.user, request=request)
    return redirect(job)
