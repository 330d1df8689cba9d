"""The pages: which KPIs, charts and tables the portfolio, an account, a territory and a segment
show, built from one `DashboardData` each."""

import pandas as pd

from changemaps import charts
from changemaps.categories import LABELS, ORDER
from changemaps.dashboard_selectors import DashboardData
from changemaps.dashboards.frames import (
    NO_ANSWER,
    NOT_ASKED,
    by_category,
    combined,
    mix_frame,
    movers_frame,
    to_call,
    totals_trend,
    transitions,
    trend_frame,
    wave_labels,
    wave_scores,
)
from changemaps.dashboards.tables import (
    Cell,
    Chart,
    Dashboard,
    Kpi,
    Table,
    call_list_table,
    counts_table,
    groups_table,
    person_cell,
    score_text,
    trend_table,
)
from changemaps.rules import Thresholds

ACCOUNTS_SHOWN = 25


def _change(now, before, *, higher_is_better: bool) -> dict:
    """Which way a number went and whether that is good news, for a KPI's note."""
    if now is None or before is None or now == before:
        return {}
    up = now > before
    return {
        "direction": "up" if up else "down",
        "tone": "good" if up == higher_is_better else "bad",
    }


def _kpis(latest: dict, previous: dict | None, *, previous_wave: str) -> list[Kpi]:
    previous = previous or {}
    score, before = latest["weighted_score"], previous.get("weighted_score")
    share, share_before = latest["participation"], previous.get("participation")
    called, called_before = latest["to_call"], previous.get("to_call")
    since = f"since {previous_wave}"
    return [
        Kpi(
            "People on the map",
            f"{latest['people']:,}",
            note=f"{latest['answered']} of {latest['invited']} asked have answered",
        ),
        Kpi(
            "Weighted score",
            charts.fmt(score, 1),
            note=f"{charts.signed(score - before)} {since}" if None not in (score, before) else "",
            **_change(
                None if score is None else round(score, 1),
                None if before is None else round(before, 1),
                higher_is_better=True,
            ),
        ),
        Kpi(
            "Participation",
            "–" if share is None else f"{share:.0%}",
            note=f"{share_before:.0%} at {previous_wave}" if share_before is not None else "",
        ),
        Kpi(
            "To call",
            f"{called:,}",
            note=f"{charts.signed(called - called_before, 0)} {since}"
            if called_before is not None
            else "",
            **_change(called, called_before, higher_is_better=False),
        ),
    ]


def _whole(totals: list[dict], wave_id: int) -> dict:
    """The portfolio's own row of `wave_id` as `combined` gives it (it is `combine_groups` of
    the accounts' rows); the portfolio shows no pockets or zones, so they are not read."""
    row = next(row for row in totals if row["wave_id"] == wave_id)
    return {"pockets": [], "supports": [], **row, "to_call": to_call(row["counts"])}


def _common(data: DashboardData, *, thresholds: Thresholds) -> Dashboard:
    """The KPIs and the counts and trend charts, as every page has them."""
    board = Dashboard()
    if data.totals is not None:
        trend = totals_trend(data.totals, data.waves)
    else:
        trend = trend_frame(data.history, data.waves, thresholds=thresholds)
    latest_id = data.latest_wave_id
    if latest_id is None or not data.latest:
        return board
    board.has_data = True
    board.wave = str(data.waves["wave_name"].iloc[-1])
    board.previous_wave = (
        str(data.waves["wave_name"].iloc[-2]) if len(data.waves) > 1 else "the pulse before"
    )
    if data.totals is not None:
        latest = _whole(data.totals, latest_id)
    else:
        latest = combined(data.latest, thresholds=thresholds)
    earlier = trend[trend["wave_id"] != latest_id]
    previous = earlier.iloc[-1].to_dict() if not earlier.empty else None
    if previous is not None:
        board.previous_wave = str(previous["wave_name"])
    board.kpis = _kpis(latest, previous, previous_wave=board.previous_wave)
    board.extra["combined"] = latest
    board.charts["counts"] = Chart(
        "counts",
        "People per category",
        charts.category_counts_figure(
            latest["counts"],
            latest["previous_counts"],
            now_label=board.wave,
            previous_label=board.previous_wave,
        ),
        counts_table(
            latest["counts"], latest["previous_counts"], now=board.wave, before=board.previous_wave
        ),
    )
    board.charts["trend"] = Chart(
        "trend", "Weighted score over time", charts.score_trend_figure(trend), trend_table(trend)
    )
    return board


