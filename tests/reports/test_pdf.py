"""The PDFs themselves, read back with pdftotext: both sides of the balanced view, only approved
quotes in the client version, nobody else's data, user text printed as text and fetching
nothing."""

import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from changemaps.services import changemaps_compute
from reports.models import Quote, ReportJob
from reports.rendering import ForbiddenResourceError, StaticOnlyFetcher, html_to_pdf
from reports.services.jobs import report_content, report_job_generate, report_job_request
from tests.factories import AccountFactory, ContactFactory
from tests.pulses.factories import WaveFactory
from tests.reports.factories import answer_of, answered, quote_for

pytestmark = pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils")


def pdf_text(job: ReportJob) -> str:
    job.refresh_from_db()
    assert job.status == ReportJob.Status.DONE, job.error
    with job.file.open("rb") as handle:
        result = subprocess.run(
            ["pdftotext", "-", "-"], input=handle.read(), capture_output=True, check=True
        )
    return " ".join(result.stdout.decode().split())  # one line: wrapped quotes read whole


def generate(user, **fields) -> ReportJob:
    job = report_job_request(user=user, **fields)
    assert report_job_generate(job_id=job.pk)
    return job


@pytest.fixture
def quoted(account):
    """One quote in each state, plus an answer nobody proposed, on both sides."""
    wave = WaveFactory()
    people = {
        key: ContactFactory(account=account, name=name, job_title="Head of Logistics")
        for key, name in [
            ("approved_well", "Alice Approved"),
            ("approved_improve", "Ivan Improve"),
            ("requested", "Rita Requested"),
            ("withdrawn", "Walt Withdrawn"),
            ("proposed", "Paula Proposed"),
            ("unproposed", "Uma Unproposed"),
        ]
    }
    quotes = {
        "approved_well": quote_for(
            contact=people["approved_well"],
            wave=wave,
            status=Quote.Status.APPROVED,
            text="Their depot team solves problems before we notice them.",
        ),
        "approved_improve": quote_for(
            contact=people["approved_improve"],
            key="improve",
            wave=wave,
            status=Quote.Status.APPROVED,
            text="Invoices still arrive late and need rework.",
            credit=Quote.Credit.ROLE_ONLY,
        ),
        "requested": quote_for(
            contact=people["requested"],
            wave=wave,
            status=Quote.Status.REQUESTED,
            text="Awaiting a yes: fast answers.",
        ),
        "withdrawn": quote_for(
            contact=people["withdrawn"],
            key="improve",
            wave=wave,
            status=Quote.Status.WITHDRAWN,
            text="Withdrawn words: pricing hurts.",
        ),
        "proposed": quote_for(
            contact=people["proposed"],
            wave=wave,
            text="Proposed words: great drivers.",
        ),
    }
    answered(contact=people["unproposed"], wave=wave, keep_doing="Unproposed: tidy yards.")
    changemaps_compute(waves="all")
    return quotes


@pytest.mark.django_db
def test_client_version_shows_both_sides_and_only_approved_quotes(manager, account, quoted):
    text = pdf_text(
        generate(
            manager,
            kind="account",
            audience="client",
            account=account,
            prepared_for="Dana Decider, COO",
        )
    )
    assert "What goes well" in text
    assert "What to improve" in text
    assert "Their depot team solves problems before we notice them." in text
    assert "Alice Approved, Head of Logistics" in text
    assert "Invoices still arrive late and need rework." in text
    # Credited by role only, as Ivan chose: his name appears nowhere near his words.
    assert "Ivan Improve" not in text
    for unapproved in ("Awaiting a yes", "Withdrawn words", "Proposed words", "tidy yards"):
        assert unapproved not in text
    assert "Dana Decider, COO" in text
    assert "Client version" in text
    assert "Who to call" not in text
    assert "The team's reviews" not in text
    assert "Page 2 of" in text


@pytest.mark.django_db
def test_internal_version_shows_everything_with_its_state(manager, account, quoted):
    text = pdf_text(generate(manager, kind="account", audience="internal", account=account))
    for words in ("Their depot team", "Awaiting a yes", "Withdrawn words", "Proposed words",
                  "Unproposed: tidy yards."):  # fmt: skip
        assert words in text
    for state in ("Approved", "Waiting for approval", "Withdrawn", "Not asked yet"):
        assert state in text
    assert "Internal version" in text
    assert "Who to call" in text


