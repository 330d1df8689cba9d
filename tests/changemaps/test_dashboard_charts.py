"""The dashboards' pure parts on small DataFrames: figures, and the pandas behind them.

No database: these are the functions `changemaps.dashboards` and `changemaps.charts` promise
never touch the ORM.
"""

import json
from datetime import date

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from changemaps import charts
from changemaps.categories import COLOURS, LABELS, ORDER
from changemaps.dashboards.frames import (
    movers_frame,
    transitions,
    trend_frame,
    wave_labels,
    wave_scores,
)
from tests.changemaps.frames import thresholds

WAVES = pd.DataFrame(
    {
        "wave_id": [1, 2, 3],
        "wave_name": ["March 2026 pulse", "June 2026 pulse", "September 2026 pulse"],
        "opens_on": [date(2026, 3, 1), date(2026, 6, 1), date(2026, 9, 1)],
    }
)


def person(contact_id, name, category, *, prev=None, last=None, influence=3, key=False, **more):
    return {
        "contact_id": contact_id,
        "name": name,
        "category": category,
        "reason": more.pop("reason", f"Reason for {name}"),
        "prev": np.nan if prev is None else prev,
        "last": np.nan if last is None else last,
        "influence": np.nan if influence is None else influence,
        "key_person": key,
        "url": f"/contacts/{contact_id}/",
        **more,
    }


def traces_by_name(figure):
    return {trace.get("name"): trace for trace in figure["data"]}


def assert_readable(figure):
    """Every figure is plain JSON, with a title and labelled axes (where it has axes), and a
    valid plotly figure: the builders skip plotly's validation for speed, so plotly checks
    them here (it raises on an unknown property or a bad value) and must change nothing."""
    json.dumps(figure, allow_nan=False)
    assert json.loads(go.Figure(figure).to_json()) == figure
    assert figure["layout"]["title"]["text"]
    for axis in ("xaxis", "yaxis"):
        if axis in figure["layout"] and figure["data"][0]["type"] != "sankey":
            assert "title" in figure["layout"][axis]


# --- Figures ------------------------------------------------------------------------------------


def test_counts_colour_each_category_as_categories_py_does_beside_grey_previous_counts():
    figure = charts.category_counts_figure(
        {"falling": 3, "steady": 5}, {"falling": 1, "steady": 6},
        now_label="September 2026 pulse", previous_label="June 2026 pulse",
    )  # fmt: skip
    assert_readable(figure)
    before, now = figure["data"]
    assert now["y"] == [LABELS[key] for key in ORDER]
    assert now["marker"]["color"] == [COLOURS[key] for key in ORDER]
    assert now["x"][ORDER.index("falling")] == 3
    assert before["x"][ORDER.index("steady")] == 6
    assert before["marker"]["color"] == charts.style.PREVIOUS
    assert now["customdata"][ORDER.index("falling")] == "+2"


def test_the_scatter_draws_a_trace_per_category_in_its_colour_with_reasons_and_links():
    people = pd.DataFrame(
        [
            person(1, "Alice <b>Archer</b>", "falling", prev=9, last=5, influence=5, key=True,
                   reason="Fell from 9 to 5 since the June 2026 pulse"),
            person(2, "Bob Baker", "steady", prev=7, last=7),
            person(3, "Cleo Cole", "steady", prev=7, last=7, influence=None),
            person(4, "Nia New", "new", last=8),  # one score: not on the chart
        ]
    )  # fmt: skip
    figure = charts.change_scatter_figure(people)
    assert_readable(figure)
    points = [t for t in figure["data"] if t.get("showlegend") is False]
    by_name = {t["name"]: t for t in points}
    assert set(by_name) == {"Falling", "Steady"}
    falling = by_name["Falling"]
    assert falling["marker"]["color"] == COLOURS["falling"]
    url, name, _label, reason = falling["customdata"][0][:4]
    assert url == "/contacts/1/"
    assert name == "Alice &lt;b&gt;Archer&lt;/b&gt;"  # Plotly reads labels as HTML
    assert reason == "Fell from 9 to 5 since the June 2026 pulse"
    assert "%{customdata[3]}" in falling["hovertemplate"]  # the reason shows on hover
    assert falling["marker"]["size"] == [charts.marker_size(5)] == [24]
    assert falling["marker"]["line"]["color"] == [charts.style.INK]  # key person: dark ring
    # Two people on the same spot are spread apart, near it; unknown influence counts as 3.
    steady = by_name["Steady"]
    assert steady["x"][0] != steady["x"][1] or steady["y"][0] != steady["y"][1]
    assert all(abs(v - 7) <= 0.42 for v in steady["x"] + steady["y"])
    assert steady["marker"]["size"] == [charts.marker_size(3)] * 2
    # Legend entries: one per category shown, plus the key-person ring.
    legend = [t["name"] for t in figure["data"] if t.get("showlegend") is not False]
    assert legend == ["Falling", "Steady", "Key person"]
    # Rising and falling zones, and the diagonal.
    assert len(figure["layout"]["shapes"]) == 3


