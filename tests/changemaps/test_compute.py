"""Computing and storing change maps from the database, and reading them through the gate."""

import pytest
from django.http import Http404

from changemaps.models import ContactSnapshot, GroupSnapshot
from changemaps.selectors import (
    account_group_snapshot_get_for_user,
    changemap_inputs,
    changemap_latest_wave,
    contact_snapshot_history_visible_to,
    contact_snapshots_visible_to,
    group_snapshots_visible_to,
)
from changemaps.services import changemaps_compute
from tests.changemaps.conftest import answer, invite
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

CONTACT_FIELDS = ["wave_id", "contact_id", "account_id", "category", "previous_category",
                  "reason", "last", "prev", "delta", "n", "silent_streak", "key_person"]  # fmt: skip
GROUP_FIELDS = ["wave_id", "dimension", "key", "label", "people", "counts", "previous_counts",
                "weighted_score", "weight", "participation", "answered", "invited", "pockets",
                "supports", "call_list"]  # fmt: skip


def contact_rows():
    return list(ContactSnapshot.objects.order_by("wave_id", "contact_id").values(*CONTACT_FIELDS))


def group_rows():
    return list(GroupSnapshot.objects.order_by("wave_id", "dimension", "key").values(*GROUP_FIELDS))


def test_the_latest_wave_is_computed_with_a_category_and_reason_per_person(world, account):
    result = changemaps_compute()
    assert result.wave_ids == [world.latest.pk]
    assert result.contacts == 5
    snapshots = {s.contact_id: s for s in ContactSnapshot.objects.filter(wave=world.latest)}
    assert {pk: (s.category, s.reason) for pk, s in snapshots.items()} == {
        world.alice.pk: ("falling", "Fell from 8 to 5 since the April 2026 pulse"),
        world.bob.pk: ("silent", "Silent for 2 pulses since scoring 7 in the January 2026 pulse"),
        world.carol.pk: ("enduring_angel", "9 or above three pulses running: 9 → 9 → 10"),
        world.dave.pk: ("departed", "Left the company; last score 8 in the April 2026 pulse"),
        world.eve.pk: ("steady", "Steady at 8, as in the July 2026 pulse"),
    }
    alice = snapshots[world.alice.pk]
    assert (alice.last, alice.prev, alice.delta, alice.n) == (5, 8, -3, 3)
    assert (alice.silent_streak, alice.key_person, alice.account_id) == (0, True, account.pk)
    assert alice.previous_category == "falling"
    assert changemap_latest_wave() == world.latest


def test_staff_recorded_answers_count_even_without_an_invitation(world):
    changemaps_compute()
    carol = ContactSnapshot.objects.get(wave=world.latest, contact=world.carol)
    assert (carol.n, carol.silent_streak, carol.last) == (3, 0, 10)


def test_group_snapshots_per_account_territory_segment_and_owner(world, account, manager):
    changemaps_compute()
    row = GroupSnapshot.objects.get(wave=world.latest, dimension="account", key=account.pk)
    assert row.label == "Northwind Logistics"
    assert row.people == 4
    assert row.counts["falling"] == row.counts["silent"] == row.counts["departed"] == 1
    # The open wave so far: Carol answered (a workshop); Alice and Bob have not yet.
    assert (row.answered, row.invited, row.participation) == (1, 3, 0.3333)
    # Alice 5 (influence 5) and Carol 10 (unknown: 3); Bob is silent, Dave departed.
    assert row.weighted_score == round((5 * 5 + 3 * 10) / 8, 2)
    assert [c["contact_id"] for c in row.call_list] == [world.alice.pk]
    dimensions = set(GroupSnapshot.objects.values_list("dimension", flat=True))
    assert dimensions == {"account", "territory", "segment", "owner"}
    owner = GroupSnapshot.objects.get(wave=world.latest, dimension="owner", key=manager.pk)
    assert owner.label == "Maya Manager"


def test_recomputing_gives_identical_snapshots(world):
    changemaps_compute()
    first = contact_rows(), group_rows()
    changemaps_compute()
    assert (contact_rows(), group_rows()) == first
    changemaps_compute(waves="all")
    history = contact_rows(), group_rows()
    changemaps_compute(waves="all")
    assert (contact_rows(), group_rows()) == history


