"""Every change is kept with who and when; people who leave stay; handovers move everything."""

import pytest
from django.urls import reverse

from accounts.models import AccountMembership
from contacts import services
from contacts.models import Contact, InternalRelationship
from contacts.selectors import contact_story
from tests.factories import AccountFactory, ContactFactory, InternalRelationshipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_changes_are_kept_with_who_and_when(account, manager, teammate):
    contact = services.contact_create(
        account=account,
        fields={
            "name": "Anna Berg",
            "email": "anna@client.example",
            "job_title": "Buyer",
            "owner": manager,
        },
        roles=["influencer"],
        actor=manager,
    )
    services.contact_update(
        contact=contact,
        fields={"job_title": "Head of Procurement", "owner": teammate},
        roles=["decision_maker"],
        actor=teammate,
        reason="Promoted",
    )
    latest = contact.history.latest()
    assert latest.history_user == teammate
    assert latest.job_title == "Head of Procurement"

    story = contact_story(contact=contact)
    promoted = next(e for e in story if e.title == "Promoted")
    assert "job title: Head of Procurement (was Buyer)" in promoted.body
    assert f"owner: {teammate} (was {manager})" in promoted.body
    assert promoted.actor == str(teammate)
    added = story[-1]
    assert added.title == "Added to Rapport"
    assert "Influencer" in added.body
    assert any("Decision maker (was Influencer)" in e.body for e in story)


def test_saving_without_changes_adds_nothing_to_the_story(account, manager):
    contact = services.contact_create(
        account=account, fields={"name": "A", "email": "a@c.example"}, actor=manager
    )
    before = len(contact_story(contact=contact))
    services.contact_update(contact=contact, fields={"name": "A"}, roles=[], actor=manager)
    assert len(contact_story(contact=contact)) == before


def test_a_person_who_leaves_is_marked_never_deleted(client_for, account, manager):
    contact = ContactFactory(account=account, name="Lena Left")
    response = client_for(manager).post(
        reverse("contacts:leave", args=[contact.pk]),
        {"left_on": "2026-10-01", "note": "Joined a competitor"},
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.status, str(contact.left_on)) == (Contact.Status.LEFT, "2026-10-01")
    assert contact_story(contact=contact)[0].title == "Joined a competitor"
    people = client_for(manager).get(reverse("contacts:people", args=[account.pk]))
    assert b"Lena Left" in people.content


def test_log_entries_that_mention_a_person_join_their_story(client_for, account, manager):
    contact = ContactFactory(account=account)
    client_for(manager).post(
        reverse("accounts:log_add", args=[account.pk]),
        {
            "kind": "meeting",
            "title": "QBR with procurement",
            "occurred_on": "2026-09-15",
            "mentioned_contacts": [contact.pk],
        },
    )
    story = contact_story(contact=contact)
    assert any(e.title == "Meeting: QBR with procurement" for e in story)


def test_handover_moves_everything_in_one_step_and_shows_in_history(client_for, administrator):
    leaving, successor, other = (
        UserFactory(full_name="Lee Leaving"),
        UserFactory(full_name="Sam Successor"),
        UserFactory(),
    )
    owned = AccountFactory(owner=leaving)
    shared = AccountFactory(owner=other)
    AccountMembership.objects.create(account=shared, user=leaving)
    both = AccountFactory(owner=other)
    AccountMembership.objects.create(account=both, user=leaving)
    AccountMembership.objects.create(account=both, user=successor)
    contacts = ContactFactory.create_batch(3, account=owned, owner=leaving)
    known = ContactFactory(account=shared, owner=other)
    InternalRelationshipFactory(contact=known, user=leaving, strength=5)
    InternalRelationshipFactory(contact=contacts[0], user=leaving, strength=2)
    InternalRelationshipFactory(contact=contacts[0], user=successor, strength=4)

    response = client_for(administrator).post(
        reverse("contacts:handover"),
        {"from_user": leaving.pk, "to_user": successor.pk, "note": "Leaving the company"},
    )
    assert response.status_code == 302

    owned.refresh_from_db()
    assert owned.owner == successor
    assert not Contact.objects.filter(owner=leaving).exists()
    assert set(Contact.objects.filter(owner=successor)) == set(contacts)
    assert InternalRelationship.objects.get(contact=known).user == successor
    assert (
        InternalRelationship.objects.get(contact=contacts[0]).strength == 4
    )  # merged, stronger kept
    assert not AccountMembership.objects.filter(user=leaving).exists()
    assert AccountMembership.objects.filter(account=both, user=successor).count() == 1
    assert AccountMembership.objects.filter(account=shared, user=successor).exists()
    reason = contacts[0].history.latest().history_change_reason
    assert reason == "Handover from Lee Leaving to Sam Successor"
    assert contacts[0].history.latest().history_user == administrator

    # Running it again moves nothing more.
    again = services.relationships_handover(
        from_user=leaving, to_user=successor, performed_by=administrator
    )
    assert (again.contacts_moved, again.accounts_moved, again.memberships_moved) == (0, 0, 0)


def test_only_administrators_perform_handovers(client_for, manager, executive):
    assert client_for(manager).get(reverse("contacts:handover")).status_code == 403
    assert client_for(executive).get(reverse("contacts:handover")).status_code == 403


def test_handover_to_the_same_person_is_a_form_error(client_for, administrator, manager):
    response = client_for(administrator).post(
        reverse("contacts:handover"), {"from_user": manager.pk, "to_user": manager.pk}
    )
    assert response.status_code == 200
    assert "Choose two different people." in response.content.decode()


def test_handover_moves_acknowledgements_still_owed(administrator):
    from actions.models import Acknowledgement
    from actions.services.acknowledgements import acknowledgement_open_safely
    from tests.pulses.factories import ResponseFactory

    leaving, successor = UserFactory(), UserFactory()
    response = ResponseFactory(contact=ContactFactory(owner=leaving))
    acknowledgement_open_safely(response=response)
    acknowledgement = Acknowledgement.objects.get(response=response)
    assert acknowledgement.owner == leaving

    services.relationships_handover(
        from_user=leaving, to_user=successor, performed_by=administrator
    )
    acknowledgement.refresh_from_db()
    assert acknowledgement.owner == successor
