"""/api/v1/reports/: ask, poll, download (audited); scoping and problem details."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import AuditEvent
from reports.models import ReportJob
from reports.services.jobs import report_job_generate, report_job_request
from tests.api.conftest import pointers, problem

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/"


@pytest.fixture
def mine(manager, account):
    return report_job_request(user=manager, kind="account", audience="client", account=account)


@pytest.fixture
def theirs(outsider, foreign_account):
    return report_job_request(
        user=outsider, kind="account", audience="internal", account=foreign_account
    )


def test_asking_polling_and_downloading(api_for, manager, account):
    api = api_for(manager)
    created = api.post(
        URL, {"kind": "account", "audience": "client", "account": account.pk}, format="json"
    )
    assert created.status_code == 201, created.content
    job = created.json()
    assert job["status"] == "queued"
    assert job["download_url"] is None
    assert job["requested_by"]["email"] == manager.email

    not_ready = api.get(f"{URL}{job['id']}/download/")
    assert not_ready.status_code == 409
    assert problem(not_ready)["title"] == "Conflict"

    report_job_generate(job_id=job["id"])
    polled = api.get(f"{URL}{job['id']}/").json()
    assert polled["status"] == "done"
    assert polled["progress"] == 100
    assert polled["download_url"].endswith(f"/api/v1/reports/{job['id']}/download/")

    pdf = api.get(polled["download_url"], HTTP_ACCEPT="application/pdf")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    assert AuditEvent.objects.filter(
        verb=AuditEvent.Verb.DOWNLOADED, actor=manager, target_id=str(job["id"])
    ).exists()


def test_a_portfolio_report_for_a_segment(api_for, executive, account):
    response = api_for(executive).post(
        URL,
        {"kind": "portfolio", "audience": "internal", "segment": account.segment_id},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert ReportJob.objects.get().segment_id == account.segment_id


def test_another_teams_reports_are_not_found(api_for, manager, mine, theirs):
    api = api_for(manager)
    assert [row["id"] for row in api.get(URL).json()["results"]] == [mine.pk]
    for path in (f"{URL}{theirs.pk}/", f"{URL}{theirs.pk}/download/"):
        response = api.get(path)
        assert response.status_code == 404
        assert problem(response)["status"] == 404


def test_a_foreign_account_is_refused_like_an_unknown_one(api_for, manager, foreign_account):
    response = api_for(manager).post(
        URL, {"kind": "account", "audience": "client", "account": foreign_account.pk}, format="json"
    )
    assert response.status_code == 400
    assert pointers(response) == {"#/account"}
    assert not ReportJob.objects.exists()


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"kind": "account", "audience": "client"}, "#/account"),
        ({"kind": "yearly", "audience": "client"}, "#/kind"),
        ({"kind": "portfolio", "audience": "everyone"}, "#/audience"),
        ({"kind": "portfolio", "audience": "client", "colour": "red"}, "#/colour"),
        ({"kind": "portfolio", "audience": "client", "prepared_for": "x" * 201}, "#/prepared_for"),
        ({"kind": "portfolio", "audience": "client", "account": "twelve"}, "#/account"),
    ],
)
def test_bad_requests_are_problems_with_pointers(api_for, manager, body, pointer):
    response = api_for(manager).post(URL, body, format="json")
    assert response.status_code == 400
    assert pointer in pointers(response)
    assert not ReportJob.objects.exists()


def test_updated_since_lists_jobs_asked_or_finished_since(api_for, manager, account, mine):
    later = timezone.now() + timedelta(seconds=1)
    api = api_for(manager)
    assert api.get(URL, {"updated_since": later.isoformat()}).json()["results"] == []
    ReportJob.objects.filter(pk=mine.pk).update(finished_at=later + timedelta(seconds=1))
    rows = api.get(URL, {"updated_since": later.isoformat()}).json()["results"]
    assert [row["id"] for row in rows] == [mine.pk]


def test_reports_cannot_be_changed_or_deleted(api_for, manager, mine):
    api = api_for(manager)
    assert api.patch(f"{URL}{mine.pk}/", {"audience": "internal"}, format="json").status_code == 405
    assert api.delete(f"{URL}{mine.pk}/").status_code == 405