def _account_charts(board: Dashboard, data: DashboardData) -> None:
    """Movers and the category mix per account (portfolio, territory, segment)."""
    movers = movers_frame(data.history, data.accounts, data.waves)
    if not movers.empty:
        rows = [
            [
                Cell(str(name), url=str(url)),
                Cell(charts.fmt(before, 2), numeric=True),
                Cell(charts.fmt(after, 2), numeric=True),
                Cell(charts.signed(change, 2), numeric=True),
            ]
            for name, url, before, after, change in movers[
                ["account", "url", "previous_score", "weighted_score", "change"]
            ].itertuples(index=False)
        ]
        board.charts["movers"] = Chart(
            "movers",
            "Accounts that moved most",
            charts.movers_figure(movers),
            Table("Accounts that moved most", ["Account", "Before", "Now", "Change"], rows),
            clickable=True,
        )
    mix = board.extra["mix"] = mix_frame(data.latest, data.accounts)
    if not mix.empty:
        shown = mix.head(ACCOUNTS_SHOWN)
        rows = [
            [
                Cell(str(row["account"]), url=str(row["url"])),
                Cell(charts.fmt(row["weighted_score"], 1), numeric=True),
                Cell(str(row["to_call"]), numeric=True),
                *(Cell(str(row[key]), numeric=True) for key in ORDER),
            ]
            # The table holds what the chart shows: at 2,000 accounts every row would be most
            # of the page's megabyte and of its rendering; the territory and segment tables
            # below lead to every account.
            for row in shown.to_dict("records")
        ]
        title = "Account by account"
        if len(mix) > len(shown):
            title += f" (the {len(shown)} with most people to call, of {len(mix)})"
        board.charts["mix"] = Chart(
            "mix",
            title,
            charts.account_mix_figure(shown),
            Table(
                "People per category, account by account"
                + (f": the {len(shown)} with most people to call" if len(mix) > len(shown) else ""),
                ["Account", "Weighted score", "To call", *(LABELS[key] for key in ORDER)],
                rows,
            ),
            clickable=True,
        )


