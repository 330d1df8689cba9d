"""Random histories: the vectorised rules agree with a plain, per-person reading of the table.

The reference below is written straight from CHANGE_MAP_RULES.md, one person at a time, with no
NumPy tricks; if the two ever disagree, one of them misreads the table.
"""

import dataclasses
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from changemaps import rules
from changemaps.categories import Category
from tests.changemaps.frames import thresholds as configured

ROLE_CODES = ["decision_maker", "budget_holder", "champion", "influencer", "gatekeeper",
              "detractor", "user", "technical_evaluator"]  # fmt: skip
START = date(2025, 1, 1)


@dataclass(frozen=True)
class Wave:
    id: int
    opens_on: date
    name: str
    open: bool


@dataclass(frozen=True)
class Row:
    contact: int
    wave: int
    score: int | None
    responded: bool
    pending: bool


@dataclass(frozen=True)
class Person:
    id: int
    account: int
    status: str
    left_on: date | None
    influence: int | None
    department: str
    roles: tuple[str, ...]


# --- The reference: one person at a time, straight from the table -------------------------------


def reference(waves, rows, people, t, position):
    order = sorted(waves, key=lambda w: (w.opens_on, w.id))
    place = {w.id: i for i, w in enumerate(order)}
    name = {w.id: w.name for w in waves}
    until = order[position + 1].opens_on if position + 1 < len(order) else None
    result = {}
    for person in people:
        mine = sorted(
            (r for r in rows if r.contact == person.id and place[r.wave] <= position),
            key=lambda r: place[r.wave],
        )
        if not mine:
            continue
        history = [r for r in mine if r.score is not None or not (r.responded or r.pending)]
        answered = [r for r in history if r.score is not None]
        scores = [r.score for r in answered]
        n = len(scores)
        last = scores[-1] if n >= 1 else None
        prev = scores[-2] if n >= 2 else None
        third = scores[-3] if n >= 3 else None
        delta = last - prev if n >= 2 else None
        streak = 0
        for r in reversed(history):
            if r.score is not None:
                break
            streak += 1
        key_role = next((code for code in t.key_roles if code in person.roles), None)
        by_influence = person.influence is not None and person.influence >= t.key_influence_min
        key = key_role is not None or by_influence
        if key_role:
            who = key_role.replace("_", " ").capitalize()
        else:
            who = f"Key person (influence {person.influence}/5)"
        departed = person.status == "left" and (
            until is None or person.left_on is None or person.left_on < until
        )
        last_in = f"the {name[answered[-1].wave]}" if n >= 1 else ""
        prev_in = f"the {name[answered[-2].wave]}" if n >= 2 else ""
        low = f"({t.key_person_last_max} or below)"

        def pulses(count):
            return "pulse" if count == 1 else "pulses"

        if departed:
            rule, category = 1, "departed"
            reason = "Left the company" + (f"; last score {last} in {last_in}" if n else "")
        elif key and streak >= t.silent_streak:
            rule, category = 2, "ticking_time_bomb"
            reason = f"{who}, silent for {streak} {pulses(streak)}"
        elif streak >= t.silent_streak or n == 0:
            rule, category = 3, "silent"
            if n:
                reason = f"Silent for {streak} {pulses(streak)} since scoring {last} in {last_in}"
            elif len(history) == 0:
                reason = "Invited, no answer yet"
            elif len(history) == 1:
                reason = "Has not answered their first pulse"
            else:
                reason = f"Never answered: silent for all {len(history)} pulses"
        elif n == 1 and key and last <= t.key_person_last_max:
            rule, category = 4, "ticking_time_bomb"
            reason = f"{who}, first score {last} in {last_in} {low}"
        elif n == 1:
            rule, category = 5, "new"
            reason = f"First score {last} in {last_in}"
        elif delta <= t.falling_delta:
            rule, category = 6, "falling"
            reason = f"Fell from {prev} to {last} since {prev_in}"
        elif delta >= t.rising_delta:
            rule, category = 7, "rising"
            reason = f"Rose from {prev} to {last} since {prev_in}"
        elif key and last <= t.key_person_last_max:
            rule, category = 8, "ticking_time_bomb"
            reason = f"{who} at {last} in {last_in} {low}"
        elif n >= 3 and third > prev > last:
            rule, category = 9, "ticking_time_bomb"
            reason = f"Slid {third} → {prev} → {last} over three pulses"
        elif n >= 3 and min(third, prev, last) >= t.angel_min:
            rule, category = 10, "enduring_angel"
            reason = f"{t.angel_min} or above three pulses running: {third} → {prev} → {last}"
        else:
            rule, category = 11, "steady"
            if last == prev:
                reason = f"Steady at {last}, as in {prev_in}"
            else:
                reason = f"Steady at {last} (was {prev} in {prev_in})"
        result[person.id] = {
            "category": category,
            "reason": reason,
            "rule": rule,
            "last": last,
            "prev": prev,
            "delta": delta,
            "n": n,
            "silent_streak": streak,
            "invited": len(history),
            "key_person": key,
        }
    return result


