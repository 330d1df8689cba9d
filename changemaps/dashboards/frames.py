"""The dashboards' pandas: waves, trends, movers, mixes, scores and flows, from snapshot rows.

Pure: DataFrames and dicts in (as `changemaps.dashboard_selectors` reads them), DataFrames out.
"""

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from changemaps.categories import CALL_LIST, ORDER
from changemaps.rules import Thresholds, combine_groups

MOVERS_SHOWN = 10
MOVED = 0.05  # a smaller change in weighted score is noise, not a move
SANKEY_STAGES = 4
TO_CALL = [key for key in ORDER if key in CALL_LIST]
# What `wave_scores` says of a wave without a score.
NO_ANSWER = "no answer"
NOT_ASKED = "not asked, or not yet answered"
TREND_COLUMNS = ["wave_id", "wave_name", "opens_on", "weighted_score", "participation", "people",
                 "to_call"]  # fmt: skip


def wave_labels(waves: pd.DataFrame) -> list[str]:
    """Short labels for the waves' columns ("Nov 2026"); their names where two would clash."""
    short = [pd.Timestamp(day).strftime("%b %Y") for day in waves["opens_on"]]
    if len(set(short)) == len(short):
        return short
    return [str(name) for name in waves["wave_name"]]


def _group_row(row: Mapping) -> dict:
    """A history row as `combine_groups` takes it (history rows carry no lists)."""
    return {"pockets": [], "supports": [], "call_list": [], **row}


def combined(rows: Iterable[Mapping], *, thresholds: Thresholds) -> dict:
    """Several accounts' rows of one wave as one group (`changemaps.rules.combine_groups`)."""
    rows = [_group_row(row) for row in rows]
    result = combine_groups(rows, thresholds=thresholds)
    result["to_call"] = sum(result["counts"].get(key, 0) for key in TO_CALL)
    return result


def trend_frame(
    history: pd.DataFrame, waves: pd.DataFrame, *, thresholds: Thresholds
) -> pd.DataFrame:
    """One row per wave with account rows: the combined weighted score, participation and
    people (columns: wave_id, wave_name, opens_on, weighted_score, participation, people,
    to_call), oldest first.

    The sums `combine_groups` makes (`combined`), in the same order so the same floats, but
    only those a trend needs: at 2,000 accounts × 12 waves the whole combination (every
    category before and after, every list) took most of a second.
    """
    totals: dict = {}
    for wave_id, people, counts, score, weight, answered, invited in history[
        ["wave_id", "people", "counts", "weighted_score", "weight", "answered", "invited"]
    ].itertuples(index=False):
        total = totals.setdefault(wave_id, [0, 0, 0, 0, 0, 0])
        total[0] += people
        total[1] += to_call(counts)
        total[2] += weight
        if weight:
            total[3] += weight * score
        total[4] += answered
        total[5] += invited
    out = []
    for wave_id, name, opens_on in waves[["wave_id", "wave_name", "opens_on"]].itertuples(
        index=False
    ):
        if wave_id not in totals:
            continue
        people, called, weight, weighted, answered, invited = totals[wave_id]
        out.append(
            {
                "wave_id": wave_id,
                "wave_name": name,
                "opens_on": opens_on,
                "weighted_score": round(weighted / weight, 2) if weight else None,
                "participation": round(answered / invited, 4) if invited else None,
                "people": people,
                "to_call": called,
            }
        )
    return pd.DataFrame(out, columns=TREND_COLUMNS)


def totals_trend(totals: Iterable[Mapping], waves: pd.DataFrame) -> pd.DataFrame:
    """`trend_frame` from rows that already combine every account of a wave (the portfolio's
    own rows: `combine_groups` of them, made with the snapshots), one per wave."""
    of_wave = {row["wave_id"]: row for row in totals}
    out = [
        {
            "wave_id": wave_id,
            "wave_name": name,
            "opens_on": opens_on,
            "weighted_score": of_wave[wave_id]["weighted_score"],
            "participation": of_wave[wave_id]["participation"],
            "people": of_wave[wave_id]["people"],
            "to_call": to_call(of_wave[wave_id]["counts"]),
        }
        for wave_id, name, opens_on in waves[["wave_id", "wave_name", "opens_on"]].itertuples(
            index=False
        )
        if wave_id in of_wave
    ]
    return pd.DataFrame(out, columns=TREND_COLUMNS)


