"""Charts of people: who is moving (scatter), moves between categories (Sankey), scores per
person and wave (heat map)."""

import math
from collections.abc import Sequence

import pandas as pd

from changemaps.categories import COLOURS, LABELS, ORDER
from changemaps.charts.style import (
    FALL,
    FONT,
    INK,
    MUTED,
    RISE,
    Figure,
    esc,
    finish,
    matrix_axes,
    number,
    rgba,
    score_colourbar,
    score_colourscale,
    short,
)


def dodge(
    xs: Sequence[float], ys: Sequence[float], *, spread: float = 0.14, reach: float = 0.42
) -> tuple[list[float], list[float]]:
    """Spread people who share a (previous, latest) pair on a small sunflower around it, so
    that every point stays visible and within `reach` of its true position (crowded pairs
    pack tighter)."""
    sizes: dict[tuple[float, float], int] = {}
    for pair in zip(xs, ys, strict=True):
        sizes[pair] = sizes.get(pair, 0) + 1
    seen: dict[tuple[float, float], int] = {}
    out_x, out_y = [], []
    golden = math.pi * (3 - math.sqrt(5))
    for pair in zip(xs, ys, strict=True):
        k = seen.get(pair, 0)
        seen[pair] = k + 1
        step = min(spread, reach / math.sqrt(max(sizes[pair] - 1, 1)))
        radius = step * math.sqrt(k)
        out_x.append(round(pair[0] + radius * math.cos(k * golden), 3))
        out_y.append(round(pair[1] + radius * math.sin(k * golden), 3))
    return out_x, out_y


def _legend_entry(fig: Figure, name: str, colour: str, *, group: str = "", line: str = "") -> None:
    """A legend item of one even-sized marker: the points' own vary in size and outline."""
    fig.add_scatter(
        x=[None],
        y=[None],
        mode="markers",
        name=name,
        legendgroup=group or None,
        marker={"color": colour, "size": 11, "line": {"color": line or colour, "width": 2}},
        hoverinfo="skip",
    )


def marker_size(influence, *, crowd: int = 0) -> float:
    """Diameter in pixels by influence (1–5; unknown counts as 3, as in the weighted score),
    smaller when more than 60 people share the chart."""
    influence = number(influence)
    scale = 1.0 if crowd <= 60 else max(0.7, math.sqrt(60 / crowd))
    return round((8 + 4 * ((influence if influence is not None else 3) - 1)) * scale, 1)


