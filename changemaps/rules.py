"""The change-map rules (CHANGE_MAP_RULES.md), vectorised over every contact at once.

Pure pandas and NumPy: the inputs are DataFrames (see `changemaps.selectors` for where they come
from), the outputs are DataFrames, and nothing here touches the ORM, so the rules can be tested
against a plain reference implementation and benchmarked on their own.

Inputs
------
invitations
    One row per (contact, wave) the contact was invited to or answered in: ``contact_id``,
    ``wave_id``, ``wave_opens_on`` (date-like), ``wave_name``, ``score`` (0–10, NaN when there is
    no relationship score). Optional: ``responded`` (a response exists, with or without a score;
    default ``score`` is not NaN) and ``pending`` (the wave is still open; default False).
    A wave's history position is its opening date, then its id.
contacts
    One row per contact: ``contact_id``, ``account_id``, ``status`` (``"left"`` = left the
    company), ``influence`` (1–5, NaN unknown), ``department`` (text, "" none), ``roles`` (a
    sequence of buying-role codes). Optional: ``left_on`` (date-like, NaT unknown).
accounts
    For aggregates: ``account_id``, ``account_name``, ``territory_id``, ``territory_name``,
    ``segment_id``, ``segment_name``, ``owner_id``, ``owner_name`` (NaN ids: none).

Decisions the rules table leaves open, taken here once:

- *Who is on the map*: everyone with at least one row in `invitations` up to the wave.
- *History*: an unanswered row of a wave that is still open is not silence yet, and a response
  without a relationship score (an interview that skipped it) is neither a score nor silence;
  both rows are left out of the history. They still count for participation.
- *As of a past wave*: the history up to and including that wave; someone who left counts as
  departed from the wave before they left (``left_on`` earlier than the next wave's opening).
  Roles and influence are today's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.conf import settings

from changemaps.categories import CALL_LIST, ORDER, WITHOUT_CURRENT_VIEW, Category

LEFT = "left"  # Contact.Status.LEFT (checked by a test; this module stays free of Django models)
RUN = 3  # "the last three scores" of rules 9 and 10
DIMENSIONS = ("account", "territory", "segment", "owner")
NO_GROUP = {"territory": "No territory", "segment": "No segment", "owner": "No owner"}

CONTACT_COLUMNS = [
    "contact_id",
    "account_id",
    "category",
    "reason",
    "rule",
    "last",
    "prev",
    "delta",
    "n",
    "silent_streak",
    "invited",
    "key_person",
    "influence",
    "last_wave_id",
]
GROUP_COLUMNS = [
    "dimension",
    "key",
    "label",
    "people",
    "counts",
    "previous_counts",
    "weighted_score",
    "weight",
    "participation",
    "answered",
    "invited",
    "pockets",
    "supports",
    "call_list",
]
_SCORE_TEXT = np.array([str(i) for i in range(11)], dtype=object)


@dataclass(frozen=True)
class Thresholds:
    """Every number of the rules, from `settings.CHANGE_MAP` (see config/settings.py)."""

    silent_streak: int
    falling_delta: int
    rising_delta: int
    key_person_last_max: int
    angel_min: int
    key_roles: tuple[str, ...]
    key_influence_min: int
    unknown_influence: int
    pocket_mean_max: float
    support_mean_min: float
    group_min_answered: int
    list_max: int

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> Thresholds:
        names = [field.name for field in dataclasses.fields(cls)]
        missing = [name for name in names if name not in values]
        if missing:
            raise KeyError(f"CHANGE_MAP lacks {', '.join(missing)}")
        chosen = {name: values[name] for name in names}
        chosen["key_roles"] = tuple(chosen["key_roles"])
        return cls(**chosen)

    @classmethod
    def from_settings(cls) -> Thresholds:
        return cls.from_mapping(settings.CHANGE_MAP)


@dataclass(frozen=True)
class ChangeMapInputs:
    invitations: pd.DataFrame
    contacts: pd.DataFrame
    accounts: pd.DataFrame | None = None
    role_labels: Mapping[str, str] | None = None


@dataclass(frozen=True)
class ChangeMap:
    """`contacts`: one row per (wave_id, contact_id), CONTACT_COLUMNS plus previous_category.
    `groups`: one row per (wave_id, dimension, key), GROUP_COLUMNS."""

    waves: pd.DataFrame
    contacts: pd.DataFrame
    groups: pd.DataFrame


# --- Preparation (once per computation) ---------------------------------------------------------


@dataclass(frozen=True)
class _Prepared:
    waves: pd.DataFrame  # wave_id, wave_opens_on, wave_name, phrase, until; index = position
    # Invitation rows sorted by (contact, position):
    contact_id: np.ndarray
    position: np.ndarray
    score: np.ndarray
    in_history: np.ndarray
    # Contacts sorted by contact_id:
    contacts: pd.DataFrame


def role_label(code: str, role_labels: Mapping[str, str] | None = None) -> str:
    """A buying role's label: from `role_labels` (the BuyingRole table), else from its code."""
    if role_labels and code in role_labels:
        return role_labels[code]
    return code.replace("_", " ").capitalize()


