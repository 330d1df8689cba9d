"""Report jobs: request one, generate it in the background, hand the file out (audited).

A job is a row first and a task message second: `report_job_request` saves the job and
publishes `reports.tasks.generate_report` after the commit; if the broker is down the row waits
and `report_jobs_sweep` (beat) queues it again. `report_job_generate` claims the job with a
conditional UPDATE, so two deliveries of the same message never render twice, and writes its
progress to the row as it goes (the job page polls it). A job stuck in "running" past
STALE_AFTER (a worker killed mid-render) is queued again by the sweeper, up to MAX_ATTEMPTS.
"""

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Account, Segment, Territory, User
from changemaps.categories import CATEGORIES
from core.models import AuditEvent
from core.queueing import publish_on_commit
from core.services.audit import audit_record
from reports import charts
from reports.models import ReportJob
from reports.rendering import html_to_pdf, report_html
from reports.selectors.content import (
    ReportContent,
    account_report_content,
    portfolio_report_content,
)

logger = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=15)
MAX_ATTEMPTS = 3
TEMPLATES = {
    ReportJob.Kind.ACCOUNT: "reports/pdf/account.html",
    ReportJob.Kind.PORTFOLIO: "reports/pdf/portfolio.html",
}


def _queue(job_id: int) -> None:
    from reports.tasks import generate_report

    # Reports start a browser and lay out pages: operators may give them workers of their own.
    queue = settings.RAPPORT_REPORTS_QUEUE
    publish_on_commit(generate_report, job_id, **({"queue": queue} if queue else {}))


def report_job_request(
    *,
    user: User,
    kind: str,
    audience: str,
    account: Account | None = None,
    segment: Segment | None = None,
    territory: Territory | None = None,
    prepared_for: str = "",
    request=None,
) -> ReportJob:
    """Save a report request and queue its generation.

    An account report needs an account the user may see (the caller passes one from
    `account_get_for_user`); a portfolio report is limited to what the user may see when it is
    generated. Portfolio reports are for executives and administrators; an account manager's
    "portfolio" is their own accounts, which the same scoping gives them.
    """
    if kind == ReportJob.Kind.ACCOUNT:
        if account is None:
            raise ValidationError({"account": "Choose the account the report is about."})
        if not Account.objects.visible_to(user).filter(pk=account.pk).exists():
            raise PermissionDenied
        segment = territory = None
    else:
        account = None
        if segment and territory:
            raise ValidationError("Choose a segment or a territory, not both.")
    with transaction.atomic():
        job = ReportJob.objects.create(
            kind=kind,
            audience=audience,
            account=account,
            segment=segment,
            territory=territory,
            prepared_for=prepared_for.strip(),
            requested_by=user,
        )
        audit_record(
            actor=user,
            verb=AuditEvent.Verb.REQUESTED,
            target_type="report",
            target_id=job.pk,
            target=f"{job.get_kind_display()}: {job.scope_label} ({job.audience})",
            request=request,
        )
        _queue(job.pk)
    return job


def report_job_regenerate(*, job: ReportJob, user: User, request=None) -> ReportJob:
    """A fresh job with the same settings (the old file stays until the new one is ready)."""
    return report_job_request(
        user=user,
        kind=job.kind,
        audience=job.audience,
        account=job.account,
        segment=job.segment,
        territory=job.territory,
        prepared_for=job.prepared_for,
        request=request,
    )


def _claim(job_id: int) -> bool:
    now = timezone.now()
    claimable = Q(status=ReportJob.Status.QUEUED) | Q(
        status=ReportJob.Status.RUNNING, claimed_at__lt=now - STALE_AFTER
    )
    return bool(
        ReportJob.objects.filter(claimable, pk=job_id, attempts__lt=MAX_ATTEMPTS).update(
            status=ReportJob.Status.RUNNING,
            claimed_at=now,
            attempts=F("attempts") + 1,
            progress=1,
            stage="Starting",
            error="",
        )
    )


def _progress(job: ReportJob, percent: int, stage: str) -> None:
    # Its own statement outside any transaction: the browser sees each step as it happens.
    ReportJob.objects.filter(pk=job.pk, status=ReportJob.Status.RUNNING).update(
        progress=percent, stage=stage
    )


def report_content(job: ReportJob) -> ReportContent:
    """What the job's report says, read with the requester's visibility."""
    if job.kind == ReportJob.Kind.ACCOUNT:
        return account_report_content(
            account=job.account,
            audience=job.audience,
            prepared_for=job.prepared_for,
            prepared_by=job.requested_by,
        )
    return portfolio_report_content(
        user=job.requested_by,
        audience=job.audience,
        segment_id=job.segment_id,
        territory_id=job.territory_id,
        prepared_for=job.prepared_for,
    )