def test_dodging_is_deterministic_and_keeps_crowds_near_their_spot():
    xs, ys = charts.dodge([8.0] * 30 + [3.0], [8.0] * 30 + [2.0])
    assert (xs, ys) == charts.dodge([8.0] * 30 + [3.0], [8.0] * 30 + [2.0])
    assert len(set(zip(xs, ys, strict=True))) == 31
    assert max(abs(x - 8) for x in xs[:30]) <= 0.42
    assert (xs[-1], ys[-1]) == (3.0, 2.0)


def test_the_sankey_colours_nodes_by_category_and_names_people_on_each_flow():
    links = pd.DataFrame(
        {
            "stage": [0, 0],
            "source": ["steady", "steady"],
            "target": ["falling", "steady"],
            "people": [1, 2],
            "names": [["Alice"], ["Bob", "Cleo"]],
        }
    )
    figure = charts.transitions_figure(["Jun 2026", "Sep 2026"], links)
    assert_readable(figure)
    sankey = figure["data"][0]
    assert sankey["node"]["label"] == ["Steady", "Falling", "Steady"]
    assert sankey["node"]["color"] == [COLOURS["steady"], COLOURS["falling"], COLOURS["steady"]]
    assert sankey["link"]["value"] == [1, 2]
    assert sankey["link"]["customdata"][1][4] == "Bob, Cleo"
    assert [a["text"] for a in figure["layout"]["annotations"]] == [
        "<b>Jun 2026</b>",
        "<b>Sep 2026</b>",
    ]


def test_the_people_heat_map_has_a_row_per_person_and_a_cell_per_wave():
    rows = pd.DataFrame(
        [{"contact_id": 1, "name": "Alice", "category": "falling", "url": "/contacts/1/"}]
    )
    cells = pd.DataFrame(
        {
            "contact_id": [1, 1],
            "stage": [0, 2],
            "score": [9.0, np.nan],
            "answer": ["9", "no answer"],
            "category": ["new", "silent"],
            "reason": ["First answer", "Silent for 2 pulses"],
        }
    )
    figure = charts.people_heatmap_figure(rows, cells, wave_labels=["Mar", "Jun", "Sep"])
    assert_readable(figure)
    heatmap = figure["data"][0]
    assert heatmap["z"] == [[9.0, None, None]]
    assert heatmap["customdata"][0][0][0] == "/contacts/1/"
    assert heatmap["customdata"][0][2][3:] == ["no answer", "Silent", "Silent for 2 pulses"]
    assert COLOURS["falling"] in figure["layout"]["yaxis"]["ticktext"][0]