# --- Random histories ---------------------------------------------------------------------------


@st.composite
def worlds(draw):
    wave_count = draw(st.integers(1, 6))
    ids = draw(st.lists(st.integers(1, 60), min_size=wave_count, max_size=wave_count, unique=True))
    # Opening dates may tie: the wave id decides then.
    days = draw(st.lists(st.integers(0, 4), min_size=wave_count, max_size=wave_count))
    waves = [
        Wave(i, START + timedelta(days=30 * d), f"Pulse {i}", draw(st.booleans()))
        for i, d in zip(ids, days, strict=True)
    ]
    # Scores walk in small steps (slides and angels need neighbours), with some big jumps.
    kinds = st.sampled_from(["score", "score", "score", "score", "score", None, "-", "r"])
    steps = st.sampled_from([-1, -1, -1, 0, 0, 1, 1, -2, 2, -3, 3])
    people, rows = [], []
    for contact in range(1, draw(st.integers(1, 8)) + 1):
        status = draw(st.sampled_from(["active", "active", "changed_role", "left"]))
        left_on = None
        if status == "left" and draw(st.booleans()):
            left_on = START + timedelta(days=draw(st.integers(-10, 160)))
        people.append(
            Person(
                id=contact,
                account=draw(st.integers(1, 3)),
                status=status,
                left_on=left_on,
                influence=draw(st.one_of(st.none(), st.integers(1, 5))),
                department=draw(st.sampled_from(["", "Ops", " ops", "Finance"])),
                roles=tuple(draw(st.lists(st.sampled_from(ROLE_CODES), max_size=3, unique=True))),
            )
        )
        level = draw(st.integers(0, 10))
        for wave in waves:
            value = draw(kinds)
            if value == "-":
                continue
            if value == "score":
                level = value = min(10, max(0, level + draw(steps)))
            score = value if isinstance(value, int) else None
            responded = score is not None or value == "r"
            rows.append(Row(contact, wave.id, score, responded, wave.open and not responded))
    t = dataclasses.replace(
        configured(),
        silent_streak=draw(st.integers(1, 3)),
        falling_delta=draw(st.integers(-3, -1)),
        rising_delta=draw(st.integers(1, 3)),
        key_person_last_max=draw(st.integers(4, 7)),
        angel_min=draw(st.integers(8, 10)),
        key_influence_min=draw(st.integers(3, 5)),
    )
    return waves, rows, people, t


def to_frames(waves, rows, people):
    wave = {w.id: w for w in waves}
    invitations = pd.DataFrame(
        {
            "contact_id": [r.contact for r in rows],
            "wave_id": [r.wave for r in rows],
            "wave_opens_on": [wave[r.wave].opens_on for r in rows],
            "wave_name": [wave[r.wave].name for r in rows],
            "score": [np.nan if r.score is None else float(r.score) for r in rows],
            "responded": [r.responded for r in rows],
            "pending": [r.pending for r in rows],
        }
    )
    contacts = pd.DataFrame(
        {
            "contact_id": [p.id for p in people],
            "account_id": [p.account for p in people],
            "status": [p.status for p in people],
            "left_on": pd.to_datetime(pd.Series([p.left_on for p in people], dtype=object)),
            "influence": [np.nan if p.influence is None else p.influence for p in people],
            "department": [p.department for p in people],
            "roles": [p.roles for p in people],
        }
    )
    return invitations, contacts


def as_plain(row: dict) -> dict:
    def plain(value):
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            return None
        return value.item() if hasattr(value, "item") else value

    return {key: plain(value) for key, value in row.items()}


FIELDS = ["category", "reason", "rule", "last", "prev", "delta", "n", "silent_streak",
          "invited", "key_person"]  # fmt: skip
PROPERTY_SETTINGS = settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(worlds())
def test_vectorised_rules_equal_the_plain_reference_at_every_wave(world):
    waves, rows, people, t = world
    invitations, contacts = to_frames(waves, rows, people)
    result = rules.classify_waves(invitations, contacts, thresholds=t)
    order = sorted(
        (w for w in waves if any(r.wave == w.id for r in rows)), key=lambda w: (w.opens_on, w.id)
    )
    assert result["wave_id"].drop_duplicates().tolist() == [w.id for w in order]
    for position, wave in enumerate(order):
        expected = reference(order, rows, people, t, position)
        before = reference(order, rows, people, t, position - 1) if position else {}
        got = result[result["wave_id"] == wave.id]
        assert sorted(got["contact_id"].tolist()) == sorted(expected)
        for record in got.to_dict("records"):
            contact = record["contact_id"]
            assert as_plain({f: record[f] for f in FIELDS}) == expected[contact], (wave, contact)
            held = before.get(contact, {}).get("category", "")
            assert record["previous_category"] == held


