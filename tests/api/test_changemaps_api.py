"""/api/v1/changemap-contacts/ and /changemap-accounts/: snapshots through the account gate."""

from datetime import timedelta

import pytest
from django.utils import timezone

from changemaps.models import ChangeMapState, ContactSnapshot, GroupSnapshot
from tests.factories import ContactFactory
from tests.pulses.factories import WaveFactory

pytestmark = pytest.mark.django_db


def snapshot(wave, contact, category="steady"):
    return ContactSnapshot.objects.create(
        wave=wave,
        contact=contact,
        account=contact.account,
        category=category,
        reason="Scores hold.",
        last=8,
        prev=8,
        delta=0,
        n=2,
        silent_streak=0,
        key_person=False,
    )


def account_row(wave, account):
    return GroupSnapshot.objects.create(
        wave=wave,
        dimension=GroupSnapshot.Dimension.ACCOUNT,
        key=account.pk,
        label=account.name,
        people=1,
        counts={"steady": 1},
        previous_counts={"steady": 1},
        weighted_score=8.0,
        weight=3.0,
        participation=1.0,
        answered=1,
        invited=1,
    )


@pytest.fixture
def maps(account, foreign_account):
    first, second = WaveFactory(name="Q1", closed=True), WaveFactory(name="Q2")
    greta = ContactFactory(account=account, name="Greta")
    stranger = ContactFactory(account=foreign_account)
    for wave in (first, second):
        snapshot(wave, greta, "rising" if wave == second else "new")
        snapshot(wave, stranger)
        account_row(wave, account)
        account_row(wave, foreign_account)
    ChangeMapState.objects.update_or_create(
        pk=ChangeMapState.SINGLETON, defaults={"computed_at": timezone.now()}
    )
    return {"greta": greta, "stranger": stranger, "second": second}


def test_a_persons_journey_over_the_waves(api_for, manager, maps):
    body = api_for(manager).get("/api/v1/changemap-contacts/", {"contact": maps["greta"].pk}).json()

    assert [row["category"] for row in body["results"]] == ["rising", "new"]


def test_other_managers_people_and_accounts_are_out_of_sight(api_for, manager, account, maps):
    client = api_for(manager)

    people = client.get("/api/v1/changemap-contacts/").json()
    stranger = client.get("/api/v1/changemap-contacts/", {"contact": maps["stranger"].pk}).json()
    accounts = client.get("/api/v1/changemap-accounts/").json()

    assert {row["contact"] for row in people["results"]} == {maps["greta"].pk}
    assert stranger["count"] == 0
    assert {row["account"] for row in accounts["results"]} == {account.pk}


def test_an_accounts_aggregates_for_one_wave(api_for, manager, account, maps):
    body = (
        api_for(manager)
        .get("/api/v1/changemap-accounts/", {"account": account.pk, "wave": maps["second"].pk})
        .json()
    )

    [row] = body["results"]
    assert row["counts"] == {"steady": 1}
    assert row["weighted_score"] == 8.0


def test_updated_since_follows_the_last_recompute(api_for, manager, maps):
    client = api_for(manager)
    before = (timezone.now() - timedelta(hours=1)).isoformat()
    after = (timezone.now() + timedelta(hours=1)).isoformat()

    assert client.get("/api/v1/changemap-contacts/", {"updated_since": before}).json()["count"] == 2
    assert client.get("/api/v1/changemap-contacts/", {"updated_since": after}).json()["count"] == 0
