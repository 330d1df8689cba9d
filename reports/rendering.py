"""HTML to PDF with WeasyPrint, reaching nothing but the project's own static files.

The report's HTML comes from templates/reports/pdf/; user text in it is escaped by the
templates. Whatever a template or a user's text might still point at, `StaticOnlyFetcher` serves
only two things: files found by Django's static finders under a fixed internal base URL, and the
report's own charts (SVG strings held in memory). Every other URL (http, file://, data:,
link-local addresses, redirects) is refused before any connection is made.
"""

import contextlib
import gc
import mimetypes
from concurrent.futures import Future
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

# An address no network can answer: URLs under it are resolved here, never fetched.
INTERNAL_BASE = "https://rapport.invalid/"
STATIC_PREFIX = "static/"
CHART_PREFIX = "charts/"


class ForbiddenResourceError(ValueError):
    """A URL outside the static files and the report's charts."""


class StaticOnlyFetcher(URLFetcher):
    """`charts` maps each chart's path to its SVG, or is a Future of that mapping: the charts
    are then still being drawn, and the first chart fetched waits for them."""

    def __init__(self, charts: dict[str, str] | Future | None = None):
        super().__init__(allowed_protocols={"https"}, allow_redirects=False)
        self._charts = charts or {}
        self.refused: list[str] = []

    @property
    def charts(self) -> dict[str, str]:
        if isinstance(self._charts, Future):
            self._charts = self._charts.result()
        return self._charts

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}/" != INTERNAL_BASE or parts.query:
            return self._refuse(url)
        path = unquote(parts.path).lstrip("/")
        clean = PurePosixPath(path)
        if ".." in clean.parts or "\\" in path:
            return self._refuse(url)
        if path.startswith(CHART_PREFIX) and path in self.charts:
            return URLFetcherResponse(url, self.charts[path], {"Content-Type": "image/svg+xml"})
        if path.startswith(STATIC_PREFIX):
            found = finders.find(path.removeprefix(STATIC_PREFIX))
            if found:
                with open(found, "rb") as handle:
                    body = handle.read()
                kind = mimetypes.guess_type(found)[0] or "application/octet-stream"
                return URLFetcherResponse(url, body, {"Content-Type": kind})
        return self._refuse(url)

    def _refuse(self, url):
        self.refused.append(url[:200])
        raise ForbiddenResourceError(
            f"Reports may only use Rapport's own static files, not {url[:80]}"
        )


def chart_path(key: str) -> str:
    return f"{CHART_PREFIX}{key}.svg"


def chart_url(key: str) -> str:
    return INTERNAL_BASE + chart_path(key)


@contextlib.contextmanager
def collector_paused():
    """Hold off Python's cyclic garbage collector for one render.

    WeasyPrint keeps hundreds of thousands of objects (boxes, styles, lines) alive while it lays
    out a report; as they pile up the collector walks the whole heap, the worker's and the
    report's alike, twice per 20-page report: 10-17% of its CPU, for cycles it cannot free yet.
    The render's cycles are collected once, right after it, among the young objects only.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            gc.collect(0)


def html_to_pdf(html: str, *, charts: dict[str, str] | Future | None = None) -> tuple[bytes, int]:
    """Lay out `html` and return the PDF and its number of pages."""
    fetcher = StaticOnlyFetcher(charts)
    with collector_paused():
        document = HTML(string=html, base_url=INTERNAL_BASE, url_fetcher=fetcher).render()
        return document.write_pdf(), len(document.pages)


def report_html(template: str, context: dict) -> str:
    return render_to_string(template, {**context, "static_base": INTERNAL_BASE + STATIC_PREFIX})