def test_movers_and_mix_bars_link_to_the_account_change_map():
    movers = pd.DataFrame(
        {
            "account_id": [1, 2],
            "account": ["Up Ltd", "Down plc"],
            "url": ["/accounts/1/changemap/", "/accounts/2/changemap/"],
            "previous_score": [6.0, 8.0],
            "weighted_score": [7.5, 7.0],
            "change": [1.5, -1.0],
            "previous_to_call": [3, 0],
            "to_call": [1, 2],
        }
    )
    figure = charts.movers_figure(movers)
    assert_readable(figure)
    bars = figure["data"][0]
    assert bars["y"] == ["Down plc", "Up Ltd"]
    assert bars["marker"]["color"] == [COLOURS["falling"], COLOURS["rising"]]
    assert bars["customdata"][1][0] == "/accounts/1/changemap/"

    mix = pd.DataFrame(
        [{"account": "Up Ltd", "url": "/accounts/1/changemap/", **dict.fromkeys(ORDER, 0),
          "falling": 2, "steady": 4}]
    )  # fmt: skip
    figure = charts.account_mix_figure(mix)
    assert_readable(figure)
    assert [t["name"] for t in figure["data"]] == ["Falling", "Steady"]
    assert [t["marker"]["color"] for t in figure["data"]] == [COLOURS["falling"], COLOURS["steady"]]
    assert figure["data"][0]["customdata"][0][0] == "/accounts/1/changemap/"


def test_the_accounts_heat_map_has_a_row_per_account_and_no_score_where_none():
    scores = pd.DataFrame(
        {
            "account": ["Up Ltd", "Down & Co"],
            "url": ["/accounts/1/changemap/", "/accounts/2/changemap/"],
            "Mar": [7.25, np.nan],
            "Jun": [8.0, 5.5],
        }
    )
    figure = charts.accounts_heatmap_figure(scores, wave_labels=["Mar", "Jun"])
    assert_readable(figure)
    cells = figure["data"][0]
    assert cells["z"] == [[7.25, 8.0], [None, 5.5]]
    assert cells["customdata"][1][0] == ["/accounts/2/changemap/", "Down &amp; Co", "Mar"]
    assert figure["layout"]["yaxis"]["ticktext"] == ["Up Ltd", "Down &amp; Co"]


def test_figures_do_not_share_the_template():
    trend = pd.DataFrame(
        {"wave_name": ["M"], "opens_on": [date(2026, 3, 1)], "weighted_score": [7.0],
         "participation": [0.5], "people": [2]}
    )  # fmt: skip
    first = charts.score_trend_figure(trend)
    first["layout"]["template"]["layout"]["font"]["size"] = 99
    assert charts.score_trend_figure(trend)["layout"]["template"]["layout"]["font"]["size"] == 13


def test_the_trend_plots_one_point_per_wave():
    trend = pd.DataFrame(
        {
            "wave_name": ["March 2026 pulse", "June 2026 pulse"],
            "opens_on": [date(2026, 3, 1), date(2026, 6, 1)],
            "weighted_score": [7.25, None],
            "participation": [0.5, None],
            "people": [4, 4],
        }
    )
    figure = charts.score_trend_figure(trend)
    assert_readable(figure)
    line = figure["data"][0]
    assert line["x"] == ["2026-03-01", "2026-06-01"]
    assert line["y"] == [7.25, None]
    assert line["customdata"][0] == ["March 2026 pulse", "50%", 4]


# --- Frames -------------------------------------------------------------------------------------


def snapshot(wave_id, contact_id, category, *, n, last, streak=0, previous="", name="Alice"):
    return {
        "wave_id": wave_id, "contact_id": contact_id, "name": name, "category": category,
        "previous_category": previous, "reason": f"{category} at {wave_id}", "n": n,
        "last": last, "silent_streak": streak,
    }  # fmt: skip


def test_wave_scores_are_read_back_from_the_snapshots_running_counts():
    people = pd.DataFrame(
        [
            snapshot(1, 7, "new", n=1, last=9),
            snapshot(2, 7, "steady", n=2, last=8),
            snapshot(3, 7, "steady", n=2, last=8, streak=1),  # asked, no answer
        ]
    )
    scores = wave_scores(people, WAVES)
    assert scores["score"].tolist()[:2] == [9.0, 8.0]
    assert np.isnan(scores["score"].iloc[2])
    assert scores["answer"].tolist() == ["9", "8", "no answer"]
    assert scores["stage"].tolist() == [0, 1, 2]


