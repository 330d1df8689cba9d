"""The charts' shared look and helpers: one Plotly template, colours, labels and numbers."""

import html
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from changemaps.categories import COLOURS

FONT = (
    "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', 'Noto Sans', Arial, sans-serif"
)
INK = "#1f2340"
MUTED = "#5b6078"
GRID = "#eceef5"
AXIS = "#c9cede"
PREVIOUS = "#c9cede"
# Score bands as on the score pills (core/rapport.css), softened so that numbers stay readable.
SCORE_BANDS = ((0, 4, "#fca5a5"), (5, 6, "#fdba74"), (7, 8, "#fde68a"), (9, 10, "#86efac"))
RISE = COLOURS["rising"]
FALL = COLOURS["falling"]

_AXIS = {
    "automargin": True,
    "gridcolor": GRID,
    "linecolor": AXIS,
    "zeroline": False,
    "ticks": "",
    "title": {"font": {"size": 12, "color": MUTED}, "standoff": 10},
    "tickfont": {"size": 12, "color": INK},
}
# A plotly template as plain JSON (what `go.layout.Template(...).to_plotly_json()` gives).
TEMPLATE = {
    "layout": {
        "font": {"family": FONT, "size": 13, "color": INK},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "margin": {"l": 8, "r": 24, "t": 64, "b": 8, "pad": 4},
        "hoverlabel": {
            "bgcolor": "#ffffff",
            "bordercolor": AXIS,
            "font": {"family": FONT, "size": 13, "color": INK},
            "align": "left",
        },
        "legend": {"font": {"size": 12}, "bgcolor": "rgba(255,255,255,0)"},
        "xaxis": _AXIS,
        "yaxis": _AXIS,
        "separators": ".,",
    }
}


def _merge(target: dict, updates: Mapping) -> None:
    """Merge `updates` into `target` the way plotly's `update_layout` does: nested dicts are
    merged key by key, anything else replaces what was there."""
    for key, value in updates.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = _plain(value)


def _plain(value):
    """JSON-ready: NaN and NA become None, NumPy scalars and arrays plain numbers and lists,
    tuples lists (what plotly's JSON encoder would give, without its validation)."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple | np.ndarray | pd.Series):
        return [_plain(item) for item in value]
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, np.generic):
        return _plain(value.item())
    if value is pd.NA or value is pd.NaT:
        return None
    return value


class Figure:
    """A plotly figure as plain dicts: the `go.Figure` methods the charts use, without
    plotly's per-property validation, which cost most of a dashboard's time (100 ms of a
    portfolio page). `tests/changemaps/test_dashboard_charts.py` feeds every chart through
    `go.Figure(...)` so that the dicts stay valid figures."""

    def __init__(self) -> None:
        self.data: list[dict] = []
        self.layout: dict = {}

    def add_trace(self, kind: str, **props) -> None:
        # Like plotly, a property given as None is simply not set.
        self.data.append({"type": kind, **_plain(props)})

    def add_bar(self, **props) -> None:
        self.add_trace("bar", **props)

    def add_scatter(self, **props) -> None:
        self.add_trace("scatter", **props)

    def add_heatmap(self, **props) -> None:
        self.add_trace("heatmap", **props)

    def add_sankey(self, **props) -> None:
        self.add_trace("sankey", **props)

    def update_layout(self, **props) -> None:
        _merge(self.layout, props)


def esc(text) -> str:
    """Text for a Plotly label: Plotly reads labels as HTML, so names must not be markup."""
    return html.escape("" if text is None else str(text))


def rgba(colour: str, alpha: float) -> str:
    colour = colour.lstrip("#")
    red, green, blue = (int(colour[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({red},{green},{blue},{alpha})"


def title_layout(text: str, subtitle: str = "") -> dict:
    title = {
        "text": f"<b>{text}</b>",
        "x": 0,
        "xanchor": "left",
        "xref": "container",
        "y": 1,
        "yanchor": "top",
        "yref": "container",
        "pad": {"t": 6, "l": 2},
        "font": {"size": 16, "color": INK},
    }
    if subtitle:
        title["subtitle"] = {"text": subtitle, "font": {"size": 12, "color": MUTED}}
    return title


def finish(fig: Figure, *, title: str, subtitle: str = "", height: int = 360) -> dict:
    fig.update_layout(title=title_layout(title, subtitle), height=height)
    # A copy of the template per figure, so that no caller can change the shared one.
    layout = {"template": _plain(TEMPLATE), **fig.layout}
    return {"data": fig.data, "layout": layout}


def number(value) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return float(value)


def fmt(value, digits: int = 1) -> str:
    value = number(value)
    return "–" if value is None else f"{value:.{digits}f}"


def signed(value, digits: int = 1) -> str:
    value = number(value)
    return "–" if value is None else f"{value:+.{digits}f}"


def score_colourscale() -> list:
    stops = []
    for low, high, colour in SCORE_BANDS:
        stops += [[max(low - 0.5, 0) / 10, colour], [min(high + 0.5, 10) / 10, colour]]
    return stops


def short(text: str, limit: int) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def score_colourbar(title: str) -> dict:
    return {
        "title": {"text": title, "font": {"size": 12, "color": MUTED}},
        "tickvals": [2.25, 5.5, 7.5, 9.5],
        "ticktext": ["0–4", "5–6", "7–8", "9–10"],
        "thickness": 12,
        "len": 160,
        "lenmode": "pixels",
        "outlinewidth": 0,
        "y": 1,
        "yanchor": "top",
    }


def matrix_axes(fig: Figure, columns: Sequence[str], rows: Sequence[str]) -> None:
    fig.update_layout(
        xaxis={
            "tickmode": "array",
            "tickvals": list(range(len(columns))),
            "ticktext": list(columns),
            "side": "top",
            "showgrid": False,
            "title": {"text": "Pulse"},
        },
        yaxis={
            "tickmode": "array",
            "tickvals": list(range(len(rows))),
            "ticktext": list(rows),
            "autorange": "reversed",
            "showgrid": False,
            "title": {"text": ""},
        },
        plot_bgcolor="#f7f8fc",
        margin={"t": 112},
    )
