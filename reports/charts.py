"""Charts for PDFs: the dashboards' own plotly figures, exported to SVG by kaleido.

The figures come from `changemaps.charts` (the same builders the dashboards draw in the
browser), so a report and a dashboard never disagree on colours or numbers. Kaleido drives a
headless Chromium; starting one costs seconds, so each process keeps a single export server
warm and every chart after the first takes a fraction of a second. Where no Chromium is
installed the report still renders, with each chart's table alternative in its place
(`figures_svg` answers None for it and logs why, once).
"""

import contextlib
import copy
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

_lock = threading.Lock()
TABS = 3
_state = {"started": False, "unavailable": ""}

# Printed charts: no hover, no mode bar, the report's typeface, white paper.
PRINT_LAYOUT = {
    "font": {"family": "Inter, 'DejaVu Sans', sans-serif"},
    "hovermode": False,
    "paper_bgcolor": "#ffffff",
    "plot_bgcolor": "#ffffff",
}


def chromium_path() -> str | None:
    """The browser kaleido should drive: RAPPORT_CHROMIUM, BROWSER_PATH, or one on PATH."""
    for candidate in (
        settings.RAPPORT_CHROMIUM,
        os.environ.get("BROWSER_PATH", ""),
        shutil.which("chromium") or "",
        shutil.which("chromium-browser") or "",
        shutil.which("google-chrome") or "",
    ):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def _start_server() -> bool:
    """Start this process's export server once; False (and why, logged once) if it cannot."""
    if _state["started"]:
        return True
    if _state["unavailable"]:
        return False
    browser = chromium_path()
    if browser is None:
        _state["unavailable"] = "no Chromium found (install Debian's chromium or set CHROMIUM)"
        logger.warning("PDF charts fall back to tables: %s", _state["unavailable"])
        return False
    os.environ["BROWSER_PATH"] = browser
    try:
        import kaleido

        # A few tabs in the one browser: a report's charts are drawn side by side.
        kaleido.start_sync_server(n=TABS, silence_warnings=True)
    except Exception as error:  # a browser that will not start: tables instead, say why
        _state["unavailable"] = f"kaleido could not start {browser}: {error}"
        logger.warning("PDF charts fall back to tables: %s", _state["unavailable"])
        return False
    _state["started"] = True
    return True


def export_ready() -> bool:
    """Whether charts can be drawn here (starting the export server if need be)."""
    with _lock:
        return _start_server()


def stop_server() -> None:
    """Close the browser. Call it before the interpreter shuts down (a worker's shutdown signal,
    the end of a test session): kaleido's own exit hook runs too late to do it quietly."""
    with _lock:
        if _state["started"]:
            import kaleido

            _state["started"] = False
            # Too late at interpreter shutdown to stop it politely; its browser exits with its
            # pipe closed anyway.
            with contextlib.suppress(RuntimeError):
                kaleido.stop_sync_server(silence_warnings=True)


def print_figure(figure: dict) -> dict:
    """A copy of a dashboard figure set up for paper."""
    printed = copy.deepcopy(figure)
    layout = printed.setdefault("layout", {})
    for key, value in PRINT_LAYOUT.items():
        if isinstance(value, dict):
            layout[key] = {**layout.get(key, {}), **value}
        else:
            layout[key] = value
    layout.pop("updatemenus", None)
    return printed


def figures_svg(charts: list[tuple[dict, int, int]]) -> list[str | None]:
    """Each (figure, width, height) as an SVG document, drawn in parallel tabs; None for a
    chart that could not be drawn (no browser, or an export error: logged)."""
    if not charts:
        return []
    with _lock:
        if not _start_server():
            return [None] * len(charts)
        import kaleido

        with tempfile.TemporaryDirectory(prefix="rapport-charts-") as folder:
            paths = [Path(folder) / f"chart-{number}.svg" for number in range(len(charts))]
            jobs = [
                {
                    "fig": print_figure(figure),
                    "path": str(path),
                    "opts": {"format": "svg", "width": width, "height": height},
                }
                for (figure, width, height), path in zip(charts, paths, strict=True)
            ]
            errors = kaleido.write_fig_from_object_sync(jobs)
            for error in errors or ():
                logger.error("A chart could not be exported; the report shows its table: %s", error)
            return [path.read_text() if path.exists() else None for path in paths]