def to_call(counts: Mapping) -> int:
    return sum(int(counts.get(key, 0)) for key in TO_CALL) if isinstance(counts, Mapping) else 0


def movers_frame(
    history: pd.DataFrame, accounts: pd.DataFrame, waves: pd.DataFrame, *, limit: int = MOVERS_SHOWN
) -> pd.DataFrame:
    """The accounts whose weighted score changed most between the latest wave and the last
    wave before it in which they had one; biggest rise first. Columns: account_id, account,
    url, previous_score, weighted_score, change, previous_to_call, to_call."""
    columns = [
        "account_id",
        "account",
        "url",
        "previous_score",
        "weighted_score",
        "change",
        "previous_to_call",
        "to_call",
    ]
    if waves.empty or history.empty:
        return pd.DataFrame(columns=columns)
    # Plain Python over the rows: pandas' merges and group-bys cost more than the work itself
    # at 2,000 accounts, and more than the whole page at 25.
    position = {wave_id: i for i, wave_id in enumerate(waves["wave_id"])}
    last = len(waves) - 1
    shown = set(accounts["account_id"])
    now: dict = {}  # account → (score, counts) in the latest wave
    before: dict = {}  # account → (position, score, counts) of its last earlier wave with a score
    for wave_id, account_id, counts, score in history[
        ["wave_id", "account_id", "counts", "weighted_score"]
    ].itertuples(index=False):
        at = position.get(wave_id)
        if at is None or account_id not in shown:
            continue
        if at == last:
            now[account_id] = (score, counts)
        elif pd.notna(score) and at > before.get(account_id, (-1,))[0]:
            before[account_id] = (at, score, counts)
    both = [
        (account_id, before[account_id][1], score, before[account_id][2], counts)
        for account_id, (score, counts) in now.items()
        if account_id in before and pd.notna(score)
    ]
    # Rounded as pandas rounds (NumPy's), so a change of exactly 0.05 counts the same.
    changes = np.round(np.array([after - prior for _, prior, after, _, _ in both], float), 2)
    moved = [
        (*row, change)
        for row, change in zip(both, changes.tolist(), strict=True)
        if abs(change) >= MOVED
    ]
    moved = sorted(moved, key=lambda row: -abs(row[-1]))[:limit]  # stable: ties keep their order
    moved = sorted(moved, key=lambda row: -row[-1])
    named = dict(
        zip(accounts["account_id"], zip(accounts["account"], accounts["url"], strict=True),
            strict=True)
    )  # fmt: skip
    return pd.DataFrame(
        [
            (account_id, *named[account_id], prior, after, change, to_call(then), to_call(counts))
            for account_id, prior, after, then, counts, change in moved
        ],
        columns=columns,
    )


def mix_frame(latest: Sequence[Mapping], accounts: pd.DataFrame) -> pd.DataFrame:
    """People per category per account in the latest wave, the accounts with the largest share
    of people to call first. Columns: account_id, account, url, people, weighted_score,
    participation, to_call, then one per category."""
    # A dict, not `.loc` per row: a lookup each costs ~100 µs, a second at 2,000 accounts.
    named = dict(
        zip(accounts["account_id"], zip(accounts["account"], accounts["url"], strict=True),
            strict=True)
    )  # fmt: skip
    rows = []
    for row in latest:
        if row["account_id"] not in named:
            continue
        name, url = named[row["account_id"]]
        counts = {key: int(row["counts"].get(key, 0)) for key in ORDER}
        rows.append(
            {
                "account_id": row["account_id"],
                "account": name,
                "url": url,
                "people": int(row["people"]),
                "weighted_score": row["weighted_score"],
                "participation": row["participation"],
                "to_call": to_call(counts),
                **counts,
            }
        )
    frame = pd.DataFrame(
        rows,
        columns=[
            "account_id",
            "account",
            "url",
            "people",
            "weighted_score",
            "participation",
            "to_call",
            *ORDER,
        ],
    )
    if frame.empty:
        return frame
    share = frame["to_call"] / frame["people"].where(frame["people"] > 0, 1)
    return (
        frame.assign(share=share)
        .sort_values(["share", "to_call", "account"], ascending=[False, False, True], kind="stable")
        .drop(columns="share")
        .reset_index(drop=True)
    )


