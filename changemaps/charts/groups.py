"""Charts of groups of accounts: counts per category, the score's trend, movers, mixes."""

from collections.abc import Mapping, Sequence

import pandas as pd

from changemaps.categories import COLOURS, LABELS, ORDER
from changemaps.charts.style import (
    AXIS,
    FALL,
    INK,
    MUTED,
    PREVIOUS,
    RISE,
    Figure,
    esc,
    finish,
    fmt,
    matrix_axes,
    number,
    score_colourbar,
    score_colourscale,
    signed,
)


def category_counts_figure(
    counts: Mapping[str, int], previous: Mapping[str, int], *, now_label: str, previous_label: str
) -> dict:
    """People per category now (in the category's colour) beside the same people at the wave
    before (grey), one row per category in display order."""
    labels = [LABELS[key] for key in ORDER]
    now = [int(counts.get(key, 0)) for key in ORDER]
    before = [int(previous.get(key, 0)) for key in ORDER]
    changes = [
        signed(a - b, 0) if a != b else "no change" for a, b in zip(now, before, strict=True)
    ]
    fig = Figure()
    fig.add_bar(
        name=previous_label,
        y=labels,
        x=before,
        orientation="h",
        marker={"color": PREVIOUS},
        text=[str(value) for value in before],
        textposition="outside",
        textfont={"color": MUTED, "size": 11},
        cliponaxis=False,
        hovertemplate="<b>%{y}</b><br>%{x} at the previous pulse<extra></extra>",
    )
    fig.add_bar(
        name=now_label,
        y=labels,
        x=now,
        orientation="h",
        marker={"color": [COLOURS[key] for key in ORDER]},
        text=[str(value) for value in now],
        textposition="outside",
        textfont={"color": INK, "size": 12},
        cliponaxis=False,
        customdata=changes,
        hovertemplate="<b>%{y}</b><br>%{x} now (%{customdata})<extra></extra>",
    )
    fig.update_layout(
        barmode="group",
        bargap=0.28,
        bargroupgap=0.06,
        showlegend=False,
        yaxis={
            "type": "category",
            "autorange": "reversed",
            "title": {"text": "Category"},
            "showgrid": False,
        },
        xaxis={"title": {"text": "People"}, "rangemode": "tozero", "tickformat": ",d"},
    )
    return finish(
        fig,
        title="People per category",
        subtitle=f"Colour: {esc(now_label)} · grey: the same people at {esc(previous_label)}",
        height=400,
    )


def score_trend_figure(trend: pd.DataFrame) -> dict:
    """The weighted score per wave. `trend`: opens_on, wave_name, weighted_score, participation,
    people (one row per wave, oldest first)."""
    trend = trend.reset_index(drop=True)
    dates = [pd.Timestamp(day).strftime("%Y-%m-%d") for day in trend["opens_on"]]
    scores = [number(value) for value in trend["weighted_score"]]
    customdata = [
        [esc(name), "–" if number(share) is None else f"{share:.0%}", int(people)]
        for name, share, people in zip(
            trend["wave_name"], trend["participation"], trend["people"], strict=True
        )
    ]
    fig = Figure()
    fig.add_scatter(
        x=dates,
        y=scores,
        mode="lines+markers+text",
        line={"color": "#4338ca", "width": 3, "shape": "linear"},
        marker={"size": 9, "color": "#4338ca", "line": {"color": "#ffffff", "width": 2}},
        text=[fmt(score) if score is not None else "" for score in scores],
        textposition="top center",
        textfont={"size": 11, "color": MUTED},
        customdata=customdata,
        connectgaps=True,
        hovertemplate=(
            "<b>%{customdata[0]}</b><br>Weighted score %{y:.2f}<br>"
            "Participation %{customdata[1]} · %{customdata[2]} people<extra></extra>"
        ),
        showlegend=False,
    )
    fig.update_layout(
        xaxis={
            "title": {"text": "Pulse (opening date)"},
            "type": "date",
            "tickformat": "%b<br>%Y",
            "tickangle": 0,
            "showgrid": False,
            # A tick per pulse, or per second pulse (counting back from the latest) when many.
            "tickmode": "array",
            "tickvals": dates[::-1][:: 1 if len(dates) <= 8 else 2][::-1],
        },
        yaxis={"title": {"text": "Weighted score (0–10)"}, "range": [0, 10.9], "dtick": 2},
    )
    return finish(
        fig,
        title="Weighted score over time",
        subtitle="Mean latest score weighted by influence, of people with a current view",
    )


def _padded_range(values, share: float = 0.3) -> list[float]:
    """An axis range from zero to the values with room for the labels outside the bars."""
    numbers = [number(v) for v in values]
    numbers = [v for v in numbers if v is not None] or [0.0]
    low, high = min(0.0, *numbers), max(0.0, *numbers)
    room = (high - low or 1) * share
    return [low - room if low < 0 else 0, high + room if high > 0 else 0]


