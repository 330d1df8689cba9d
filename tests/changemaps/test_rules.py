"""Every row of the change-map rules table, its precedence, its edges and its sentences."""

import re

import pandas as pd
import pytest

from changemaps import rules
from changemaps.categories import CATEGORIES, COLOURS, LABELS, ORDER, Category
from contacts.models import BuyingRole, Contact
from tests.changemaps.frames import WAVES, frames, thresholds

DM = ["decision_maker"]


def classify_one(history, t=None, **person):
    invitations, contacts = frames({1: {"history": history, **person}})
    result = rules.classify(invitations, contacts, thresholds=t or thresholds())
    assert len(result) == 1
    return result.iloc[0]


@pytest.mark.parametrize(
    ("history", "person", "rule", "category", "reason"),
    [
        # 1 departed: beats everything, even a silent key person.
        ([9, 9, 9], {"status": "left"}, 1, "departed",
         "Left the company; last score 9 in the May 2025 pulse"),
        ([8, None, None], {"status": "left", "roles": DM}, 1, "departed",
         "Left the company; last score 8 in the March 2025 pulse"),
        ([None], {"status": "left"}, 1, "departed", "Left the company"),
        # 2 key person silent for exactly 2: a ticking time bomb, not merely silent.
        ([8, None, None], {"roles": DM}, 2, "ticking_time_bomb",
         "Decision maker, silent for 2 pulses"),
        ([8, None, None], {"influence": 4}, 2, "ticking_time_bomb",
         "Key person (influence 4/5), silent for 2 pulses"),
        ([None, None], {"roles": ["budget_holder"]}, 2, "ticking_time_bomb",
         "Budget holder, silent for 2 pulses"),
        # 3 silent: streak of exactly 2, or never answered (even a key person invited once).
        ([7, None, None], {}, 3, "silent", "Silent for 2 pulses since scoring 7 in the March 2025 pulse"),
        ([9, 5, None, None], {}, 3, "silent",
         "Silent for 2 pulses since scoring 5 in the April 2025 pulse"),
        ([None], {}, 3, "silent", "Has not answered their first pulse"),
        ([None], {"roles": DM}, 3, "silent", "Has not answered their first pulse"),
        (["p"], {}, 3, "silent", "Invited, no answer yet"),
        ([None, None, None], {}, 3, "silent", "Never answered: silent for all 3 pulses"),
        # 4 one score, key person, at or below 6.
        ([5], {"roles": DM}, 4, "ticking_time_bomb",
         "Decision maker, first score 5 in the March 2025 pulse (6 or below)"),
        ([None, 6], {"roles": ["champion"]}, 4, "ticking_time_bomb",
         "Champion, first score 6 in the April 2025 pulse (6 or below)"),
        # 5 new.
        ([7], {"roles": DM}, 5, "new", "First score 7 in the March 2025 pulse"),
        ([2], {}, 5, "new", "First score 2 in the March 2025 pulse"),
        ([None, 8, None], {}, 5, "new", "First score 8 in the April 2025 pulse"),
        # 6 falling: exactly -2; beats a key person's low score; gaps skip to the previous score.
        ([9, 7], {}, 6, "falling", "Fell from 9 to 7 since the March 2025 pulse"),
        ([9, 5], {"roles": DM}, 6, "falling", "Fell from 9 to 5 since the March 2025 pulse"),
        ([9, None, 6], {}, 6, "falling", "Fell from 9 to 6 since the March 2025 pulse"),
        ([10, 9, 7], {}, 6, "falling", "Fell from 9 to 7 since the April 2025 pulse"),
        # 7 rising: exactly +2; beats a key person's low score and a third-score rule.
        ([5, 7], {}, 7, "rising", "Rose from 5 to 7 since the March 2025 pulse"),
        ([3, 5], {"roles": DM}, 7, "rising", "Rose from 3 to 5 since the March 2025 pulse"),
        ([9, 7, 9], {}, 7, "rising", "Rose from 7 to 9 since the April 2025 pulse"),
        # 8 key person at or below 6 (exactly 6).
        ([6, 6], {"roles": DM}, 8, "ticking_time_bomb",
         "Decision maker at 6 in the April 2025 pulse (6 or below)"),
        ([7, 6], {"influence": 5}, 8, "ticking_time_bomb",
         "Key person (influence 5/5) at 6 in the April 2025 pulse (6 or below)"),
        # 9 three scores strictly down, gaps or not.
        ([9, 8, 7], {}, 9, "ticking_time_bomb", "Slid 9 → 8 → 7 over three pulses"),
        ([9, None, 8, 7], {}, 9, "ticking_time_bomb", "Slid 9 → 8 → 7 over three pulses"),
        ([9, 8, 7], {"roles": DM}, 9, "ticking_time_bomb", "Slid 9 → 8 → 7 over three pulses"),
        # 10 three scores at or above 9 (exactly 9).
        ([9, 9, 9], {}, 10, "enduring_angel", "9 or above three pulses running: 9 → 9 → 9"),
        ([10, 9, 10], {}, 10, "enduring_angel", "9 or above three pulses running: 10 → 9 → 10"),
        # 11 steady: everything else.
        ([7, 7], {}, 11, "steady", "Steady at 7, as in the March 2025 pulse"),
        ([8, 7], {}, 11, "steady", "Steady at 7 (was 8 in the March 2025 pulse)"),
        ([7, 8], {}, 11, "steady", "Steady at 8 (was 7 in the March 2025 pulse)"),
        ([5, 5], {}, 11, "steady", "Steady at 5, as in the March 2025 pulse"),
        ([7, 7], {"roles": DM}, 11, "steady", "Steady at 7, as in the March 2025 pulse"),
        ([9, 8, 8], {}, 11, "steady", "Steady at 8, as in the April 2025 pulse"),
        ([9, 9], {}, 11, "steady", "Steady at 9, as in the March 2025 pulse"),
        ([8, 9, 9], {}, 11, "steady", "Steady at 9, as in the April 2025 pulse"),
        ([9, 9, 8], {}, 11, "steady", "Steady at 8 (was 9 in the April 2025 pulse)"),
        ([7, 8, None], {}, 11, "steady", "Steady at 8 (was 7 in the March 2025 pulse)"),
    ],
)  # fmt: skip
def test_each_rule_of_the_table(history, person, rule, category, reason):
    row = classify_one(history, **person)
    assert (row["rule"], row["category"], row["reason"]) == (rule, category, reason)


