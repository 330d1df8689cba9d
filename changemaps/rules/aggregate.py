"""Aggregates per account, territory, segment, owner and the whole portfolio, and the whole
computation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from changemaps.categories import CALL_LIST, ORDER, WITHOUT_CURRENT_VIEW
from changemaps.rules.classify import classify_prepared, positions_of
from changemaps.rules.inputs import (
    DIMENSIONS,
    GROUP_COLUMNS,
    NO_GROUP,
    ChangeMap,
    ChangeMapInputs,
    Thresholds,
    prepare,
    role_label,
)


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready dicts: Python ints, floats and strings, None for missing values."""
    columns = []
    for name in frame.columns:
        values = frame[name].astype(object)
        columns.append(values.where(frame[name].notna(), None).tolist())
    names = list(frame.columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def _lists_by(
    frame: pd.DataFrame,
    records: list[dict],
    groups: pd.Series,
    order: Sequence[tuple[str, bool]],
    limit: int,
) -> dict[int, list[dict]]:
    """`records` (one per row of `frame`) per group, each sorted by `order`, cut to `limit`."""
    if frame.empty:
        return {}
    ranked = pd.DataFrame(
        {"group": groups.to_numpy(), **{name: frame[name].to_numpy() for name, _ in order}}
    ).sort_values(
        ["group", *(name for name, _ in order)],
        ascending=[True, *(ascending for _, ascending in order)],
        kind="stable",
        na_position="last",
    )
    ranked = ranked[ranked.groupby("group", sort=False).cumcount() < limit]
    keys, rows = ranked["group"].tolist(), ranked.index.tolist()
    lists: dict[int, list[dict]] = {}
    for key, row in zip(keys, rows, strict=True):
        lists.setdefault(key, []).append(records[row])
    return lists


# The whole portfolio's row (see `_portfolio_row`): one per wave, next to the other groups.
PORTFOLIO = "portfolio"
PORTFOLIO_KEY = 0
PORTFOLIO_LABEL = "All accounts"
CALL_ORDER = [("key_person", False), ("weight", False), ("delta", True), ("contact_id", True)]
CALL_COLUMNS = ["contact_id", "account_id", "category", "reason", "last", "delta", "influence",
                "key_person"]  # fmt: skip
POCKET_COLUMNS = ["account_id", "account", "kind", "key", "label", "people", "mean",
                  "contact_ids"]  # fmt: skip
POCKET_ORDER = [("mean", True), ("people", False), ("account", True), ("kind", True),
                ("key", True)]  # fmt: skip
SUPPORT_ORDER = [("mean", False), ("people", False), ("account", True), ("kind", True),
                 ("key", True)]  # fmt: skip


def _counts(keys: pd.Series, categories: pd.Series) -> pd.DataFrame:
    """People per key and category: one column per category, in display order."""
    table = pd.DataFrame({"key": keys.to_numpy(), "category": categories.to_numpy(dtype=object)})
    counts = table.groupby(["key", "category"]).size().unstack(fill_value=0)
    return counts.reindex(columns=list(ORDER), fill_value=0).rename_axis(index="account_id")


def _accounts_frame(inputs: ChangeMapInputs, account_ids: np.ndarray) -> pd.DataFrame:
    if inputs.accounts is not None:
        return inputs.accounts.set_index("account_id")
    ids = np.unique(account_ids)
    return pd.DataFrame(
        {"account_name": [f"Account {i}" for i in ids]}, index=pd.Index(ids, name="account_id")
    )


def _pockets_and_supports(
    viewing: pd.DataFrame, contacts: pd.DataFrame, accounts: pd.DataFrame, t: Thresholds, labels
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Groups of people sharing a department, or a buying role, within one account, among people
    with a current view of us (`viewing`): at least `group_min_answered` of them and a mean last
    score at or below `pocket_mean_max` (pockets) or at or above `support_mean_min` (supports)."""
    viewing = viewing[["contact_id", "account_id", "score"]].merge(
        contacts[["contact_id", "department", "roles"]], on="contact_id", how="left"
    )
    department = viewing["department"].fillna("").astype(str).str.strip()
    by_department = pd.DataFrame(
        {
            "account_id": viewing["account_id"].to_numpy(),
            "kind": "department",
            "key": department.str.casefold().to_numpy(),
            "label": department.to_numpy(),
            "contact_id": viewing["contact_id"].to_numpy(),
            "score": viewing["score"].to_numpy(),
        }
    )
    by_department = by_department[by_department["key"] != ""]
    roles = viewing[["account_id", "contact_id", "score", "roles"]].explode("roles")
    roles = roles[roles["roles"].notna() & (roles["roles"] != "")]
    codes = roles["roles"].astype(str)
    by_role = pd.DataFrame(
        {
            "account_id": roles["account_id"].to_numpy(),
            "kind": "role",
            "key": codes.to_numpy(),
            "label": codes.map({c: role_label(c, labels) for c in codes.unique()}).to_numpy(),
            "contact_id": roles["contact_id"].to_numpy(),
            "score": roles["score"].to_numpy(),
        }
    )
    members = pd.concat([by_department, by_role], ignore_index=True)
    members = members.sort_values(
        ["account_id", "kind", "key", "contact_id"], kind="stable", ignore_index=True
    )
    group = members.groupby(["account_id", "kind", "key"], sort=False).ngroup().to_numpy()
    people = np.bincount(group)
    mean = np.bincount(group, weights=members["score"].to_numpy()) / np.maximum(people, 1)
    big_enough = people >= t.group_min_answered
    pocket = big_enough & (mean <= t.pocket_mean_max)
    support = big_enough & (mean >= t.support_mean_min)
    starts = np.r_[0, np.cumsum(people)[:-1]]

    def groups_where(chosen: np.ndarray) -> pd.DataFrame:
        ids = np.flatnonzero(chosen)
        first = members.iloc[starts[ids]]
        contact_ids = members["contact_id"].to_numpy()
        return pd.DataFrame(
            {
                "account_id": first["account_id"].to_numpy(),
                "account": first["account_id"].map(accounts["account_name"]).to_numpy(),
                "kind": first["kind"].to_numpy(),
                "key": first["key"].to_numpy(),
                "label": first["label"].to_numpy(),
                "people": people[ids],
                "mean": np.round(mean[ids], 2),
                "contact_ids": [
                    contact_ids[start : start + size].tolist()
                    for start, size in zip(starts[ids], people[ids], strict=True)
                ],
            }
        )

    return groups_where(pocket), groups_where(support)


def aggregate(
    classified: pd.DataFrame,
    inputs: ChangeMapInputs,
    *,
    wave_id: int,
    thresholds: Thresholds,
    dimensions: Sequence[str] = DIMENSIONS,
) -> pd.DataFrame:
    """The aggregates of one wave's map per account, territory, segment and owner, and for the
    whole portfolio (one row, key 0, `combine_groups` of the account rows: `_portfolio_row`).

    `classified`: that wave's rows from `classify_waves` (with `previous_category`). One row per
    (dimension, key), GROUP_COLUMNS: `counts` and `previous_counts` per category (every category,
    zeros included); `weighted_score` (mean last score weighted by influence, unknown = the
    configured weight, over people neither silent nor departed; None without any) and its
    `weight`; `participation` = `answered` / `invited` in this wave (None when nobody was
    invited); `pockets` and `supports` (department and buying-role groups within one account,
    worst or best first); `call_list` (falling and ticking-time-bomb people, key people first,
    then influence, then the biggest drop). Lists hold at most `list_max` entries. Territory,
    segment and owner rows are sums of their accounts' rows (see `combine_groups`).
    """
    t = thresholds
    contacts = inputs.contacts
    accounts = _accounts_frame(inputs, classified["account_id"].to_numpy())
    people = classified.reset_index(drop=True)
    people["score"] = people["last"].astype("float64")
    people["weight"] = people["influence"].fillna(t.unknown_influence).astype("float64")
    people["influence"] = people["influence"].astype("Int64")

    # Additive per-account numbers first; every other dimension sums its accounts.
    per_account = _counts(people["account_id"], people["category"])
    before = people[people["previous_category"] != ""]
    previous = _counts(before["account_id"], before["previous_category"]).add_prefix("previous:")
    viewing = people[~people["category"].isin(WITHOUT_CURRENT_VIEW) & people["score"].notna()]
    weights = (
        viewing.assign(weighted=viewing["weight"] * viewing["score"])
        .groupby("account_id")[["weight", "weighted"]]
        .sum()
    )
    in_wave = inputs.invitations[inputs.invitations["wave_id"] == wave_id]
    account_of = contacts.set_index("contact_id")["account_id"]
    in_wave = in_wave[in_wave["contact_id"].isin(account_of.index)]
    responded = (
        in_wave["responded"].astype(bool) if "responded" in in_wave else in_wave["score"].notna()
    )
    participation = (
        pd.DataFrame(
            {
                "account_id": in_wave["contact_id"].map(account_of).to_numpy(),
                "answered": responded.to_numpy().astype("int64"),
                "invited": 1,
            }
        )
        .groupby("account_id")[["answered", "invited"]]
        .sum()
    )
    table = (
        per_account.join(previous, how="outer")
        .join(weights, how="outer")
        .join(participation, how="outer")
        .fillna(0)
    )
    table["people"] = per_account.sum(axis=1).reindex(table.index, fill_value=0)

    pockets, supports = _pockets_and_supports(viewing, contacts, accounts, t, inputs.role_labels)
    calls = people[people["category"].isin(CALL_LIST)].reset_index(drop=True)
    records = {
        "pockets": (pockets, _records(pockets[POCKET_COLUMNS]), POCKET_ORDER),
        "supports": (supports, _records(supports[POCKET_COLUMNS]), SUPPORT_ORDER),
        "call_list": (calls, _records(calls[CALL_COLUMNS]), CALL_ORDER),
    }

    rows = []
    for dimension in dimensions:
        if dimension != "account" and f"{dimension}_id" not in accounts:
            continue  # no accounts frame: account rows only
        if dimension == "account":
            key_of = pd.Series(accounts.index, index=accounts.index)
            labels = accounts["account_name"]
        else:
            key_of = accounts[f"{dimension}_id"].fillna(0).astype("int64")
            named = accounts.assign(key=key_of).drop_duplicates("key").set_index("key")
            labels = named[f"{dimension}_name"].where(named.index != 0, NO_GROUP[dimension])
        summed = table.groupby(table.index.map(key_of)).sum()
        lists = {
            name: _lists_by(frame, entries, frame["account_id"].map(key_of), order, t.list_max)
            for name, (frame, entries, order) in records.items()
        }
        counts = summed[list(ORDER)].astype("int64").to_dict("records")
        previous_counts = (
            summed[[f"previous:{c}" for c in ORDER]]
            .astype("int64")
            .rename(columns=lambda c: c.removeprefix("previous:"))
            .to_dict("records")
        )
        people_count = summed["people"].to_numpy().astype("int64")
        weight = summed["weight"].to_numpy()
        answered = summed["answered"].to_numpy().astype("int64")
        invited = summed["invited"].to_numpy().astype("int64")
        with np.errstate(invalid="ignore", divide="ignore"):
            score = np.round(summed["weighted"].to_numpy() / weight, 2)
            share = np.round(answered / invited, 4)
        label_of = labels.to_dict()
        for i, key in enumerate(summed.index.tolist()):
            rows.append(
                {
                    "dimension": dimension,
                    "key": int(key),
                    "label": str(label_of.get(key, "")),
                    "people": int(people_count[i]),
                    "counts": counts[i],
                    "previous_counts": previous_counts[i],
                    "weighted_score": float(score[i]) if weight[i] > 0 else None,
                    "weight": float(weight[i]),
                    "participation": float(share[i]) if invited[i] else None,
                    "answered": int(answered[i]),
                    "invited": int(invited[i]),
                    "pockets": lists["pockets"].get(key, []),
                    "supports": lists["supports"].get(key, []),
                    "call_list": lists["call_list"].get(key, []),
                }
            )
    if "account" in dimensions and inputs.accounts is not None:
        account_rows = [row for row in rows if row["dimension"] == "account"]
        rows.append(_portfolio_row(account_rows, records, thresholds=t))
    frame = pd.DataFrame(rows, columns=GROUP_COLUMNS)
    for name in ("weighted_score", "participation"):  # None stays None, not NaN
        frame[name] = pd.Series([row[name] for row in rows], dtype=object)
    return frame


def _portfolio_row(account_rows: list[dict], records: Mapping, *, thresholds: Thresholds) -> dict:
    """Every account as one group, key 0: what `combine_groups` makes of `account_rows`, so a
    page that reads this one row (those who see every account) shows what combining the
    accounts' rows shows, without reading them all in every wave.

    The numbers come from `combine_groups` itself (the same sums in the same order, so the same
    floats). The lists come from every person at once, ranked like `combine_groups` ranks them:
    the same entries, since a list's first `list_max` are among its accounts' first `list_max`,
    without sorting every account's list again in Python.
    """
    bare = [{**row, "pockets": [], "supports": [], "call_list": []} for row in account_rows]
    whole = combine_groups(bare, thresholds=thresholds)
    for name, (frame, entries, order) in records.items():
        everyone = pd.Series(0, index=frame.index)
        whole[name] = _lists_by(frame, entries, everyone, order, thresholds.list_max).get(0, [])
    return {"dimension": PORTFOLIO, "key": PORTFOLIO_KEY, "label": PORTFOLIO_LABEL, **whole}


def combine_groups(rows: Iterable[Mapping], *, thresholds: Thresholds) -> dict:
    """One group made of several group rows (e.g. the accounts of a territory that a manager
    may see): counts, participation and the weighted score as if aggregated together."""
    rows = list(rows)
    counts = {c: sum(row["counts"].get(c, 0) for row in rows) for c in ORDER}
    previous = {c: sum(row["previous_counts"].get(c, 0) for row in rows) for c in ORDER}
    weight = sum(row["weight"] for row in rows)
    weighted = sum(row["weight"] * row["weighted_score"] for row in rows if row["weight"])
    answered = sum(row["answered"] for row in rows)
    invited = sum(row["invited"] for row in rows)
    unknown = thresholds.unknown_influence

    def call_key(entry):
        drop = entry["delta"] if entry["delta"] is not None else float("inf")
        influence = entry["influence"] if entry["influence"] is not None else unknown
        return (not entry["key_person"], -influence, drop, entry["contact_id"])

    def pocket_key(sign):
        return lambda e: (sign * e["mean"], -e["people"], e["account"], e["kind"], e["key"])

    limit = thresholds.list_max
    return {
        "people": sum(row["people"] for row in rows),
        "counts": counts,
        "previous_counts": previous,
        "weighted_score": round(weighted / weight, 2) if weight else None,
        "weight": weight,
        "participation": round(answered / invited, 4) if invited else None,
        "answered": answered,
        "invited": invited,
        "pockets": sorted((p for r in rows for p in r["pockets"]), key=pocket_key(1))[:limit],
        "supports": sorted((p for r in rows for p in r["supports"]), key=pocket_key(-1))[:limit],
        "call_list": sorted((c for r in rows for c in r["call_list"]), key=call_key)[:limit],
    }


# --- The whole computation ----------------------------------------------------------------------


def changemap(
    inputs: ChangeMapInputs,
    *,
    thresholds: Thresholds,
    wave_ids: Iterable[int] | str | None = None,
) -> ChangeMap:
    """Contact rows and group aggregates for the latest wave (default), 'all' waves or some."""
    prepared = prepare(inputs, thresholds)
    contacts = classify_prepared(prepared, positions_of(prepared.waves, wave_ids), thresholds)
    groups = [
        aggregate(frame, inputs, wave_id=int(wave_id), thresholds=thresholds).assign(
            wave_id=int(wave_id)
        )
        for wave_id, frame in contacts.groupby("wave_id", sort=False)
    ]
    if groups:
        groups = pd.concat(groups, ignore_index=True)
    else:
        groups = pd.DataFrame(columns=[*GROUP_COLUMNS, "wave_id"])
    return ChangeMap(waves=prepared.waves, contacts=contacts, groups=groups)