def change_scatter_figure(
    people: pd.DataFrame,
    *,
    rising_delta: int = 2,
    falling_delta: int = -2,
    show_account: bool = False,
) -> dict:
    """Each person as a point: previous score across, latest score up, coloured by category,
    sized by influence, outlined when a key person. Above the diagonal is better than last time.

    `people`: contact_id, name, category, reason, prev, last, influence, key_person, url (and
    account with `show_account`). People without two scores are left out (the page lists them).
    """
    placed = people[people["prev"].notna() & people["last"].notna()]
    placed = placed.sort_values("contact_id", kind="stable")
    xs, ys = dodge(placed["prev"].astype(float).tolist(), placed["last"].astype(float).tolist())
    placed = placed.assign(x=xs, y=ys)
    crowd = len(placed)
    placed = placed.assign(size=[marker_size(value, crowd=crowd) for value in placed["influence"]])
    fig = Figure()
    for key in ORDER:
        # The biggest first, so that nobody small hides behind someone influential.
        group = placed[placed["category"] == key].sort_values(
            "size", ascending=False, kind="stable"
        )
        if group.empty:
            continue
        accounts = group["account"] if show_account else [""] * len(group)
        _legend_entry(fig, LABELS[key], COLOURS[key], group=key)
        fig.add_scatter(
            x=group["x"].tolist(),
            y=group["y"].tolist(),
            mode="markers",
            name=LABELS[key],
            legendgroup=key,
            showlegend=False,
            marker={
                "color": COLOURS[key],
                "size": group["size"].tolist(),
                "opacity": 0.92,
                "line": {
                    "color": [
                        INK if key_person else "#ffffff" for key_person in group["key_person"]
                    ],
                    "width": [2 if key_person else 1 for key_person in group["key_person"]],
                },
            },
            customdata=[
                [
                    url,
                    esc(name),
                    LABELS[key],
                    esc(reason),
                    int(prev),
                    int(last),
                    f" · {esc(account)}" if account else "",
                    "Key person · " if key_person else "",
                ]
                for url, name, reason, prev, last, account, key_person in zip(
                    group["url"],
                    group["name"],
                    group["reason"],
                    group["prev"],
                    group["last"],
                    accounts,
                    group["key_person"],
                    strict=True,
                )
            ],
            hovertemplate=(
                "<b>%{customdata[1]}</b>%{customdata[6]}<br>"
                "%{customdata[7]}%{customdata[2]}: %{customdata[4]} → %{customdata[5]}<br>"
                "%{customdata[3]}<extra></extra>"
            ),
        )
    if placed["key_person"].any():
        _legend_entry(fig, "Key person", "#ffffff", line=INK)
    low, high = -0.5, 10.5
    rise = rgba(RISE, 0.07)
    fall = rgba(FALL, 0.09)
    shapes = [
        # Above y = x + rising_delta: rose by the rising threshold or more.
        {
            "type": "path",
            "layer": "below",
            "line": {"width": 0},
            "fillcolor": rise,
            "path": f"M {low},{low + rising_delta} L {high - rising_delta},{high} L {low},{high} Z",
        },
        # Below y = x + falling_delta: fell by the falling threshold or more.
        {
            "type": "path",
            "layer": "below",
            "line": {"width": 0},
            "fillcolor": fall,
            "path": f"M {low - falling_delta},{low} L {high},{high + falling_delta} L {high},{low} Z",
        },
        {
            "type": "line",
            "layer": "below",
            "x0": low,
            "y0": low,
            "x1": high,
            "y1": high,
            "line": {"color": "#9aa0b8", "width": 1.5, "dash": "dash"},
        },
    ]
    annotations = [
        {
            "x": low + 0.2,
            "y": high - 0.3,
            "xanchor": "left",
            "yanchor": "top",
            "showarrow": False,
            "text": "<b>▲ Rising</b><br>higher than last time",
            "align": "left",
            "font": {"color": "#00704f", "size": 12},
        },
        {
            "x": high - 0.2,
            "y": low + 0.3,
            "xanchor": "right",
            "yanchor": "bottom",
            "showarrow": False,
            "text": "<b>▼ Falling</b><br>lower than last time",
            "align": "right",
            "font": {"color": "#9a5b00", "size": 12},
        },
        {
            "x": low + 0.15,
            "y": low + 1.5,
            "xanchor": "left",
            "yanchor": "bottom",
            "showarrow": False,
            "text": "- - same as last time",
            "font": {"color": MUTED, "size": 11},
        },
    ]
    axis = {
        "range": [low, high],
        "dtick": 1,
        "showgrid": True,
        "constrain": "domain",
        "fixedrange": False,
    }
    fig.update_layout(
        shapes=shapes,
        annotations=annotations,
        xaxis={**axis, "title": {"text": "Previous score (0–10)"}},
        yaxis={**axis, "title": {"text": "Latest score (0–10)"}},
        legend={
            "orientation": "v",
            "x": 1.02,
            "xanchor": "left",
            "y": 1,
            "yanchor": "top",
            "itemsizing": "constant",
            "title": {"text": ""},
        },
        margin={"t": 80},
        hovermode="closest",
    )
    return finish(
        fig,
        title="Who is moving",
        subtitle="Previous score against latest · size: influence · dark ring: key person",
        height=680,
    )


