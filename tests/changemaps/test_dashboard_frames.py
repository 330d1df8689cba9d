"""The dashboards' pure shaping, rewritten for speed, against what it replaced: the movers in plain
Python against the pandas version, and the table cells built in Python against the template
that rendered them."""

import numpy as np
import pandas as pd
import pytest
from django.template import Context, Template

from changemaps.categories import ORDER
from changemaps.dashboards.frames import MOVED, movers_frame, to_call
from changemaps.dashboards.tables import Cell


def pandas_movers(history, accounts, waves, *, limit=10):
    """`movers_frame` as it was written with pandas (before 2026-11-23)."""
    columns = ["account_id", "account", "url", "previous_score", "weighted_score", "change",
               "previous_to_call", "to_call"]  # fmt: skip
    if waves.empty or history.empty:
        return pd.DataFrame(columns=columns)
    position = {wave_id: i for i, wave_id in enumerate(waves["wave_id"])}
    frame = history[history["account_id"].isin(accounts["account_id"])].copy()
    frame["position"] = frame["wave_id"].map(position)
    frame["to_call"] = [to_call(counts) for counts in frame["counts"]]
    latest = frame[frame["position"] == len(waves) - 1].set_index("account_id")
    earlier = frame[(frame["position"] < len(waves) - 1) & frame["weighted_score"].notna()]
    earlier = earlier.sort_values("position").groupby("account_id").tail(1).set_index("account_id")
    both = latest[["weighted_score", "to_call"]].merge(
        earlier[["weighted_score", "to_call"]], left_index=True, right_index=True,
        suffixes=("", "_before"),
    )  # fmt: skip
    both = both[both["weighted_score"].notna()]
    both["change"] = (both["weighted_score"] - both["weighted_score_before"]).round(2)
    both = both[both["change"].abs() >= MOVED]
    both = both.reindex(both["change"].abs().sort_values(ascending=False, kind="stable").index)
    both = both.head(limit).sort_values("change", ascending=False, kind="stable")
    named = accounts.set_index("account_id")
    return pd.DataFrame(
        {
            "account_id": both.index.to_numpy(),
            "account": named.loc[both.index, "account"].to_numpy(),
            "url": named.loc[both.index, "url"].to_numpy(),
            "previous_score": both["weighted_score_before"].to_numpy(),
            "weighted_score": both["weighted_score"].to_numpy(),
            "change": both["change"].to_numpy(),
            "previous_to_call": both["to_call_before"].astype(int).to_numpy(),
            "to_call": both["to_call"].astype(int).to_numpy(),
        },
        columns=columns,
    )


def random_history(seed: int):
    """Accounts over waves (not every account in every wave, not every wave shown), scores on a
    coarse grid so that changes tie, and some waves without a score."""
    rng = np.random.default_rng(seed)
    wave_ids = [int(w) for w in rng.permutation(np.arange(1, 9))]
    waves = pd.DataFrame({"wave_id": wave_ids[: rng.integers(1, 7)]})
    accounts = pd.DataFrame({"account_id": np.arange(1, 41)})
    accounts["account"] = [f"Account {i}" for i in accounts["account_id"]]
    accounts["url"] = [f"/accounts/{i}/" for i in accounts["account_id"]]
    rows = []
    for wave_id in wave_ids:
        for account_id in range(1, 46):  # 41–45: accounts not shown
            if rng.random() < 0.2:
                continue
            score = None if rng.random() < 0.15 else float(rng.integers(0, 41)) / 4
            counts = {key: int(rng.integers(0, 4)) for key in ORDER}
            rows.append((wave_id, account_id, 10, counts, None, score))
    history = pd.DataFrame(
        rows, columns=["wave_id", "account_id", "people", "counts", "previous_counts",
                       "weighted_score"],
    )  # fmt: skip
    return history.sample(frac=1, random_state=seed), accounts, waves


@pytest.mark.parametrize("seed", range(60))
def test_the_movers_are_what_the_pandas_version_found(seed):
    history, accounts, waves = random_history(seed)
    for limit in (3, 10, 100):
        got = movers_frame(history, accounts, waves, limit=limit)
        expected = pandas_movers(history, accounts, waves, limit=limit)
        assert got.to_dict("records") == expected.to_dict("records"), limit


def test_a_change_of_exactly_the_threshold_is_a_move():
    waves = pd.DataFrame({"wave_id": [1, 2]})
    accounts = pd.DataFrame({"account_id": [7], "account": ["Seven"], "url": ["/7/"]})
    history = pd.DataFrame(
        {"wave_id": [1, 2], "account_id": [7, 7], "counts": [{}, {}],
         "weighted_score": [6.1, 6.15]},
    )  # fmt: skip
    assert movers_frame(history, accounts, waves)["change"].tolist() == [0.05]


# The cell as `templates/changemaps/_table.html` rendered it before `Cell.as_td`.
TEMPLATE_CELL = Template(
    '<td{% if cell.numeric %} class="text-end text-nowrap"{% endif %}>{% if cell.category %}'
    '<span class="rp-cat rp-cat-{{ cell.category }}">{{ cell.text }}</span>{% elif cell.url %}'
    '<a href="{{ cell.url }}">{{ cell.text }}</a>{% elif cell.links %}{% for text, url in '
    'cell.links %}<a href="{{ url }}">{{ text }}</a>{% if not forloop.last %}, {% endif %}'
    "{% endfor %}{% else %}{{ cell.text }}{% endif %}{% if cell.note %}"
    '<div class="rp-cell-note">{{ cell.note }}</div>{% endif %}</td>'
)
MARKUP = "<b>\"Bob\" & 'Co'</b>"


@pytest.mark.parametrize(
    "cell",
    [
        Cell(),
        Cell(MARKUP),
        Cell("7.5", numeric=True),
        Cell(MARKUP, url='/x/?a=1&b="2"'),
        Cell("Falling", category="falling", note=MARKUP),
        Cell(links=[(MARKUP, "/a/?x=<1>"), ("Ann", "/b/")], note="2 people"),
        Cell(links=[("Solo", "/s/")]),
        Cell(MARKUP, url="/u/", links=[("ignored", "/i/")], numeric=True, note="Key person"),
    ],
)
def test_a_cell_renders_as_the_template_rendered_it_escaped(cell):
    assert cell.as_td() == TEMPLATE_CELL.render(Context({"cell": cell}))
    assert "<b>" not in cell.as_td()