# --- People -------------------------------------------------------------------------------------


def wave_scores(people: pd.DataFrame, waves: pd.DataFrame) -> pd.DataFrame:
    """What each person said in each wave, read back from the snapshots' running numbers: a
    wave in which `n` (scores so far) grew is one they answered, with `last` as the score; one
    in which the silent streak grew is one they were asked and did not answer.

    Columns: contact_id, wave_id, stage (the wave's position), score (NaN: none), answer,
    category and reason as of that wave.
    """
    stage = {wave_id: i for i, wave_id in enumerate(waves["wave_id"])}
    frame = people[people["wave_id"].isin(stage)].copy()
    frame["stage"] = frame["wave_id"].map(stage).astype(int)
    frame = frame.sort_values(["contact_id", "stage"], kind="stable")
    by_person = frame.groupby("contact_id", sort=False)
    answered = frame["n"] > by_person["n"].shift(fill_value=0)
    silent = frame["silent_streak"] > by_person["silent_streak"].shift(fill_value=0)
    frame["score"] = frame["last"].astype("float64").where(answered & frame["last"].notna())
    frame["answer"] = np.where(
        frame["score"].notna(),
        frame["score"].map(lambda s: f"{s:.0f}" if pd.notna(s) else ""),
        np.where(silent, NO_ANSWER, NOT_ASKED),
    )
    columns = ["contact_id", "wave_id", "stage", "score", "answer", "category", "reason"]
    return frame[columns].reset_index(drop=True)


def transitions(
    people: pd.DataFrame, waves: pd.DataFrame, *, stages: int = SANKEY_STAGES
) -> tuple[list[str], pd.DataFrame]:
    """Flows between categories over the last `stages` waves that have people, for a Sankey:
    (the waves' labels, rows of stage, source, target, people, names). With a single wave of
    snapshots, the people's previous categories stand in for the wave before."""
    columns = ["stage", "source", "target", "people", "names"]
    labels = dict(zip(waves["wave_id"], wave_labels(waves), strict=True))
    present = [wave_id for wave_id in waves["wave_id"] if wave_id in set(people["wave_id"])]
    if not present:
        return [], pd.DataFrame(columns=columns)
    chosen = present[-stages:]
    if len(chosen) == 1:
        latest = people[people["wave_id"] == chosen[0]]
        moved = latest[latest["previous_category"] != ""]
        pairs = pd.DataFrame(
            {
                "stage": 0,
                "source": moved["previous_category"].to_numpy(),
                "target": moved["category"].to_numpy(),
                "name": moved["name"].to_numpy(),
            }
        )
        order = list(waves["wave_id"])
        at = order.index(chosen[0])
        before = labels[order[at - 1]] if at > 0 else "The pulse before"
        stage_labels = [before, labels[chosen[0]]]
    else:
        frame = people[people["wave_id"].isin(chosen)][
            ["contact_id", "wave_id", "name", "category"]
        ]
        frame = frame.assign(stage=frame["wave_id"].map({w: i for i, w in enumerate(chosen)}))
        following = frame.assign(stage=frame["stage"] - 1)[["contact_id", "stage", "category"]]
        pairs = frame.merge(following, on=["contact_id", "stage"], suffixes=("", "_next"))
        pairs = pairs.rename(columns={"category": "source", "category_next": "target"})
        stage_labels = [labels[wave_id] for wave_id in chosen]
    if pairs.empty:
        return stage_labels, pd.DataFrame(columns=columns)
    pairs = pairs.sort_values(["stage", "name"], kind="stable")
    grouped = pairs.groupby(["stage", "source", "target"], sort=False)["name"].agg(list)
    links = grouped.reset_index().rename(columns={"name": "names"})
    links["people"] = links["names"].map(len)
    rank = {key: i for i, key in enumerate(ORDER)}
    links = links.sort_values(
        ["stage", "source", "target"], key=lambda s: s.map(rank) if s.name != "stage" else s
    )
    return stage_labels, links[columns].reset_index(drop=True)


def by_category(frame: pd.DataFrame) -> pd.DataFrame:
    rank = {key: i for i, key in enumerate(ORDER)}
    return frame.assign(_rank=frame["category"].map(rank)).sort_values(
        ["_rank", "name", "contact_id"], kind="stable"
    )
