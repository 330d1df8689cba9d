"""Plotly figures for the change-map dashboards: plain rows or DataFrames in, figure dicts out.

Pure: nothing here touches the ORM, so every figure can be built and checked from a small
DataFrame. The dicts are JSON-ready and drawn by static/changemaps/dashboards.js with
`Plotly.newPlot`. Conventions the script relies on:

- a point that stands for a person or an account carries its page's URL as `customdata[0]`
  (a click opens it);
- colours come from `changemaps.categories`, one per category on every chart;
- names and reasons are HTML-escaped, because Plotly renders its labels as (a subset of) HTML.
"""

from changemaps.charts.groups import (
    account_mix_figure,
    accounts_heatmap_figure,
    category_counts_figure,
    movers_figure,
    score_trend_figure,
)
from changemaps.charts.people import (
    change_scatter_figure,
    dodge,
    marker_size,
    people_heatmap_figure,
    transitions_figure,
)
from changemaps.charts.style import TEMPLATE, esc, fmt, rgba, signed

__all__ = [
    "TEMPLATE",
    "account_mix_figure",
    "accounts_heatmap_figure",
    "category_counts_figure",
    "change_scatter_figure",
    "dodge",
    "esc",
    "fmt",
    "marker_size",
    "movers_figure",
    "people_heatmap_figure",
    "rgba",
    "score_trend_figure",
    "signed",
    "transitions_figure",
]
