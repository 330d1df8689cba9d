"""An account manager asks for a client report in the browser, watches a real worker generate
it, and downloads the PDF; the download is in the audit log."""

import time
import uuid

import pytest
from playwright.sync_api import expect

from core.models import AuditEvent
from reports.models import Quote, ReportJob
from tests.factories import ContactFactory
from tests.reports.factories import quote_for
from tests.workers import start_worker, stop_worker

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def report_worker(settings):
    """A worker on a queue of this test's own, where report jobs are sent."""
    queue = f"test-reports-{uuid.uuid4().hex[:8]}"
    settings.RAPPORT_REPORTS_QUEUE = queue
    worker = start_worker(queue, queue=queue)
    yield worker
    stop_worker(worker)


def test_a_manager_requests_watches_and_downloads_a_report(
    login_page, manager, account, report_worker
):
    person = ContactFactory(account=account, name="Ana Alvarez", job_title="Head of Supply")
    quote_for(contact=person, status=Quote.Status.APPROVED, text="They fix things before we ask.")

    page = login_page(manager)
    page.goto(account.get_absolute_url())
    page.get_by_role("link", name="Report", exact=True).click()
    page.get_by_label("Client-facing (approved quotes only)").check()
    page.get_by_label("Prepared for").fill("Dana Decider, COO")
    page.get_by_role("button", name="Generate").click()

    expect(page.get_by_role("heading", name=f"Account report: {account.name}")).to_be_visible()
    # The page polls the job; the worker has to start Chromium for the charts, so allow time.
    started = time.monotonic()
    seen = set()
    while time.monotonic() - started < 90:
        status = page.locator("#job-progress").get_attribute("data-status")
        seen.add(status)
        if status in {"done", "failed"}:
            break
        page.wait_for_timeout(250)
    job = ReportJob.objects.get()
    assert job.status == ReportJob.Status.DONE, job.error or stop_worker(report_worker)
    assert seen & {"queued", "running"}  # the browser watched it before it was ready

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the PDF").click()
    download = download_info.value
    assert download.suggested_filename == job.filename
    with open(download.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"
    assert AuditEvent.objects.filter(
        verb=AuditEvent.Verb.DOWNLOADED, actor=manager, target_id=str(job.pk)
    ).exists()