def test_derived_numbers():
    row = classify_one([9, None, 7, None], roles=["champion"])
    assert (row["n"], row["last"], row["prev"], row["delta"]) == (2, 7, 9, -2)
    assert row["silent_streak"] == 1
    assert row["invited"] == 4
    assert bool(row["key_person"]) is True
    assert row["last_wave_id"] == WAVES[2][0]


def test_someone_with_one_score_has_no_prev_or_delta():
    row = classify_one([None, 8])
    assert row["n"] == 1
    assert pd.isna(row["prev"])
    assert pd.isna(row["delta"])


def test_people_never_invited_are_not_on_the_map():
    invitations, contacts = frames({1: {"history": [8]}, 2: {"history": ["-", "-"]}})
    result = rules.classify(invitations, contacts, thresholds=thresholds())
    assert result["contact_id"].tolist() == [1]


def test_an_answer_without_a_relationship_score_is_neither_a_score_nor_silence():
    # An interview that skipped the score question: they spoke to us, so not silent.
    row = classify_one([8, 6, "r", "r"])
    assert (row["category"], row["silent_streak"], row["n"]) == ("falling", 0, 2)


def test_an_unanswered_invitation_to_an_open_wave_is_not_silence_yet():
    row = classify_one([8, 6, None, "p"])
    assert (row["category"], row["silent_streak"]) == ("falling", 1)
    assert classify_one([8, None, None, "p"])["category"] == "silent"