def transitions_figure(stages: Sequence[str], links: pd.DataFrame) -> dict:
    """How people moved between categories from wave to wave, as a Sankey diagram.

    `stages`: the waves' labels, oldest first. `links`: stage (0-based index of the wave the
    flow leaves), source and target (category keys), people (count), names (list of names).
    """
    count = len(stages)
    nodes: dict[tuple[int, str], int] = {}
    size: dict[tuple[int, str], int] = {}
    for stage, source, target, people in links[["stage", "source", "target", "people"]].itertuples(
        index=False
    ):
        size[(stage, source)] = size.get((stage, source), 0) + int(people)
        size[(stage + 1, target)] = size.get((stage + 1, target), 0) + int(people)
    # Lay out each wave's column in category order so that a category sits at the same height.
    xs, ys, labels, colours = [], [], [], []
    for stage in range(count):
        keys = [key for key in ORDER if (stage, key) in size]
        total = sum(size[(stage, key)] for key in keys) or 1
        gap = 0.02
        # Every node gets room for its label, however few people it holds.
        shares = [max(size[(stage, key)] / total, 0.045) for key in keys]
        scale = (1 - gap * max(len(keys) - 1, 0)) / sum(shares)
        top = 0.0
        for key, share in zip(keys, shares, strict=True):
            share *= scale
            nodes[(stage, key)] = len(labels)
            labels.append(LABELS[key])
            colours.append(COLOURS[key])
            xs.append(min(max(stage / max(count - 1, 1), 0.001), 0.999))
            ys.append(min(max(top + share / 2, 0.001), 0.999))
            top += share + gap
    sources, targets, values, link_colours, customdata = [], [], [], [], []
    for stage, source, target, people, names in links[
        ["stage", "source", "target", "people", "names"]
    ].itertuples(index=False):
        sources.append(nodes[(stage, source)])
        targets.append(nodes[(stage + 1, target)])
        values.append(int(people))
        link_colours.append(rgba(COLOURS[target], 0.35))
        shown = ", ".join(esc(name) for name in names[:8])
        more = f" and {len(names) - 8} more" if len(names) > 8 else ""
        customdata.append(
            [
                esc(stages[stage]),
                esc(stages[stage + 1]),
                LABELS[source],
                LABELS[target],
                shown + more,
            ]
        )
    fig = Figure()
    fig.add_sankey(
        arrangement="snap",
        node={
            "label": labels,
            "color": colours,
            "x": xs,
            "y": ys,
            "pad": 14,
            "thickness": 16,
            "line": {"color": "#ffffff", "width": 1},
            "hovertemplate": "<b>%{label}</b>: %{value} people<extra></extra>",
        },
        link={
            "source": sources,
            "target": targets,
            "value": values,
            "color": link_colours,
            "customdata": customdata,
            "hovertemplate": (
                "<b>%{customdata[2]} → %{customdata[3]}</b>: %{value} people<br>"
                "%{customdata[0]} → %{customdata[1]}<br>%{customdata[4]}<extra></extra>"
            ),
        },
        textfont={"size": 12, "color": INK, "family": FONT},
        domain={"x": [0, 1], "y": [0, 0.9]},
    )
    fig.update_layout(
        annotations=[
            {
                "x": stage / max(count - 1, 1),
                "y": 0.97,
                "xref": "paper",
                "yref": "paper",
                "xanchor": "left" if stage == 0 else "right" if stage == count - 1 else "center",
                "showarrow": False,
                "text": f"<b>{esc(label)}</b>",
                "font": {"size": 12, "color": MUTED},
            }
            for stage, label in enumerate(stages)
        ],
        margin={"t": 72, "l": 8, "r": 8},
    )
    return finish(
        fig,
        title="Moves between categories",
        subtitle="Each band is a group of people moving from one category to the next pulse's",
        height=460,
    )


def people_heatmap_figure(
    rows: pd.DataFrame, cells: pd.DataFrame, *, wave_labels: Sequence[str]
) -> dict:
    """Scores per person and wave. `rows`: contact_id, name, category, url — one per person, in
    display order. `cells`: contact_id, stage (index into `wave_labels`), score (NaN: none),
    answer ("9", "no answer"…), category and reason at that wave."""
    rows = rows.reset_index(drop=True)
    position = {contact_id: i for i, contact_id in enumerate(rows["contact_id"])}
    width = len(wave_labels)
    z = [[None] * width for _ in range(len(rows))]
    text = [[""] * width for _ in range(len(rows))]
    customdata = [
        [[url, esc(name), esc(label), "Not on the map yet", "", ""] for label in wave_labels]
        for url, name in zip(rows["url"], rows["name"], strict=True)
    ]
    for contact_id, stage, score, answer, category, reason in cells[
        ["contact_id", "stage", "score", "answer", "category", "reason"]
    ].itertuples(index=False):
        row = position.get(contact_id)
        if row is None:
            continue
        z[row][stage] = number(score)
        text[row][stage] = "" if number(score) is None else f"{score:.0f}"
        customdata[row][stage][3:] = [esc(answer), LABELS.get(category, ""), esc(reason)]
    ticks = [
        f"<span style='color:{COLOURS[category]}'>●</span> {esc(short(name, 26))}"
        for name, category in zip(rows["name"], rows["category"], strict=True)
    ]
    fig = Figure()
    fig.add_heatmap(
        z=z,
        x=list(range(width)),
        y=list(range(len(rows))),
        zmin=0,
        zmax=10,
        colorscale=score_colourscale(),
        text=text,
        texttemplate="%{text}",
        textfont={"size": 11, "color": INK},
        customdata=customdata,
        xgap=2,
        ygap=2,
        hoverongaps=True,
        hovertemplate=(
            "<b>%{customdata[1]}</b> · %{customdata[2]}<br>Score: %{customdata[3]}<br>"
            "%{customdata[4]} — %{customdata[5]}<extra></extra>"
        ),
        colorbar=score_colourbar("Score"),
    )
    matrix_axes(fig, [esc(label) for label in wave_labels], ticks)
    return finish(
        fig,
        title="Scores, person by person",
        subtitle="One row per person (dot: category now), one column per pulse; empty: no answer",
        height=max(200, 160 + 26 * len(rows)),
    )