def _people_charts(
    board: Dashboard, data: DashboardData, *, thresholds: Thresholds, show_account: bool
) -> pd.DataFrame:
    """The scatter and the Sankey of the people in the latest wave; returns those people."""
    people = data.people
    latest = people[people["wave_id"] == data.latest_wave_id]
    if show_account:
        names = data.accounts.set_index("account_id")["account"]
        latest = latest.assign(account=latest["account_id"].map(names))
    if latest.empty:
        return latest
    plotted = latest["prev"].notna() & latest["last"].notna()
    board.not_plotted = [
        {
            "name": row["name"],
            "url": row["url"],
            "category": row["category"],
            "category_label": LABELS[row["category"]],
            "reason": row["reason"],
        }
        for row in by_category(latest[~plotted]).to_dict("records")
    ]
    ordered = by_category(latest[plotted])
    board.charts["scatter"] = Chart(
        "scatter",
        "Who is moving",
        charts.change_scatter_figure(
            latest,
            rising_delta=thresholds.rising_delta,
            falling_delta=thresholds.falling_delta,
            show_account=show_account,
        ),
        Table(
            "Every person with two scores: previous and latest",
            [
                "Person",
                *(["Account"] if show_account else []),
                "Category",
                "Previous",
                "Latest",
                "Influence",
                "Why",
            ],
            [
                [
                    person_cell(row, note="Key person" if row["key_person"] else ""),
                    *([Cell(str(row["account"]))] if show_account else []),
                    Cell(LABELS[row["category"]], category=row["category"]),
                    Cell(score_text(row["prev"]), numeric=True),
                    Cell(score_text(row["last"]), numeric=True),
                    Cell(
                        "?" if pd.isna(row["influence"]) else str(int(row["influence"])),
                        numeric=True,
                    ),
                    Cell(str(row["reason"])),
                ]
                for row in ordered.to_dict("records")
            ],
        ),
        clickable=True,
    )
    stages, links = transitions(people, data.waves)
    if not links.empty:
        board.charts["flows"] = Chart(
            "flows",
            "Moves between categories",
            charts.transitions_figure(stages, links),
            Table(
                "Moves between categories",
                ["From", "To", "Pulses", "People", "Who"],
                [
                    [
                        Cell(LABELS[source], category=source),
                        Cell(LABELS[target], category=target),
                        Cell(f"{stages[stage]} → {stages[stage + 1]}"),
                        Cell(str(count), numeric=True),
                        Cell(", ".join(names)),
                    ]
                    for stage, source, target, count, names in links.itertuples(index=False)
                ],
            ),
        )
    return latest


def _lists(
    board: Dashboard,
    data: DashboardData,
    latest_people: pd.DataFrame,
    *,
    show_account: bool,
    groups: bool = True,
    thresholds: Thresholds | None = None,
) -> None:
    group = board.extra["combined"]
    board.call_list = call_list_table(
        group["call_list"], data.people, data.accounts, show_account=show_account
    )
    if not groups:
        return
    if thresholds is not None:
        board.extra["groups_rule"] = {
            "answered": thresholds.group_min_answered,
            "pocket": thresholds.pocket_mean_max,
            "support": thresholds.support_mean_min,
        }
    board.pockets = groups_table(
        group["pockets"], latest_people, caption="Negative pockets", show_account=show_account
    )
    board.supports = groups_table(
        group["supports"], latest_people, caption="Zones of support", show_account=show_account
    )


def portfolio_dashboard(data: DashboardData, *, thresholds: Thresholds) -> Dashboard:
    """The portfolio: KPIs, counts now against the previous wave, the weighted score's trend,
    the accounts that moved most, every account's mix, and the call list across accounts."""
    board = _common(data, thresholds=thresholds)
    if not board.has_data:
        return board
    _account_charts(board, data)
    # The portfolio reads only the call list's people, so it names no pockets or zones.
    _lists(board, data, data.people, show_account=True, groups=False)
    board.extra["groups"] = _group_links(data, board.extra["mix"])
    return board


def _group_links(data: DashboardData, mix: pd.DataFrame) -> dict[str, list[dict]]:
    """The territories and segments among the shown accounts, with their numbers (`mix`:
    `mix_frame` of the same data), by id."""
    # Plain sums over the rows: a pandas merge and group-by cost more than the sums.
    where = {
        account_id: {"territory": (territory_id, territory), "segment": (segment_id, segment)}
        for account_id, territory_id, territory, segment_id, segment in data.accounts[
            ["account_id", "territory_id", "territory", "segment_id", "segment"]
        ].itertuples(index=False)
    }
    out = {}
    for dimension in ("territory", "segment"):
        sums: dict[tuple, list[int]] = {}
        for account_id, people, called in mix[["account_id", "people", "to_call"]].itertuples(
            index=False
        ):
            if account_id not in where:
                continue
            key, name = where[account_id][dimension]
            if pd.isna(key):
                continue
            total = sums.setdefault((int(key), name), [0, 0, 0])
            total[0] += 1
            total[1] += int(people)
            total[2] += int(called)
        out[dimension] = [
            {"key": key, "name": name, "accounts": count, "people": people, "to_call": called}
            for (key, name), (count, people, called) in sorted(sums.items())
        ]
    return out