@settings(PROPERTY_SETTINGS, max_examples=150)
@given(worlds())
def test_everyone_gets_exactly_one_known_category_deterministically(world):
    waves, rows, people, t = world
    invitations, contacts = to_frames(waves, rows, people)
    first = rules.classify(invitations, contacts, thresholds=t)
    again = rules.classify(invitations, contacts, thresholds=t)
    pd.testing.assert_frame_equal(first, again)
    assert first["contact_id"].is_unique
    assert set(first["category"]) <= set(Category.values)
    assert first["reason"].str.len().min() > 0 if len(first) else True
    assert set(first["contact_id"]) == {r.contact for r in rows}
    # Row order of the inputs does not matter.
    shuffled = rules.classify(
        invitations.sample(frac=1, random_state=1), contacts.iloc[::-1], thresholds=t
    )
    pd.testing.assert_frame_equal(first, shuffled)


@settings(PROPERTY_SETTINGS, max_examples=60)
@given(worlds())
def test_aggregates_add_up_whatever_the_histories(world):
    waves, rows, people, t = world
    invitations, contacts = to_frames(waves, rows, people)
    accounts = pd.DataFrame(
        {
            "account_id": [1, 2, 3],
            "account_name": ["A", "B", "C"],
            "territory_id": [1, 1, None],
            "territory_name": ["North", "North", None],
            "segment_id": [5, 6, 5],
            "segment_name": ["Retail", "Health", "Retail"],
            "owner_id": [9, 9, 9],
            "owner_name": ["Olga", "Olga", "Olga"],
        }
    )
    inputs = rules.ChangeMapInputs(invitations, contacts, accounts)
    result = rules.changemap(inputs, thresholds=t)
    again = rules.changemap(inputs, thresholds=t)
    pd.testing.assert_frame_equal(result.groups, again.groups)
    people_on_map = len(result.contacts)
    for dimension, groups in result.groups.groupby("dimension"):
        assert groups["people"].sum() == people_on_map, dimension
        for row in groups.to_dict("records"):
            assert sum(row["counts"].values()) == row["people"]
            assert row["participation"] is None or 0 <= row["participation"] <= 1
            assert all(p["mean"] <= t.pocket_mean_max and p["people"] >= 2 for p in row["pockets"])
            assert all(s["mean"] >= t.support_mean_min for s in row["supports"])
            assert {c["category"] for c in row["call_list"]} <= {"falling", "ticking_time_bomb"}
    accounts_rows = result.groups[result.groups["dimension"] == "account"].to_dict("records")
    owner = result.groups[result.groups["dimension"] == "owner"].to_dict("records")
    if owner:
        combined = rules.combine_groups(accounts_rows, thresholds=t)
        for field in ["people", "counts", "previous_counts", "participation", "answered",
                      "invited", "pockets", "supports", "call_list"]:  # fmt: skip
            assert combined[field] == owner[0][field], field
        if combined["weighted_score"] is not None:
            assert abs(combined["weighted_score"] - owner[0]["weighted_score"]) < 0.011


@settings(PROPERTY_SETTINGS, max_examples=60)
@given(worlds())
def test_the_portfolio_row_is_every_account_combined_in_every_wave(world):
    # The portfolio page reads this one row instead of combining every account's row, so it
    # must be exactly what combining them gives: the same floats, the same lists in order.
    waves, rows, people, t = world
    invitations, contacts = to_frames(waves, rows, people)
    accounts = pd.DataFrame(
        {
            "account_id": [1, 2, 3],
            "account_name": ["A", "B", "B"],  # two accounts of the same name: ties in the lists
            "territory_id": [1, 1, None],
            "territory_name": ["North", "North", None],
            "segment_id": [5, 6, 5],
            "segment_name": ["Retail", "Health", "Retail"],
            "owner_id": [9, 9, 9],
            "owner_name": ["Olga", "Olga", "Olga"],
        }
    )
    for thresholds in (t, dataclasses.replace(t, list_max=2)):
        groups = rules.changemap(
            rules.ChangeMapInputs(invitations, contacts, accounts),
            thresholds=thresholds,
            wave_ids="all",
        ).groups
        for wave_id, wave in groups.groupby("wave_id"):
            records = wave.to_dict("records")
            portfolio = [row for row in records if row["dimension"] == "portfolio"]
            assert [(row["key"], row["label"]) for row in portfolio] == [(0, "All accounts")]
            accounts_rows = [row for row in records if row["dimension"] == "account"]
            combined = rules.combine_groups(accounts_rows, thresholds=thresholds)
            for field, value in combined.items():
                assert portfolio[0][field] == value, (wave_id, field)