def report_render(content: ReportContent, *, on_progress=None) -> tuple[bytes, int]:
    """Draw the charts, lay out the pages, return the PDF and its page count.

    The browser draws the charts while WeasyPrint parses the HTML and computes its styles (two
    processes, two cores); the layout waits for the SVGs only when it reaches the first chart.
    A chart that could not be drawn shows its table: the pages are then laid out again.
    """
    template = TEMPLATES[content.kind]
    context = {"report": content, "board": content.dashboard, "categories": CATEGORIES}
    specs = [(printed.chart.figure, printed.width, printed.height) for printed in content.charts]
    if on_progress:
        on_progress(55, "Laying out the pages")
    if specs and charts.export_ready():
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="report-charts") as pool:
            drawing = pool.submit(_draw_charts, content, specs)
            html = report_html(template, {**context, "charts_expected": True})
            pdf, pages = html_to_pdf(html, charts=drawing)
            if len(drawing.result()) == len(specs):
                return pdf, pages
    else:
        _draw_charts(content, specs)
    # Not every chart could be drawn: those that could not print their tables instead.
    html = report_html(template, context)
    return html_to_pdf(html, charts=_draw_charts(content, specs=[]))


def _draw_charts(content: ReportContent, specs: list) -> dict[str, str]:
    """Draw `specs` into the content's charts (none: keep what they hold); each drawn chart's
    resource path and SVG."""
    if specs:
        for printed, svg in zip(content.charts, charts.figures_svg(specs), strict=True):
            printed.svg = svg
    return {printed.resource: printed.svg for printed in content.charts if printed.svg}


def report_job_generate(*, job_id: int) -> bool:
    """Generate the job's PDF once; False when another worker has it or it is finished."""
    if not _claim(job_id):
        return False
    job = ReportJob.objects.select_related("account", "requested_by").get(pk=job_id)
    if (
        job.account_id
        and not Account.objects.visible_to(job.requested_by).filter(pk=job.account_id).exists()
    ):
        # The requester lost access since asking: nothing is rendered for them.
        ReportJob.objects.filter(pk=job.pk).update(
            status=ReportJob.Status.FAILED,
            error="You no longer have access to this account.",
            finished_at=timezone.now(),
        )
        return True
    try:
        _progress(job, 5, "Reading the change map and the quotes")
        content = report_content(job)
        _progress(job, 20, f"Drawing {len(content.charts)} charts")
        pdf, pages = report_render(
            content, on_progress=lambda pct, stage: _progress(job, pct, stage)
        )
        _progress(job, 90, "Saving the PDF")
        old = job.file.name if job.file else ""
        job.file.save(job.filename, ContentFile(pdf), save=False)
        ReportJob.objects.filter(pk=job.pk).update(
            file=job.file.name,
            pages=pages,
            size_bytes=len(pdf),
            status=ReportJob.Status.DONE,
            progress=100,
            stage="Ready",
            finished_at=timezone.now(),
        )
        if old and old != job.file.name:
            job.file.storage.delete(old)
    except Exception as error:
        logger.exception("Report job %s failed", job_id)
        ReportJob.objects.filter(pk=job.pk).update(
            status=ReportJob.Status.FAILED,
            error=f"{type(error).__name__}: the report could not be generated."[:500],
            finished_at=timezone.now(),
        )
    return True


def report_job_download(*, job: ReportJob, user: User, request=None) -> ReportJob:
    """Record the download; the caller streams the file. Only finished jobs can be fetched."""
    if job.status != ReportJob.Status.DONE or not job.file:
        raise ValidationError("This report is not ready yet.")
    audit_record(
        actor=user,
        verb=AuditEvent.Verb.DOWNLOADED,
        target_type="report",
        target_id=job.pk,
        target=f"{job.get_kind_display()}: {job.scope_label} ({job.audience})",
        detail={"pages": job.pages, "bytes": job.size_bytes},
        request=request,
    )
    return job


def report_jobs_sweep(*, now=None) -> list[int]:
    """Queue jobs whose task message was lost (queued for a while) or whose worker died."""
    now = now or timezone.now()
    stale = ReportJob.objects.filter(attempts__lt=MAX_ATTEMPTS).filter(
        Q(status=ReportJob.Status.QUEUED, created_at__lt=now - timedelta(minutes=2))
        | Q(status=ReportJob.Status.RUNNING, claimed_at__lt=now - STALE_AFTER)
    )
    ids = list(stale.values_list("pk", flat=True)[:100])
    for job_id in ids:
        _queue(job_id)
    # Jobs that used every attempt are failed for good, so the page stops waiting.
    ReportJob.objects.filter(
        status__in=[ReportJob.Status.QUEUED, ReportJob.Status.RUNNING],
        attempts__gte=MAX_ATTEMPTS,
        claimed_at__lt=now - STALE_AFTER,
    ).update(status=ReportJob.Status.FAILED, error="Generation kept failing; try again.")
    return ids