def test_the_history_agrees_with_the_latest_computation(world):
    changemaps_compute(waves="all")
    assert ContactSnapshot.objects.values("wave").distinct().count() == 4
    latest_from_history = [r for r in contact_rows() if r["wave_id"] == world.latest.pk]
    changemaps_compute()
    assert [r for r in contact_rows() if r["wave_id"] == world.latest.pk] == latest_from_history
    journey = contact_snapshot_history_visible_to(
        world.alice.account.owner, contact_id=world.alice.pk
    )
    assert [s.category for s in journey] == ["new", "steady", "falling", "falling"]


def test_computing_some_waves_leaves_the_others_alone(world):
    changemaps_compute(waves="all")
    before = [r for r in contact_rows() if r["wave_id"] != world.waves[1].pk]
    changemaps_compute(waves=[world.waves[1]])
    assert [r for r in contact_rows() if r["wave_id"] != world.waves[1].pk] == before
    with pytest.raises(ValueError, match="No invitations"):
        changemaps_compute(waves=[10**9])


def test_a_new_answer_changes_the_next_computation(world):
    changemaps_compute()
    world.bob.invitations.filter(wave=world.latest).delete()
    answer(world.latest, world.bob, 9)
    changemaps_compute()
    bob = ContactSnapshot.objects.get(wave=world.latest, contact=world.bob)
    assert (bob.category, bob.reason) == ("rising", "Rose from 7 to 9 since the January 2026 pulse")
    assert bob.previous_category == "silent"


def test_nothing_to_compute_without_waves(db):
    result = changemaps_compute()
    assert (result.wave_ids, result.contacts) == ([], 0)
    assert changemap_latest_wave() is None


def test_inputs_load_in_seven_queries_however_many_people(world, django_assert_num_queries):
    with django_assert_num_queries(7):
        small = changemap_inputs()
    for i in range(20):
        invite(world.latest, ContactFactory(account=world.alice.account, email=f"p{i}@x.example"))
    with django_assert_num_queries(7):
        large = changemap_inputs()
    assert len(large.invitations) == len(small.invitations) + 20
    assert set(large.invitations.columns) >= {"contact_id", "wave_id", "wave_opens_on",
                                              "wave_name", "score", "responded", "pending"}  # fmt: skip
    assert large.role_labels["decision_maker"] == "Decision maker"


# --- Through the account gate -------------------------------------------------------------------


def test_people_snapshots_are_scoped_to_the_accounts_a_user_sees(
    world, manager, teammate, outsider, executive
):
    changemaps_compute()
    everyone = {world.alice.pk, world.bob.pk, world.carol.pk, world.dave.pk, world.eve.pk}
    northwind = everyone - {world.eve.pk}

    def seen(user):
        return {s.contact_id for s in contact_snapshots_visible_to(user)}

    assert seen(manager) == seen(teammate) == northwind
    assert seen(outsider) == {world.eve.pk}
    assert seen(executive) == everyone
    assert not contact_snapshot_history_visible_to(outsider, contact_id=world.alice.pk).exists()


def test_group_snapshots_beyond_accounts_only_for_those_who_see_every_account(
    world, account, foreign_account, manager, teammate, outsider, executive
):
    changemaps_compute()

    def keys(user, dimension):
        return set(
            group_snapshots_visible_to(user, dimension=dimension).values_list("key", flat=True)
        )

    assert keys(manager, "account") == {account.pk}
    assert keys(outsider, "account") == {foreign_account.pk}
    assert keys(executive, "account") == {account.pk, foreign_account.pk}
    assert keys(manager, "territory") == set()
    assert keys(executive, "territory") == {account.territory_id, foreign_account.territory_id}
    assert keys(manager, "owner") == {manager.pk}
    assert keys(teammate, "owner") == set()
    assert account_group_snapshot_get_for_user(teammate, account_id=account.pk).label == (
        "Northwind Logistics"
    )
    with pytest.raises(Http404):
        account_group_snapshot_get_for_user(outsider, account_id=account.pk)
