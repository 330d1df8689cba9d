"""Aggregates on a small account checked by hand: counts, movement, weighted score,
participation, pockets, zones of support and the call list."""

import pandas as pd
import pytest

from changemaps import rules
from tests.changemaps.frames import WAVES, frames, thresholds

# Account 1 (Northwind) and account 2 (Foreign) share territory 7; their segments differ.
PEOPLE = {
    # Finance: a negative pocket (5, 5, 7 → 5.67).
    1: {"history": [9, 8, 5], "department": "Finance", "roles": ["decision_maker"], "influence": 5},
    2: {"history": [6, 6, 5], "department": "Finance", "influence": None},
    8: {"history": [9, 9, 7], "department": " finance ", "influence": None},
    # IT: 10, 9 and 7 → 8.67, neither; the two champions (10, 9) are a zone of support.
    3: {"history": [9, 9, 10], "department": "IT", "roles": ["champion"], "influence": 2},
    4: {"history": [9, 10, 9], "department": "IT", "roles": ["champion"], "influence": 3},
    5: {"history": [7, None, None], "department": "IT", "influence": 4},
    # Sales: one who left, one who never answered.
    6: {"history": [8, 8, 8], "department": "Sales", "status": "left"},
    7: {"history": [None, None, None], "department": "Sales", "influence": 1},
    9: {"history": [10, 9, 6], "department": "Ops", "influence": None},
    # Account 2.
    20: {"history": [None, None, 4], "account_id": 2, "department": "Finance", "influence": 2},
}
ACCOUNTS = pd.DataFrame(
    {
        "account_id": [1, 2],
        "account_name": ["Northwind", "Foreign"],
        "territory_id": [7, 7],
        "territory_name": ["North", "North"],
        "segment_id": [3, None],
        "segment_name": ["Retail", None],
        "owner_id": [11, 12],
        "owner_name": ["Maya", "Olga"],
    }
)
LATEST = WAVES[2][0]


@pytest.fixture
def groups():
    invitations, contacts = frames(PEOPLE)
    inputs = rules.ChangeMapInputs(invitations, contacts, ACCOUNTS, {"champion": "Champion"})
    result = rules.changemap(inputs, thresholds=thresholds())
    assert result.contacts["wave_id"].unique().tolist() == [LATEST]
    return {(row["dimension"], row["key"]): row for row in result.groups.to_dict("records")}


def test_counts_and_the_categories_held_at_the_wave_before(groups):
    northwind = groups[("account", 1)]
    assert northwind["label"] == "Northwind"
    assert northwind["people"] == 9
    assert northwind["counts"] == {
        "ticking_time_bomb": 1,  # 5: influence 4, silent for 2
        "falling": 3,  # 1 (9 → 8 → 5), 8 (9 → 7), 9 (9 → 6)
        "silent": 1,  # 7
        "departed": 1,  # 6
        "new": 0,
        "steady": 1,  # 2
        "rising": 0,
        "enduring_angel": 2,  # 3 and 4
    }
    assert northwind["previous_counts"] == {
        "ticking_time_bomb": 0,
        "falling": 0,
        "silent": 1,
        "departed": 1,
        "new": 1,  # 5 had answered once (7), then missed one
        "steady": 6,
        "rising": 0,
        "enduring_angel": 0,
    }


def test_weighted_score_leaves_out_silent_and_departed_and_weighs_unknown_influence_as_3(groups):
    # 1: 5×5, 2: 3×5, 3: 2×10, 4: 3×9, 5: 4×7, 8: 3×7, 9: 3×6 → 154 / 23.
    northwind = groups[("account", 1)]
    assert northwind["weight"] == 23
    assert northwind["weighted_score"] == round(154 / 23, 2) == 6.7
    # Territory North adds account 2's person 20 (2×4): 162 / 25.
    assert groups[("territory", 7)]["weighted_score"] == 6.48


def test_participation_is_answered_over_invited_in_the_latest_wave(groups):
    northwind = groups[("account", 1)]
    # Invited: all 9; answered: 1, 2, 3, 4, 6, 8, 9 (5 and 7 did not).
    assert (northwind["answered"], northwind["invited"]) == (7, 9)
    assert northwind["participation"] == round(7 / 9, 4)
    assert groups[("account", 2)]["participation"] == 1.0


def test_negative_pockets_and_zones_of_support(groups):
    northwind = groups[("account", 1)]
    assert northwind["pockets"] == [
        {
            "account_id": 1,
            "account": "Northwind",
            "kind": "department",
            "key": "finance",
            "label": "Finance",
            "people": 3,
            "mean": 5.67,
            "contact_ids": [1, 2, 8],
        }
    ]
    assert northwind["supports"] == [
        {
            "account_id": 1,
            "account": "Northwind",
            "kind": "role",
            "key": "champion",
            "label": "Champion",
            "people": 2,
            "mean": 9.5,
            "contact_ids": [3, 4],
        }
    ]
    # Finance at account 2 has one person: no pocket, and none across accounts in the territory.
    assert groups[("account", 2)]["pockets"] == []
    assert [p["account"] for p in groups[("territory", 7)]["pockets"]] == ["Northwind"]


def test_call_list_puts_key_people_first_then_influence_then_the_biggest_drop(groups):
    calls = groups[("account", 1)]["call_list"]
    assert [c["contact_id"] for c in calls] == [1, 5, 9, 8]
    assert calls[0] == {
        "contact_id": 1,
        "account_id": 1,
        "category": "falling",
        "reason": f"Fell from 8 to 5 since the {WAVES[1][2]}",
        "last": 5,
        "delta": -3,
        "influence": 5,
        "key_person": True,
    }
    assert calls[1]["reason"] == "Key person (influence 4/5), silent for 2 pulses"
    assert (calls[2]["delta"], calls[3]["delta"]) == (-3, -2)


def test_territory_segment_and_owner_rows(groups):
    assert groups[("territory", 7)]["label"] == "North"
    assert groups[("territory", 7)]["people"] == 10
    assert groups[("segment", 3)]["people"] == 9
    assert groups[("segment", 0)]["label"] == "No segment"
    assert groups[("segment", 0)]["people"] == 1
    assert groups[("owner", 12)]["label"] == "Olga"


def test_combining_account_rows_gives_the_territory_row(groups):
    combined = rules.combine_groups(
        [groups[("account", 1)], groups[("account", 2)]], thresholds=thresholds()
    )
    territory = groups[("territory", 7)]
    for field in ["people", "counts", "previous_counts", "weighted_score", "weight",
                  "participation", "answered", "invited", "pockets", "supports", "call_list"]:  # fmt: skip
        assert combined[field] == territory[field], field


def test_lists_are_cut_to_list_max():
    invitations, contacts = frames({i: {"history": [9, 5]} for i in range(1, 8)})
    inputs = rules.ChangeMapInputs(invitations, contacts)
    result = rules.changemap(inputs, thresholds=thresholds(list_max=3))
    account = result.groups[result.groups["dimension"] == "account"].iloc[0]
    assert [c["contact_id"] for c in account["call_list"]] == [1, 2, 3]
    assert account["counts"]["falling"] == 7
    assert account["label"] == "Account 1"  # without an accounts frame


def test_nobody_with_a_current_view_means_no_weighted_score():
    invitations, contacts = frames({1: {"history": [None, None]}, 2: {"history": [None, None]}})
    result = rules.changemap(rules.ChangeMapInputs(invitations, contacts), thresholds=thresholds())
    row = result.groups.iloc[0]
    assert row["weighted_score"] is None
    assert row["participation"] == 0.0