def test_thresholds_come_from_settings_and_can_change(settings):
    assert classify_one([7, None, None], t=thresholds(silent_streak=3))["category"] == "new"
    assert classify_one([9, 8], t=thresholds(falling_delta=-1))["category"] == "falling"
    assert classify_one([8, 9], t=thresholds(rising_delta=1))["category"] == "rising"
    assert classify_one([7, 7], roles=DM, t=thresholds(key_person_last_max=7))["rule"] == 8
    assert classify_one([8, 8, 8], t=thresholds(angel_min=8))["category"] == "enduring_angel"
    assert classify_one([6, 5], influence=3, t=thresholds(key_influence_min=3))["rule"] == 8
    assert classify_one([7, 7], roles=["user"], t=thresholds(key_roles=("user",)))["key_person"]
    settings.CHANGE_MAP = {**settings.CHANGE_MAP, "silent_streak": 4}
    assert rules.Thresholds.from_settings().silent_streak == 4


def test_missing_thresholds_are_named(settings):
    settings.CHANGE_MAP = {"silent_streak": 2}
    with pytest.raises(KeyError, match="falling_delta"):
        rules.Thresholds.from_settings()


def test_reasons_use_the_configured_numbers():
    row = classify_one([5, 5], roles=DM, t=thresholds(key_person_last_max=5))
    assert row["reason"] == "Decision maker at 5 in the April 2025 pulse (5 or below)"
    row = classify_one([9, 9, 8], t=thresholds(angel_min=8))
    assert row["reason"] == "8 or above three pulses running: 9 → 9 → 8"
    row = classify_one([7, None], t=thresholds(silent_streak=1))
    assert row["reason"] == "Silent for 1 pulse since scoring 7 in the March 2025 pulse"


def test_role_labels_come_from_the_buying_role_table_when_given():
    invitations, contacts = frames({1: {"history": [8, None, None], "roles": DM}})
    result = rules.classify(
        invitations,
        contacts,
        thresholds=thresholds(),
        role_labels={"decision_maker": "Economic buyer"},
    )
    assert result["reason"].iloc[0] == "Economic buyer, silent for 2 pulses"


def test_the_first_key_role_in_the_configured_order_names_the_person():
    row = classify_one([8, None, None], roles=["champion", "user", "budget_holder"])
    assert row["reason"] == "Budget holder, silent for 2 pulses"


def test_history_follows_opening_dates_then_wave_ids_not_row_order():
    waves = [(7, WAVES[1][1], "Late"), (3, WAVES[0][1], "Early"), (5, WAVES[0][1], "Early too")]
    invitations, contacts = frames({1: {"history": [6, 9, 8]}}, waves=waves)
    # Oldest first: wave 3 (9), wave 5 (8), wave 7 (6).
    row = rules.classify(invitations.iloc[::-1], contacts, thresholds=thresholds()).iloc[0]
    assert (row["category"], row["reason"]) == ("falling", "Fell from 8 to 6 since the Early too")


def test_scores_outside_0_to_10_are_refused():
    invitations, contacts = frames({1: {"history": [8]}})
    invitations.loc[0, "score"] = 11
    with pytest.raises(ValueError, match="0 to 10"):
        rules.classify(invitations, contacts, thresholds=thresholds())


def test_as_of_a_wave_uses_only_the_history_until_then():
    invitations, contacts = frames({1: {"history": [9, 9, 5, 5]}})
    t = thresholds()
    assert rules.classify(invitations, contacts, thresholds=t, as_of=WAVES[1][0])["category"].iloc[
        0
    ] == ("steady")
    assert rules.classify(invitations, contacts, thresholds=t, as_of=WAVES[2][0])["category"].iloc[
        0
    ] == ("falling")
    assert rules.classify(invitations, contacts, thresholds=t)["category"].iloc[0] == "steady"