@pytest.mark.django_db
def test_another_teams_data_is_never_in_a_portfolio_report(manager, account, quoted, outsider):
    foreign = AccountFactory(name="Zebra Foreign Foods", owner=outsider)
    stranger = ContactFactory(account=foreign, name="Xavier Foreigner")
    quote_for(contact=stranger, status=Quote.Status.APPROVED, text="Foreign secret praise.")
    changemaps_compute(waves="all")

    for audience in ReportJob.Audience.values:
        text = pdf_text(generate(manager, kind="portfolio", audience=audience))
        assert account.name in text
        for foreign_text in ("Zebra Foreign Foods", "Xavier Foreigner", "Foreign secret"):
            assert foreign_text not in text


@pytest.mark.django_db
def test_user_text_is_printed_as_text_and_fetches_nothing(manager, account):
    hits = []

    class Canary(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Canary)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    canary = f"http://127.0.0.1:{server.server_port}"
    payload = (
        f'<img src="{canary}/img"><link rel="stylesheet" href="{canary}/css">'
        f"<style>@import '{canary}/import'; body {{ background: url({canary}/bg) }}</style>"
        '<b>bold</b> <img src="file:///etc/passwd"> <iframe src="http://169.254.169.254/">'
    )
    person = ContactFactory(
        account=account,
        name=f'Eve <img src="{canary}/name">',
        job_title=f'<img src="{canary}/title">',
    )
    quote_for(contact=person, status=Quote.Status.APPROVED, text=payload)
    changemaps_compute(waves="all")
    try:
        text = pdf_text(
            generate(
                manager,
                kind="account",
                audience="internal",
                account=account,
                prepared_for=f"<img src='{canary}/cover'>",
            )
        )
    finally:
        server.shutdown()
    assert hits == []
    assert "<b>bold</b>" in text  # printed literally, not interpreted
    assert "root:x:0:0" not in text


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.1:8000/static/core/logo.svg",
        "http://169.254.169.254/latest/meta-data/",
        "https://example.com/static/core/logo.svg",
        "https://rapport.invalid/static/../../config/settings.py",
        "https://rapport.invalid/static/%2e%2e/%2e%2e/config/settings.py",
        "https://rapport.invalid/etc/passwd",
        "https://rapport.invalid/charts/unknown.svg",
        "data:text/plain,hello",
    ],
)
def test_the_fetcher_refuses_everything_but_static_files_and_charts(url):
    with pytest.raises((ForbiddenResourceError, ValueError)):
        StaticOnlyFetcher({"charts/known.svg": "<svg/>"}).fetch(url)


def test_the_fetcher_serves_static_files_and_the_reports_charts():
    fetcher = StaticOnlyFetcher({"charts/known.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>"})
    assert fetcher.fetch("https://rapport.invalid/static/reports/pdf.css").read()
    assert b"<svg" in fetcher.fetch("https://rapport.invalid/charts/known.svg").read()


def test_a_page_pointing_outside_renders_without_it():
    pdf, pages = html_to_pdf('<p>Hello</p><img src="file:///etc/hostname">')
    assert pdf.startswith(b"%PDF")
    assert pages == 1


@pytest.mark.django_db
def test_an_account_without_pulses_still_gets_a_report(manager, account):
    content = report_content(
        report_job_request(user=manager, kind="account", audience="client", account=account)
    )
    assert not content.dashboard.has_data
    assert content.period == "No pulse yet"
    text = pdf_text(generate(manager, kind="account", audience="client", account=account))
    assert "No pulse has reached" in text


@pytest.mark.django_db
def test_quotes_keep_balance_in_the_client_version(manager, account):
    wave = WaveFactory()
    for number in range(10):
        person = ContactFactory(account=account, name=f"Person {number}")
        quote_for(contact=person, wave=wave, status=Quote.Status.APPROVED,
                  text=f"Praise number {number}.")  # fmt: skip
    critic = ContactFactory(account=account, name="Only Critic")
    quote_for(contact=critic, key="improve", wave=wave, status=Quote.Status.APPROVED)
    content = report_content(
        report_job_request(user=manager, kind="account", audience="client", account=account)
    )
    assert len(content.to_improve) == 1
    # Ten people praised, one criticised: the praise is capped so it cannot drown the critic.
    assert len(content.goes_well) == 4
    critic_quote = Quote.objects.get(contact=critic)
    critic_quote.status = Quote.Status.WITHDRAWN
    critic_quote.save()
    content = report_content(
        report_job_request(user=manager, kind="account", audience="client", account=account)
    )
    # Nothing approved on one side: the other still shows no more than half a side.
    assert content.to_improve == []
    assert len(content.goes_well) == 4
    assert answer_of  # the factory helpers are shared with the quote tests