def movers_figure(movers: pd.DataFrame) -> dict:
    """Accounts whose weighted score changed most since their previous wave. `movers`: account,
    url, previous_score, weighted_score, change, previous_to_call, to_call (biggest rise first)."""
    movers = movers.sort_values("change", kind="stable").reset_index(drop=True)
    fig = Figure()
    fig.add_bar(
        y=[esc(name) for name in movers["account"]],
        x=[number(value) for value in movers["change"]],
        orientation="h",
        marker={"color": [RISE if change > 0 else FALL for change in movers["change"]]},
        text=[signed(value) for value in movers["change"]],
        textposition="outside",
        cliponaxis=False,
        customdata=[
            [url, fmt(before), fmt(after), int(called_before), int(called)]
            for url, before, after, called_before, called in zip(
                movers["url"],
                movers["previous_score"],
                movers["weighted_score"],
                movers["previous_to_call"],
                movers["to_call"],
                strict=True,
            )
        ],
        hovertemplate=(
            "<b>%{y}</b><br>Weighted score %{customdata[1]} → %{customdata[2]} (%{text})<br>"
            "To call: %{customdata[3]} → %{customdata[4]}<br><i>Click for its change map</i>"
            "<extra></extra>"
        ),
        showlegend=False,
    )
    fig.update_layout(
        yaxis={"type": "category", "title": {"text": ""}, "showgrid": False},
        xaxis={
            "title": {"text": "Change in weighted score (points)"},
            "zeroline": True,
            "zerolinecolor": AXIS,
            "zerolinewidth": 1,
            "range": _padded_range(movers["change"]),
        },
        bargap=0.35,
    )
    return finish(
        fig,
        title="Accounts that moved most",
        subtitle="Weighted score now against each account's previous pulse",
        height=max(200, 120 + 34 * len(movers)),
    )


def account_mix_figure(mix: pd.DataFrame) -> dict:
    """People per category, one stacked bar per account. `mix`: account, url, and one column of
    counts per category key (accounts in the order given, top first)."""
    mix = mix.reset_index(drop=True)
    names = [esc(name) for name in mix["account"]]
    fig = Figure()
    for key in ORDER:
        counts = [int(value) for value in mix[key]]
        if not any(counts):
            continue
        fig.add_bar(
            name=LABELS[key],
            y=names,
            x=counts,
            orientation="h",
            marker={"color": COLOURS[key], "line": {"color": "#ffffff", "width": 1}},
            customdata=[[url, LABELS[key]] for url in mix["url"]],
            hovertemplate="<b>%{y}</b><br>%{customdata[1]}: %{x}<extra></extra>",
        )
    fig.update_layout(
        barmode="stack",
        bargap=0.3,
        yaxis={
            "type": "category",
            "autorange": "reversed",
            "title": {"text": ""},
            "showgrid": False,
        },
        xaxis={"title": {"text": "People"}, "tickformat": ",d"},
        legend={
            "orientation": "v",
            "x": 1.02,
            "xanchor": "left",
            "y": 1,
            "yanchor": "top",
            "traceorder": "normal",
        },
        margin={"t": 72},
    )
    return finish(
        fig,
        title="Account by account",
        subtitle="People per category; accounts with the most people to call first",
        height=max(240, 130 + 30 * len(mix)),
    )


def accounts_heatmap_figure(scores: pd.DataFrame, *, wave_labels: Sequence[str]) -> dict:
    """Weighted score per account and wave. `scores`: one row per account (account, url) and
    one column per wave label, in `wave_labels` order, NaN where there is no score."""
    scores = scores.reset_index(drop=True)
    z = [[number(value) for value in row] for row in scores[list(wave_labels)].to_numpy()]
    customdata = [
        [[url, esc(name), label] for label in wave_labels]
        for url, name in zip(scores["url"], scores["account"], strict=True)
    ]
    fig = Figure()
    fig.add_heatmap(
        z=z,
        x=list(range(len(wave_labels))),
        y=list(range(len(scores))),
        zmin=0,
        zmax=10,
        colorscale=score_colourscale(),
        text=[[fmt(value) if value is not None else "" for value in row] for row in z],
        texttemplate="%{text}",
        textfont={"size": 11, "color": INK},
        customdata=customdata,
        xgap=2,
        ygap=2,
        hoverongaps=False,
        hovertemplate="<b>%{customdata[1]}</b><br>%{customdata[2]}: %{text}<extra></extra>",
        colorbar=score_colourbar("Weighted<br>score"),
    )
    matrix_axes(fig, [esc(label) for label in wave_labels], [esc(n) for n in scores["account"]])
    return finish(
        fig,
        title="Weighted score, account by account",
        subtitle="One row per account, one column per pulse; click a row for its change map",
        height=max(200, 150 + 28 * len(scores)),
    )