def test_transitions_follow_people_from_wave_to_wave():
    people = pd.DataFrame(
        [
            snapshot(1, 7, "new", n=1, last=9, name="Alice"),
            snapshot(2, 7, "steady", n=2, last=9, name="Alice"),
            snapshot(3, 7, "falling", n=3, last=6, name="Alice"),
            snapshot(2, 8, "new", n=1, last=8, name="Bob"),
            snapshot(3, 8, "steady", n=2, last=8, name="Bob"),
        ]
    )
    stages, links = transitions(people, WAVES)
    assert stages == ["Mar 2026", "Jun 2026", "Sep 2026"]
    assert links.to_dict("records") == [
        {"stage": 0, "source": "new", "target": "steady", "people": 1, "names": ["Alice"]},
        {"stage": 1, "source": "new", "target": "steady", "people": 1, "names": ["Bob"]},
        {"stage": 1, "source": "steady", "target": "falling", "people": 1, "names": ["Alice"]},
    ]


def test_with_one_wave_of_snapshots_the_previous_categories_stand_in():
    people = pd.DataFrame(
        [
            snapshot(3, 7, "falling", n=3, last=6, previous="steady"),
            snapshot(3, 8, "new", n=1, last=8, previous="", name="Bob"),
        ]
    )
    stages, links = transitions(people, WAVES)
    assert stages == ["Jun 2026", "Sep 2026"]
    assert links[["source", "target", "people"]].to_dict("records") == [
        {"source": "steady", "target": "falling", "people": 1}
    ]


def history_row(wave_id, account_id, score, *, weight=3.0, counts=None):
    counts = dict.fromkeys(ORDER, 0) | (counts or {})
    return {
        "wave_id": wave_id, "account_id": account_id, "people": sum(counts.values()),
        "counts": counts, "previous_counts": counts, "weighted_score": score, "weight": weight,
        "participation": 0.5, "answered": 1, "invited": 2,
    }  # fmt: skip


def test_the_trend_combines_accounts_weighted_by_their_weights():
    history = pd.DataFrame(
        [history_row(1, 10, 8.0, weight=3.0), history_row(1, 11, 6.0, weight=1.0),
         history_row(2, 10, 7.0, weight=2.0)]
    )  # fmt: skip
    trend = trend_frame(history, WAVES, thresholds=thresholds())
    assert trend["wave_id"].tolist() == [1, 2]
    assert trend["weighted_score"].tolist() == [7.5, 7.0]
    assert trend["participation"].tolist() == [0.5, 0.5]


def test_movers_compare_each_account_with_its_own_previous_wave():
    accounts = pd.DataFrame(
        {"account_id": [10, 11, 12], "account": ["Up", "Down", "Flat"],
         "url": ["/a/10/", "/a/11/", "/a/12/"]}
    )  # fmt: skip
    history = pd.DataFrame(
        [
            history_row(1, 10, 6.0),
            history_row(3, 10, 7.5, counts={"falling": 1}),  # no row in wave 2: wave 1 it is
            history_row(2, 11, 8.0, counts={"falling": 2}),
            history_row(3, 11, 7.0),
            history_row(2, 12, 7.0),
            history_row(3, 12, 7.02),  # too small a change to count
        ]
    )
    movers = movers_frame(history, accounts, WAVES)
    assert movers["account"].tolist() == ["Up", "Down"]
    assert movers["change"].tolist() == [1.5, -1.0]
    assert movers[["previous_to_call", "to_call"]].to_numpy().tolist() == [[0, 1], [2, 0]]


def test_wave_labels_fall_back_to_names_when_two_share_a_month():
    assert wave_labels(WAVES) == ["Mar 2026", "Jun 2026", "Sep 2026"]
    twice = WAVES.assign(opens_on=[date(2026, 3, 1), date(2026, 3, 20), date(2026, 9, 1)])
    assert wave_labels(twice) == WAVES["wave_name"].tolist()


@pytest.mark.parametrize(("colour", "alpha", "expected"), [("#E69F00", 0.5, "rgba(230,159,0,0.5)")])
def test_rgba(colour, alpha, expected):
    assert charts.rgba(colour, alpha) == expected
