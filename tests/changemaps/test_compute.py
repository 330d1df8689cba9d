"""Computing and storing change maps from the database, and reading them through the gate."""

import pandas as pd
import pytest
from django.http import Http404
from django.utils import timezone

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
from pulses.models import Invitation, Response, Wave
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
    assert dimensions == {"account", "territory", "segment", "owner", "portfolio"}
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


def test_inputs_load_in_six_queries_however_many_people(world, django_assert_num_queries):
    with django_assert_num_queries(6):
        small = changemap_inputs()
    for i in range(20):
        invite(world.latest, ContactFactory(account=world.alice.account, email=f"p{i}@x.example"))
    with django_assert_num_queries(6):
        large = changemap_inputs()
    assert len(large.invitations) == len(small.invitations) + 20
    assert set(large.invitations.columns) >= {"contact_id", "wave_id", "wave_opens_on",
                                              "wave_name", "score", "responded", "pending"}  # fmt: skip
    assert large.role_labels["decision_maker"] == "Decision maker"


def orm_inputs(now):
    """The inputs as the ORM reads them (values_list, merged in pandas): what COPY must match."""
    invited = pd.DataFrame(
        list(Invitation.objects.values_list("contact_id", "wave_id")),
        columns=["contact_id", "wave_id"],
    )
    answered = pd.DataFrame(
        list(Response.objects.values_list("contact_id", "wave_id", "score")),
        columns=["contact_id", "wave_id", "score"],
    ).assign(responded=True)
    rows = invited.merge(answered, on=["contact_id", "wave_id"], how="outer")
    rows["responded"] = rows["responded"].fillna(False).astype(bool)
    waves = {wave.pk: wave for wave in Wave.objects.all()}
    rows["score"] = rows["score"].astype("float64")
    rows["wave_opens_on"] = [pd.Timestamp(waves[w].opens_on) for w in rows["wave_id"]]
    rows["wave_name"] = [waves[w].name for w in rows["wave_id"]]
    rows["pending"] = [
        waves[w].status == Wave.Status.OPEN and waves[w].closes_at > now for w in rows["wave_id"]
    ]
    return rows.sort_values(["contact_id", "wave_id"], ignore_index=True)


def test_inputs_hold_every_invitation_and_answer_with_their_types(world):
    now = timezone.now()
    ContactFactory(account=world.alice.account, email="never@x.example")  # not on any map
    inputs = changemap_inputs(now=now)
    rows = inputs.invitations
    assert rows.dtypes.astype(str).to_dict() == {
        "contact_id": "int64", "wave_id": "int64", "score": "float64", "responded": "bool",
        "wave_opens_on": "datetime64[ns]", "wave_name": "category", "pending": "bool",
    }  # fmt: skip
    expected = orm_inputs(now)
    pd.testing.assert_frame_equal(
        rows.assign(wave_name=rows["wave_name"].astype(str)), expected, check_dtype=False
    )
    contacts = inputs.contacts.set_index("contact_id")
    assert contacts.loc[world.alice.pk, "roles"] == ("decision_maker",)
    assert contacts.loc[world.bob.pk, "roles"] == ()
    assert pd.isna(contacts.loc[world.carol.pk, "influence"])
    assert contacts.loc[world.dave.pk, "status"] == "left"
    accounts = inputs.accounts.set_index("account_id")
    assert accounts.loc[world.alice.account_id, "owner_name"] == "Maya Manager"


def test_recomputing_unchanged_data_writes_no_person_rows(world):
    first = changemaps_compute()
    assert first.people_written == first.contacts
    ids = (
        sorted(ContactSnapshot.objects.values_list("pk", flat=True)),
        sorted(GroupSnapshot.objects.values_list("pk", flat=True)),
    )
    rows = contact_rows(), group_rows()
    again = changemaps_compute()
    assert again.people_written == 0
    assert (contact_rows(), group_rows()) == rows
    assert sorted(ContactSnapshot.objects.values_list("pk", flat=True)) == ids[0]
    # Group rows are rewritten every time: their largest id tells caches to refresh.
    assert min(GroupSnapshot.objects.values_list("pk", flat=True)) > max(ids[1])


def test_a_change_rewrites_only_the_rows_it_changes_with_new_ids(world, account):
    changemaps_compute()
    before = {s.contact_id: s.pk for s in ContactSnapshot.objects.filter(wave=world.latest)}
    largest = max(before.values())
    world.bob.invitations.filter(wave=world.latest).delete()
    answer(world.latest, world.bob, 9)
    changemaps_compute()
    after = {s.contact_id: s.pk for s in ContactSnapshot.objects.filter(wave=world.latest)}
    assert after[world.bob.pk] > largest  # the portfolio's cache sees the largest id move
    assert {c: pk for c, pk in after.items() if c != world.bob.pk} == {
        c: pk for c, pk in before.items() if c != world.bob.pk
    }
    assert changemaps_compute(waves=[world.latest]).people_written == 0
    # The same rows as computing from nothing.
    rows = contact_rows(), group_rows()
    ContactSnapshot.objects.all().delete()
    GroupSnapshot.objects.all().delete()
    changemaps_compute()
    assert (contact_rows(), group_rows()) == rows


def test_all_waves_drop_the_snapshots_of_a_wave_nobody_was_invited_to(world):
    changemaps_compute(waves="all")
    emptied = world.waves[0]
    Response.objects.filter(wave=emptied).delete()
    Invitation.objects.filter(wave=emptied).delete()
    changemaps_compute(waves="all")
    assert not ContactSnapshot.objects.filter(wave=emptied).exists()
    assert not GroupSnapshot.objects.filter(wave=emptied).exists()
    assert ContactSnapshot.objects.values("wave").distinct().count() == 3


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