def wave_phrase(name: str) -> str:
    """How a sentence names a wave: "the March 2026 pulse"."""
    return name if name.lower().startswith("the ") else f"the {name}"


def wave_order(invitations: pd.DataFrame) -> pd.DataFrame:
    """The waves in `invitations`, oldest first (opening date, then id); index = position."""
    if invitations.empty:
        return pd.DataFrame(
            {"wave_id": [], "wave_opens_on": [], "wave_name": [], "phrase": [], "until": []}
        )
    _, first = np.unique(invitations["wave_id"].to_numpy(), return_index=True)
    waves = invitations.iloc[first][["wave_id", "wave_opens_on", "wave_name"]].copy()
    waves["wave_opens_on"] = pd.to_datetime(waves["wave_opens_on"])
    waves = waves.sort_values(["wave_opens_on", "wave_id"], kind="stable").reset_index(drop=True)
    waves["wave_id"] = waves["wave_id"].astype("int64")
    waves["phrase"] = [wave_phrase(str(name)) for name in waves["wave_name"]]
    # A map as of a wave stands until the next one opens: who had left by then has departed.
    waves["until"] = waves["wave_opens_on"].shift(-1)
    return waves


def key_people(contacts: pd.DataFrame, thresholds: Thresholds, role_labels=None) -> pd.DataFrame:
    """`key_person` and `who` ("Decision maker", "Key person (influence 4/5)") per contact."""
    exploded = contacts[["contact_id", "roles"]].explode("roles")
    rank = {code: i for i, code in enumerate(thresholds.key_roles)}
    exploded["rank"] = exploded["roles"].map(rank)
    key_roles = exploded.dropna(subset=["rank"]).sort_values(["contact_id", "rank"])
    first_role = key_roles.drop_duplicates("contact_id").set_index("contact_id")["roles"]
    influence = pd.to_numeric(contacts["influence"], errors="coerce")
    by_influence = (influence >= thresholds.key_influence_min).to_numpy()
    role = contacts["contact_id"].map(first_role)
    has_role = role.notna().to_numpy()
    labels = {code: role_label(code, role_labels) for code in thresholds.key_roles}
    who = np.full(len(contacts), "", dtype=object)
    who[has_role] = role[has_role].map(labels).to_numpy()
    only_influence = by_influence & ~has_role
    who[only_influence] = (
        "Key person (influence " + _text(influence[only_influence].to_numpy()) + "/5)"
    )
    return pd.DataFrame({"key_person": has_role | by_influence, "who": who}, index=contacts.index)


def _prepare(inputs: ChangeMapInputs, thresholds: Thresholds) -> _Prepared:
    invitations, contacts = inputs.invitations, inputs.contacts
    contacts = contacts.sort_values("contact_id", kind="stable").reset_index(drop=True)
    known = np.isin(invitations["contact_id"].to_numpy(), contacts["contact_id"].to_numpy())
    if not known.all():
        invitations = invitations[known]
    waves = wave_order(invitations)
    position = pd.Index(waves["wave_id"]).get_indexer(invitations["wave_id"].to_numpy())
    contact_id = invitations["contact_id"].to_numpy(dtype="int64")
    score = invitations["score"].to_numpy(dtype="float64", na_value=np.nan)
    answered = ~np.isnan(score)
    bad = answered & ((score < 0) | (score > 10) | (score != np.round(score)))
    if bad.any():
        raise ValueError(f"Scores are whole numbers from 0 to 10, not {score[bad][0]}")
    responded = (
        invitations["responded"].to_numpy(dtype=bool) if "responded" in invitations else answered
    )
    pending = (
        invitations["pending"].to_numpy(dtype=bool)
        if "pending" in invitations
        else np.zeros(len(score), dtype=bool)
    )
    in_history = answered | ~(responded | pending)
    order = np.lexsort((position, contact_id))
    key = key_people(contacts, thresholds, inputs.role_labels)
    left_on = (
        pd.to_datetime(contacts["left_on"])
        if "left_on" in contacts
        else pd.Series(pd.NaT, index=contacts.index, dtype="datetime64[ns]")
    )
    prepared_contacts = pd.DataFrame(
        {
            "contact_id": contacts["contact_id"].to_numpy(dtype="int64"),
            "account_id": contacts["account_id"].to_numpy(),
            "is_left": (contacts["status"] == LEFT).to_numpy(),
            "left_on": left_on.to_numpy(),
            "influence": pd.to_numeric(contacts["influence"], errors="coerce").to_numpy(
                dtype="float64", na_value=np.nan
            ),
            "key_person": key["key_person"].to_numpy(),
            "who": key["who"].to_numpy(),
        }
    )
    return _Prepared(
        waves=waves,
        contact_id=contact_id[order],
        position=position[order],
        score=score[order],
        in_history=in_history[order],
        contacts=prepared_contacts,
    )


