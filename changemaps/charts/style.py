"""The charts' shared look and helpers: one Plotly template, colours, labels and numbers."""

import html
import json
import math
from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

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
TEMPLATE = go.layout.Template(
    layout={
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
)


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


def finish(fig: go.Figure, *, title: str, subtitle: str = "", height: int = 360) -> dict:
    fig.update_layout(template=TEMPLATE, title=title_layout(title, subtitle), height=height)
    # Through JSON once: NaN becomes null and NumPy values plain numbers.
    return json.loads(fig.to_json())


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


def matrix_axes(fig: go.Figure, columns: Sequence[str], rows: Sequence[str]) -> None:
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
