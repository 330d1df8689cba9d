"""Rules 1–11 of CHANGE_MAP_RULES.md over every person at once, and their sentences."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from changemaps.categories import Category
from changemaps.rules.inputs import (
    CONTACT_COLUMNS,
    RUN,
    ChangeMapInputs,
    Prepared,
    Thresholds,
    as_text,
    prepare,
)


def _classify_at(prepared: Prepared, k: int, t: Thresholds) -> pd.DataFrame:
    """Everyone on the map as of the wave at position `k`, one row each, sorted by contact."""
    upto = prepared.position <= k
    ids = prepared.contact_id[upto]  # sorted, so each person's first row starts a run
    population = ids[np.r_[True, ids[1:] != ids[:-1]]] if len(ids) else ids
    size = len(population)
    rows = upto & prepared.in_history
    hist_contact = np.searchsorted(population, prepared.contact_id[rows])
    hist_score = prepared.score[rows]
    hist_position = prepared.position[rows]

    invited = np.bincount(hist_contact, minlength=size)
    ends = np.cumsum(invited) - 1  # index of each contact's latest history row
    answered_rows = np.flatnonzero(~np.isnan(hist_score))
    answered_contact = hist_contact[answered_rows]
    n = np.bincount(answered_contact, minlength=size)
    is_latest = np.ones(len(answered_contact), dtype=bool)
    is_latest[:-1] = answered_contact[1:] != answered_contact[:-1]
    latest_rows = answered_rows[is_latest]  # rows of each answering contact's last score
    owner = answered_contact[is_latest]

    def at_offset(offset: int, fill: float = np.nan) -> np.ndarray:
        values = np.full(size, fill)
        ok = n[owner] > offset
        values[owner[ok]] = hist_score[answered_rows[np.flatnonzero(is_latest)[ok] - offset]]
        return values

    last, prev, third = at_offset(0), at_offset(1), at_offset(2)
    last_row = np.full(size, -1)
    last_row[owner] = latest_rows
    silent_streak = np.where(last_row >= 0, ends - last_row, invited)
    delta = last - prev

    def wave_at(offset: int) -> np.ndarray:
        values = np.full(size, -1)
        ok = n[owner] > offset
        values[owner[ok]] = hist_position[answered_rows[np.flatnonzero(is_latest)[ok] - offset]]
        return values

    last_position, prev_position = wave_at(0), wave_at(1)

    info = prepared.contacts.iloc[np.searchsorted(prepared.contacts["contact_id"], population)]
    key = info["key_person"].to_numpy()
    until = prepared.waves["until"].iloc[k]
    departed = info["is_left"].to_numpy()
    if not pd.isna(until):
        left_on = info["left_on"].to_numpy()
        departed = departed & (pd.isna(left_on) | (left_on < np.datetime64(until)))

    silent_now = silent_streak >= t.silent_streak
    low = last <= t.key_person_last_max
    conditions = [
        departed,  # 1
        key & silent_now,  # 2
        silent_now | (n == 0),  # 3
        (n == 1) & key & low,  # 4
        n == 1,  # 5
        delta <= t.falling_delta,  # 6
        delta >= t.rising_delta,  # 7
        key & low,  # 8
        (n >= RUN) & (third > prev) & (prev > last),  # 9
        (n >= RUN) & (np.fmin(np.fmin(third, prev), last) >= t.angel_min),  # 10
    ]
    rule = np.select(conditions, list(range(1, 11)), default=11)
    categories = np.array(
        [
            "",
            Category.DEPARTED,
            Category.TICKING_TIME_BOMB,
            Category.SILENT,
            Category.TICKING_TIME_BOMB,
            Category.NEW,
            Category.FALLING,
            Category.RISING,
            Category.TICKING_TIME_BOMB,
            Category.TICKING_TIME_BOMB,
            Category.ENDURING_ANGEL,
            Category.STEADY,
        ],
        dtype=object,
    )
    categories = np.array([str(value) for value in categories], dtype=object)

    phrases = np.append(prepared.waves["phrase"].to_numpy(dtype=object), "")
    who = info["who"].to_numpy()
    reason = np.empty(size, dtype=object)
    for number in range(1, 12):
        rows_ = np.flatnonzero(rule == number)
        if len(rows_):
            reason[rows_] = _reasons(
                number,
                t,
                who=who[rows_],
                n=n[rows_],
                invited=invited[rows_],
                streak=silent_streak[rows_],
                last=last[rows_],
                prev=prev[rows_],
                third=third[rows_],
                last_phrase=phrases[last_position[rows_]],
                prev_phrase=phrases[prev_position[rows_]],
            )

    return pd.DataFrame(
        {
            "contact_id": population,
            "account_id": info["account_id"].to_numpy(),
            "category": categories[rule],
            "reason": reason,
            "rule": rule.astype("int8"),
            "last": _int_array(last),
            "prev": _int_array(prev),
            "delta": _int_array(delta),
            "n": n,
            "silent_streak": silent_streak,
            "invited": invited,
            "key_person": key,
            "influence": info["influence"].to_numpy(),
            "last_wave_id": _int_array(
                np.where(
                    last_position >= 0,
                    prepared.waves["wave_id"].to_numpy()[np.maximum(last_position, 0)],
                    np.nan,
                )
            ),
        }
    )


def _int_array(values: np.ndarray) -> pd.arrays.IntegerArray:
    missing = np.isnan(values)
    return pd.arrays.IntegerArray(np.where(missing, 0, values).astype("int64"), missing)


def _pulses(count: np.ndarray) -> np.ndarray:
    return np.where(count == 1, " pulse", " pulses").astype(object)


def _reasons(number: int, t: Thresholds, **v) -> np.ndarray:
    """The readable sentence of rule `number` for the given rows (object arrays)."""
    size = len(v["n"])
    last, prev = v["last"], v["prev"]
    if number == 1:
        text = np.full(size, "Left the company", dtype=object)
        scored = v["n"] >= 1
        if scored.any():
            text[scored] = (
                text[scored]
                + "; last score "
                + as_text(last[scored])
                + " in "
                + v["last_phrase"][scored]
            )
        return text
    if number == 2:
        return v["who"] + ", silent for " + as_text(v["streak"]) + _pulses(v["streak"])
    if number == 3:
        text = np.empty(size, dtype=object)
        scored = v["n"] >= 1
        text[scored] = (
            "Silent for "
            + as_text(v["streak"][scored])
            + _pulses(v["streak"][scored])
            + " since scoring "
            + as_text(last[scored])
            + " in "
            + v["last_phrase"][scored]
        )
        invited = v["invited"]
        text[~scored & (invited == 0)] = "Invited, no answer yet"
        text[~scored & (invited == 1)] = "Has not answered their first pulse"
        many = ~scored & (invited >= 2)
        text[many] = "Never answered: silent for all " + as_text(invited[many]) + " pulses"
        return text
    low = f" ({t.key_person_last_max} or below)"
    if number == 4:
        return v["who"] + ", first score " + as_text(last) + " in " + v["last_phrase"] + low
    if number == 5:
        return "First score " + as_text(last) + " in " + v["last_phrase"]
    if number == 6:
        return "Fell from " + as_text(prev) + " to " + as_text(last) + " since " + v["prev_phrase"]
    if number == 7:
        return "Rose from " + as_text(prev) + " to " + as_text(last) + " since " + v["prev_phrase"]
    if number == 8:
        return v["who"] + " at " + as_text(last) + " in " + v["last_phrase"] + low
    if number == 9:
        return (
            "Slid "
            + as_text(v["third"])
            + " → "
            + as_text(prev)
            + " → "
            + as_text(last)
            + " over three pulses"
        )
    if number == 10:
        return (
            f"{t.angel_min} or above three pulses running: "
            + as_text(v["third"])
            + " → "
            + as_text(prev)
            + " → "
            + as_text(last)
        )
    text = np.empty(size, dtype=object)
    same = last == prev
    text[same] = "Steady at " + as_text(last[same]) + ", as in " + v["prev_phrase"][same]
    text[~same] = (
        "Steady at "
        + as_text(last[~same])
        + " (was "
        + as_text(prev[~same])
        + " in "
        + v["prev_phrase"][~same]
        + ")"
    )
    return text


def _empty_contacts() -> pd.DataFrame:
    frame = pd.DataFrame({column: [] for column in CONTACT_COLUMNS})
    return frame.astype({"contact_id": "int64", "category": object, "reason": object})


def positions_of(waves: pd.DataFrame, wave_ids: Iterable[int] | str | None) -> list[int]:
    if wave_ids is None:
        return [len(waves) - 1] if len(waves) else []
    if isinstance(wave_ids, str):
        if wave_ids != "all":
            raise ValueError(f"wave_ids is None (latest), 'all' or wave ids, not {wave_ids!r}")
        return list(range(len(waves)))
    wanted = list(wave_ids)
    positions = pd.Index(waves["wave_id"]).get_indexer(wanted)
    if (positions < 0).any():
        missing = [w for w, p in zip(wanted, positions, strict=True) if p < 0]
        raise ValueError(f"No invitations in wave(s) {missing}")
    return sorted(set(positions.tolist()))


def classify_prepared(prepared: Prepared, positions: Sequence[int], t: Thresholds) -> pd.DataFrame:
    frames, cache = [], {}
    for k in positions:
        current = cache.pop(k, None)
        if current is None:
            current = _classify_at(prepared, k, t)
        previous = cache.pop(k - 1, None)
        if previous is None and k > 0:
            previous = _classify_at(prepared, k - 1, t)
        cache = {k: current}  # the next position may need it as its previous
        held = np.full(len(current), "", dtype=object)
        if previous is not None and len(previous):
            ids = previous["contact_id"].to_numpy()
            at = np.minimum(np.searchsorted(ids, current["contact_id"].to_numpy()), len(ids) - 1)
            found = ids[at] == current["contact_id"].to_numpy()
            held[found] = previous["category"].to_numpy()[at[found]]
        current = current.assign(previous_category=held)
        current.insert(0, "wave_id", int(prepared.waves["wave_id"].iloc[k]))
        frames.append(current)
    if not frames:
        return _empty_contacts().assign(wave_id=pd.Series(dtype="int64"), previous_category="")
    return pd.concat(frames, ignore_index=True)


def classify(
    invitations: pd.DataFrame,
    contacts: pd.DataFrame,
    *,
    thresholds: Thresholds,
    as_of: int | None = None,
    role_labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Everyone on the map as of wave `as_of` (default: the latest), one row per contact.

    Columns: CONTACT_COLUMNS. `rule` is the row of the rules table that matched (1–11);
    `invited` the invited waves in their history; `last`, `prev`, `delta` are nullable integers.
    """
    inputs = ChangeMapInputs(invitations, contacts, role_labels=role_labels)
    prepared = prepare(inputs, thresholds)
    positions = positions_of(prepared.waves, None if as_of is None else [as_of])
    if not positions:
        return _empty_contacts()
    return _classify_at(prepared, positions[0], thresholds)


def classify_waves(
    invitations: pd.DataFrame,
    contacts: pd.DataFrame,
    *,
    thresholds: Thresholds,
    wave_ids: Iterable[int] | str | None = "all",
    role_labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The map as of each wave (default: every wave), with the category held at the wave before.

    One row per (wave_id, contact_id): `wave_id`, CONTACT_COLUMNS and `previous_category`
    ("" for someone not on the map at the previous wave). Movement between two waves is the
    pair (previous_category, category).
    """
    inputs = ChangeMapInputs(invitations, contacts, role_labels=role_labels)
    prepared = prepare(inputs, thresholds)
    return classify_prepared(prepared, positions_of(prepared.waves, wave_ids), thresholds)
