"""The render's fast paths print the same report as the plain way: charts drawn while the HTML is
parsed, the garbage collector held off during the layout, quote marks in the text."""

import gc
import shutil
import subprocess
from concurrent.futures import Future

import pytest

from changemaps.categories import CATEGORIES
from changemaps.services import changemaps_compute
from reports import charts
from reports.models import Quote
from reports.rendering import (
    ForbiddenResourceError,
    StaticOnlyFetcher,
    collector_paused,
    html_to_pdf,
    report_html,
)
from reports.services.jobs import TEMPLATES, report_content, report_job_request, report_render
from tests.factories import ContactFactory
from tests.pulses.factories import WaveFactory
from tests.reports.factories import quote_for

needs_pdftotext = pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils")

# What kaleido would send back, small enough to read at a glance.
DRAWN = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="900" height="380">'
    '<rect width="900" height="380" fill="#eef0fb"/></svg>'
)


def text_of(pdf: bytes) -> str:
    result = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    return " ".join(result.stdout.decode().split())


@pytest.fixture
def browser(monkeypatch):
    """Stands in for kaleido's Chromium (outside the system): draws every figure but those
    whose id() is in `failing`."""
    failing = set()
    drawn = []

    def figures_svg(specs):
        drawn.append(len(specs))
        return [None if id(figure) in failing else DRAWN for figure, *_ in specs]

    monkeypatch.setattr(charts, "export_ready", lambda: True)
    monkeypatch.setattr(charts, "figures_svg", figures_svg)
    return failing, drawn


@pytest.fixture
def content(manager, account):
    wave = WaveFactory()
    for number, key in enumerate(["keep_doing", "improve", "keep_doing"]):
        person = ContactFactory(account=account, name=f"Person {number}")
        quote_for(contact=person, key=key, wave=wave, status=Quote.Status.APPROVED,
                  text=f"Quoted words number {number}.")  # fmt: skip
    changemaps_compute(waves="all")
    job = report_job_request(user=manager, kind="account", audience="internal", account=account)
    found = report_content(job)
    assert found.charts, "the account has a change map, so its report has charts"
    return found


def plain_render(content) -> bytes:
    """The way reports were rendered before: every chart first, then the HTML, then the layout."""
    svgs = {printed.resource: printed.svg for printed in content.charts if printed.svg}
    html = report_html(
        TEMPLATES[content.kind],
        {"report": content, "board": content.dashboard, "categories": CATEGORIES},
    )
    pdf, _pages = html_to_pdf(html, charts=svgs)
    return pdf


@needs_pdftotext
@pytest.mark.django_db
def test_charts_drawn_during_the_parse_give_the_same_report(browser, content):
    _failing, drawn = browser
    pdf, pages = report_render(content)
    assert drawn == [len(content.charts)]  # drawn once, all together
    assert all(printed.svg == DRAWN for printed in content.charts)
    assert text_of(pdf) == text_of(plain_render(content))
    assert pages > 1
    assert "“Quoted words number 0.”" in text_of(pdf)  # the quote marks are in the text


@needs_pdftotext
@pytest.mark.django_db
def test_a_chart_that_could_not_be_drawn_prints_its_table(browser, content):
    failing, drawn = browser
    broken = content.charts[0]
    failing.add(id(broken.chart.figure))
    pdf, _pages = report_render(content)
    assert drawn == [len(content.charts)]  # not drawn again for the second layout
    assert broken.svg is None
    text = text_of(pdf)
    assert broken.title in text  # the table's caption stands in for the chart
    assert text == text_of(plain_render(content))


@pytest.mark.django_db
def test_without_a_browser_every_chart_is_a_table(monkeypatch, content):
    monkeypatch.setattr(charts, "export_ready", lambda: False)
    monkeypatch.setattr(charts, "figures_svg", lambda specs: [None] * len(specs))
    pdf, pages = report_render(content)
    assert pdf.startswith(b"%PDF")
    assert pages > 1
    assert all(printed.svg is None for printed in content.charts)


def test_the_fetcher_waits_for_charts_still_being_drawn():
    drawing = Future()
    fetcher = StaticOnlyFetcher(drawing)
    drawing.set_result({"charts/known.svg": DRAWN})
    assert b"<svg" in fetcher.fetch("https://rapport.invalid/charts/known.svg").read()
    with pytest.raises(ForbiddenResourceError):
        fetcher.fetch("https://rapport.invalid/charts/unknown.svg")


def test_a_static_file_does_not_wait_for_the_charts():
    fetcher = StaticOnlyFetcher(Future())  # never resolved: waiting would hang the test
    assert fetcher.fetch("https://rapport.invalid/static/reports/pdf.css").read()


def test_the_collector_is_back_on_after_a_render_even_a_failed_one():
    def failing_render():
        with collector_paused():
            assert not gc.isenabled()
            raise RuntimeError("layout failed")

    assert gc.isenabled()
    with pytest.raises(RuntimeError, match="layout failed"):
        failing_render()
    assert gc.isenabled()
    html_to_pdf("<p>Hello</p>")
    assert gc.isenabled()