# --- Classification -----------------------------------------------------------------------------


def _text(values: np.ndarray) -> np.ndarray:
    """Whole numbers (>= 0) as text, elementwise, as an object array for concatenation."""
    whole = np.asarray(values).astype("int64")
    if not len(whole):
        return np.empty(0, dtype=object)
    if whole.max() <= 10:
        return _SCORE_TEXT[whole]
    return np.array([str(i) for i in range(whole.max() + 1)], dtype=object)[whole]


def _classify_at(prepared: _Prepared, k: int, t: Thresholds) -> pd.DataFrame:
    """Everyone on the map as of the wave at position `k`, one row each, sorted by contact."""
    upto = prepared.position <= k
    population = np.unique(prepared.contact_id[upto])  # sorted
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
    is_latest = np.r_[answered_contact[1:] != answered_contact[:-1], True]
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
                + _text(last[scored])
                + " in "
                + v["last_phrase"][scored]
            )
        return text
    if number == 2:
        return v["who"] + ", silent for " + _text(v["streak"]) + _pulses(v["streak"])
    if number == 3:
        text = np.empty(size, dtype=object)
        scored = v["n"] >= 1
        text[scored] = (
            "Silent for "
            + _text(v["streak"][scored])
            + _pulses(v["streak"][scored])
            + " since scoring "
            + _text(last[scored])
            + " in "
            + v["last_phrase"][scored]
        )
        invited = v["invited"]
        text[~scored & (invited == 0)] = "Invited, no answer yet"
        text[~scored & (invited == 1)] = "Has not answered their first pulse"
        many = ~scored & (invited >= 2)
        text[many] = "Never answered: silent for all " + _text(invited[many]) + " pulses"
        return text
    low = f" ({t.key_person_last_max} or below)"
    if number == 4:
        return v["who"] + ", first score " + _text(last) + " in " + v["last_phrase"] + low
    if number == 5:
        return "First score " + _text(last) + " in " + v["last_phrase"]
    if number == 6:
        return "Fell from " + _text(prev) + " to " + _text(last) + " since " + v["prev_phrase"]
    if number == 7:
        return "Rose from " + _text(prev) + " to " + _text(last) + " since " + v["prev_phrase"]
    if number == 8:
        return v["who"] + " at " + _text(last) + " in " + v["last_phrase"] + low
    if number == 9:
        return (
            "Slid "
            + _text(v["third"])
            + " → "
            + _text(prev)
            + " → "
            + _text(last)
            + " over three pulses"
        )
    if number == 10:
        return (
            f"{t.angel_min} or above three pulses running: "
            + _text(v["third"])
            + " → "
            + _text(prev)
            + " → "
            + _text(last)
        )
    text = np.empty(size, dtype=object)
    same = last == prev
    text[same] = "Steady at " + _text(last[same]) + ", as in " + v["prev_phrase"][same]
    text[~same] = (
        "Steady at "
        + _text(last[~same])
        + " (was "
        + _text(prev[~same])
        + " in "
        + v["prev_phrase"][~same]
        + ")"
    )
    return text


def _empty_contacts() -> pd.DataFrame:
    frame = pd.DataFrame({column: [] for column in CONTACT_COLUMNS})
    return frame.astype({"contact_id": "int64", "category": object, "reason": object})


def _positions(waves: pd.DataFrame, wave_ids: Iterable[int] | str | None) -> list[int]:
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


def _classify_waves(prepared: _Prepared, positions: Sequence[int], t: Thresholds) -> pd.DataFrame:
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
    prepared = _prepare(inputs, thresholds)
    positions = _positions(prepared.waves, None if as_of is None else [as_of])
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
    prepared = _prepare(inputs, thresholds)
    return _classify_waves(prepared, _positions(prepared.waves, wave_ids), thresholds)


# --- Aggregates ---------------------------------------------------------------------------------


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
    """The aggregates of one wave's map per account, territory, segment and owner.

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
    return pd.DataFrame(rows, columns=GROUP_COLUMNS)


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
    prepared = _prepare(inputs, thresholds)
    contacts = _classify_waves(prepared, _positions(prepared.waves, wave_ids), thresholds)
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