def account_dashboard(data: DashboardData, *, thresholds: Thresholds) -> Dashboard:
    """One account: KPIs, the scatter, the Sankey, the people × waves heat map, the counts and
    trend, pockets, zones and the call list."""
    board = _common(data, thresholds=thresholds)
    if not board.has_data:
        return board
    latest_people = _people_charts(board, data, thresholds=thresholds, show_account=False)
    _heatmap(board, data, latest_people)
    _lists(board, data, latest_people, show_account=False, thresholds=thresholds)
    return board


def _heatmap(board: Dashboard, data: DashboardData, latest_people: pd.DataFrame) -> None:
    if latest_people.empty:
        return
    labels = wave_labels(data.waves)
    cells = wave_scores(data.people, data.waves)
    used = sorted(set(cells["stage"]))
    cells = cells.assign(stage=cells["stage"].map({stage: i for i, stage in enumerate(used)}))
    labels = [labels[stage] for stage in used]
    rows = by_category(latest_people)[["contact_id", "name", "category", "url"]]
    said = {
        (contact_id, stage): answer
        for contact_id, stage, answer in cells[["contact_id", "stage", "answer"]].itertuples(
            index=False
        )
    }
    table_rows = [
        [
            person_cell(row),
            Cell(LABELS[row["category"]], category=row["category"]),
            *(
                Cell(_answer_cell(said.get((row["contact_id"], stage))), numeric=True)
                for stage in range(len(labels))
            ),
        ]
        for row in rows.to_dict("records")
    ]
    board.charts["heatmap"] = Chart(
        "heatmap",
        "Scores, person by person",
        charts.people_heatmap_figure(rows, cells, wave_labels=labels),
        Table("Scores per person and pulse", ["Person", "Category now", *labels], table_rows),
        clickable=True,
    )


def _answer_cell(answer: str | None) -> str:
    """A heat-map cell as text: the score, "–" when asked and silent, empty otherwise."""
    if answer is None or answer == NOT_ASKED:
        return ""
    return "–" if answer == NO_ANSWER else answer


def group_dashboard(data: DashboardData, *, thresholds: Thresholds) -> Dashboard:
    """A territory or segment: the portfolio's account charts plus the people charts, an
    accounts × waves heat map of weighted scores, pockets, zones and the call list."""
    board = _common(data, thresholds=thresholds)
    if not board.has_data:
        return board
    latest_people = _people_charts(board, data, thresholds=thresholds, show_account=True)
    _account_charts(board, data)
    _accounts_heatmap(board, data)
    _lists(board, data, latest_people, show_account=True, thresholds=thresholds)
    return board


def _accounts_heatmap(board: Dashboard, data: DashboardData) -> None:
    labels = wave_labels(data.waves)
    position = dict(zip(data.waves["wave_id"], labels, strict=True))
    scores = data.history.assign(label=data.history["wave_id"].map(position)).pivot_table(
        index="account_id", columns="label", values="weighted_score", aggfunc="first"
    )
    used = [label for label in labels if label in scores.columns]
    if not used:
        return
    frame = data.accounts[["account_id", "account", "url"]].merge(
        scores[used].reset_index(), on="account_id"
    )
    board.charts["accounts"] = Chart(
        "accounts",
        "Weighted score, account by account",
        charts.accounts_heatmap_figure(frame, wave_labels=used),
        Table(
            "Weighted score per account and pulse",
            ["Account", *used],
            [
                [
                    Cell(str(row["account"]), url=str(row["url"])),
                    *(Cell(charts.fmt(row[label], 1), numeric=True) for label in used),
                ]
                for row in frame.to_dict("records")
            ],
        ),
        clickable=True,
    )
