"""Report jobs: asking, claiming once, progress, audited downloads, and who may see what."""

import pytest
from django.urls import reverse

from core.models import AuditEvent
from reports.models import ReportJob
from reports.services.jobs import (
    MAX_ATTEMPTS,
    report_job_generate,
    report_job_request,
    report_jobs_sweep,
)


@pytest.fixture
def job(manager, account):
    return report_job_request(user=manager, kind="account", audience="client", account=account)


@pytest.mark.django_db
def test_asking_for_a_report_saves_the_job_and_audits_it(client_for, manager, account):
    response = client_for(manager).post(
        reverse("reports:request"),
        {"kind": "account", "account": account.pk, "audience": "internal", "prepared_for": "Board"},
    )
    job = ReportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == job.get_absolute_url()
    assert (job.kind, job.audience, job.account, job.prepared_for) == (
        "account", "internal", account, "Board"
    )  # fmt: skip
    assert job.status == ReportJob.Status.QUEUED
    event = AuditEvent.objects.get(verb=AuditEvent.Verb.REQUESTED)
    assert event.actor == manager
    assert event.target_id == str(job.pk)


@pytest.mark.django_db
def test_a_foreign_account_cannot_be_chosen(client_for, manager, foreign_account):
    response = client_for(manager).post(
        reverse("reports:request"),
        {"kind": "account", "account": foreign_account.pk, "audience": "client"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not ReportJob.objects.exists()


@pytest.mark.django_db
def test_an_account_report_needs_an_account(client_for, manager):
    response = client_for(manager).post(
        reverse("reports:request"), {"kind": "account", "audience": "client"}
    )
    assert "Choose the account the report is about." in response.content.decode()
    assert not ReportJob.objects.exists()


@pytest.mark.django_db
def test_a_job_is_generated_once(job):
    assert report_job_generate(job_id=job.pk) is True
    assert report_job_generate(job_id=job.pk) is False  # a second delivery of the message
    job.refresh_from_db()
    assert job.status == ReportJob.Status.DONE
    assert job.progress == 100
    assert job.attempts == 1
    assert job.pages >= 5
    assert job.file.size == job.size_bytes


@pytest.mark.django_db
def test_progress_polling_stops_when_the_job_is_done(client_for, manager, job):
    client = client_for(manager)
    running = client.get(reverse("reports:progress", args=[job.pk]))
    assert running.status_code == 200
    assert b"hx-trigger" in running.content
    report_job_generate(job_id=job.pk)
    done = client.get(reverse("reports:progress", args=[job.pk]))
    assert done.status_code == 286  # htmx: stop polling
    assert b"Download the PDF" in done.content


@pytest.mark.django_db
def test_every_download_is_audited(client_for, manager, job):
    client = client_for(manager)
    assert client.get(reverse("reports:download", args=[job.pk])).status_code == 404  # not ready
    report_job_generate(job_id=job.pk)
    for _ in range(2):
        response = client.get(reverse("reports:download", args=[job.pk]))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert b"".join(response.streaming_content).startswith(b"%PDF")
        assert "no-store" in response["Cache-Control"]
    downloads = AuditEvent.objects.filter(verb=AuditEvent.Verb.DOWNLOADED, target_id=str(job.pk))
    assert downloads.count() == 2
    assert {e.actor for e in downloads} == {manager}


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["job", "progress", "download"])
def test_outsiders_get_404(client_for, outsider, job, name):
    report_job_generate(job_id=job.pk)
    assert client_for(outsider).get(reverse(f"reports:{name}", args=[job.pk])).status_code == 404


@pytest.mark.django_db
def test_outsiders_cannot_regenerate(client_for, outsider, job):
    response = client_for(outsider).post(reverse("reports:regenerate", args=[job.pk]))
    assert response.status_code == 404
    assert ReportJob.objects.count() == 1


@pytest.mark.django_db
def test_the_team_sees_account_reports_but_not_others_portfolios(
    client_for, teammate, executive, job
):
    portfolio = report_job_request(user=executive, kind="portfolio", audience="internal")
    visible = set(ReportJob.objects.visible_to(teammate))
    assert job in visible
    assert portfolio not in visible
    page = client_for(teammate).get(reverse("reports:list")).content.decode()
    assert f"/reports/{job.pk}/" in page
    assert f"/reports/{portfolio.pk}/" not in page


@pytest.mark.django_db
def test_regenerating_makes_a_fresh_job_with_the_same_settings(client_for, manager, job):
    response = client_for(manager).post(reverse("reports:regenerate", args=[job.pk]))
    fresh = ReportJob.objects.exclude(pk=job.pk).get()
    assert response["Location"] == fresh.get_absolute_url()
    assert (fresh.kind, fresh.audience, fresh.account) == (job.kind, job.audience, job.account)


@pytest.mark.django_db
def test_a_requester_who_lost_access_gets_nothing(job, account, teammate, manager):
    account.owner = teammate
    account.save()
    account.memberships.filter(user=manager).delete()
    report_job_generate(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ReportJob.Status.FAILED
    assert not job.file


@pytest.mark.django_db
def test_the_sweeper_requeues_lost_jobs_and_gives_up_after_max_attempts(job, time_machine):
    time_machine.move_to(job.created_at)
    time_machine.shift(60 * 3)
    assert report_jobs_sweep() == [job.pk]
    ReportJob.objects.filter(pk=job.pk).update(
        status=ReportJob.Status.RUNNING, attempts=MAX_ATTEMPTS, claimed_at=job.created_at
    )
    time_machine.shift(60 * 60)
    assert report_jobs_sweep() == []
    job.refresh_from_db()
    assert job.status == ReportJob.Status.FAILED