def test_classify_waves_gives_each_wave_and_the_category_held_before():
    invitations, contacts = frames({1: {"history": [9, 9, 5, 5]}, 2: {"history": ["-", "-", 7, 9]}})
    result = rules.classify_waves(invitations, contacts, thresholds=thresholds())
    journey = result[result["contact_id"] == 1]
    assert journey["wave_id"].tolist() == [w[0] for w in WAVES[:4]]
    assert journey["category"].tolist() == ["new", "steady", "falling", "steady"]
    assert journey["previous_category"].tolist() == ["", "new", "steady", "falling"]
    newcomer = result[result["contact_id"] == 2]
    assert newcomer["category"].tolist() == ["new", "rising"]
    assert newcomer["previous_category"].tolist() == ["", "new"]


def test_someone_who_left_is_departed_from_the_wave_before_they_left():
    left_between_second_and_third = pd.Timestamp(WAVES[2][1]) - pd.Timedelta(days=10)
    invitations, contacts = frames(
        {1: {"history": [8, 8, "-"], "status": "left", "left_on": left_between_second_and_third},
         2: {"history": [8, 8, 8]}}
    )  # fmt: skip
    result = rules.classify_waves(invitations, contacts, thresholds=thresholds())
    person = result[result["contact_id"] == 1]
    assert person["category"].tolist() == ["new", "departed", "departed"]
    # Without a date, someone who left shows as departed all along.
    contacts["left_on"] = pd.NaT
    result = rules.classify_waves(invitations, contacts, thresholds=thresholds())
    assert set(result[result["contact_id"] == 1]["category"]) == {"departed"}


def test_invitations_of_unknown_contacts_are_ignored():
    invitations, contacts = frames({1: {"history": [8]}, 2: {"history": [7]}})
    result = rules.classify(
        invitations, contacts[contacts["contact_id"] == 1], thresholds=thresholds()
    )
    assert result["contact_id"].tolist() == [1]


def test_no_invitations_no_map():
    invitations, contacts = frames({1: {"history": []}})
    assert rules.classify(invitations, contacts, thresholds=thresholds()).empty
    assert rules.classify_waves(invitations, contacts, thresholds=thresholds()).empty


def test_optional_columns_default_to_plain_answers():
    invitations, contacts = frames({1: {"history": [8, None, None]}})
    plain = invitations.drop(columns=["responded", "pending"])
    contacts = contacts.drop(columns=["left_on"])
    row = rules.classify(plain, contacts, thresholds=thresholds()).iloc[0]
    assert row["category"] == "silent"


# --- One place for categories, and agreement with the models ------------------------------------


def test_every_category_has_one_label_and_one_distinct_colour():
    assert set(ORDER) == set(Category.values)
    assert len(CATEGORIES) == len(Category.values)
    assert set(LABELS) == set(COLOURS) == set(Category.values)
    assert len(set(COLOURS.values())) == len(COLOURS)
    assert all(re.fullmatch(r"#[0-9A-F]{6}", colour) for colour in COLOURS.values())
    assert LABELS["ticking_time_bomb"] == "Ticking time bomb"


def test_rules_agree_with_the_contact_model(settings):
    assert rules.LEFT == Contact.Status.LEFT
    assert set(settings.CHANGE_MAP["key_roles"]) == set(BuyingRole.KEY_CODES)
    # Contact.is_key_person uses influence >= 4, as the settings do.
    assert settings.CHANGE_MAP["key_influence_min"] == 4
    assert Contact(influence=4).is_key_person(set())
    assert not Contact(influence=3).is_key_person(set())


def test_settings_hold_every_threshold_of_the_rules(settings):
    config = settings.CHANGE_MAP
    assert config["silent_streak"] == 2
    assert (config["falling_delta"], config["rising_delta"]) == (-2, 2)
    assert (config["key_person_last_max"], config["angel_min"]) == (6, 9)
    assert (config["pocket_mean_max"], config["support_mean_min"]) == (6, 9)
    assert (config["group_min_answered"], config["unknown_influence"]) == (2, 3)
    assert config["key_influence_min"] == 4
