"""The rules a contact, a link and a relationship must keep, enforced where they belong."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from contacts import services
from contacts.models import BuyingRole, Contact, InfluenceLink
from tests.factories import AccountFactory, ContactFactory, InfluenceLinkFactory

pytestmark = pytest.mark.django_db


def test_email_is_unique_within_an_account_whatever_the_case(account):
    ContactFactory(account=account, email="anna@client.example")
    with pytest.raises(ValidationError) as error:
        services.contact_create(
            account=account, fields={"name": "Anna Two", "email": "ANNA@client.example"}, actor=None
        )
    assert "email" in str(error.value).lower()
    # …but the same person may appear in another account.
    services.contact_create(
        account=AccountFactory(),
        fields={"name": "Anna", "email": "anna@client.example"},
        actor=None,
    )


def test_database_refuses_a_duplicate_email_in_the_same_account(account):
    ContactFactory(account=account, email="anna@client.example")
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(account=account, name="Anna", email="anna@client.example")


def test_influence_outside_one_to_five_is_refused(account):
    with pytest.raises(ValidationError) as error:
        services.contact_create(
            account=account,
            fields={"name": "X", "email": "x@c.example", "influence": 6},
            actor=None,
        )
    assert "influence" in error.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(account=account, name="Y", email="y@c.example", influence=0)


def test_a_person_cannot_report_to_themselves(account):
    anna = ContactFactory(account=account)
    with pytest.raises(ValidationError, match="cannot report to themselves"):
        services.contact_update(contact=anna, fields={"reports_to": anna}, actor=None)


def test_reports_to_must_stay_in_the_account(account):
    anna = ContactFactory(account=account)
    stranger = ContactFactory()
    with pytest.raises(ValidationError, match="same account"):
        services.contact_update(contact=anna, fields={"reports_to": stranger}, actor=None)


def test_reports_to_cycles_are_refused_with_a_clear_message(account):
    ceo = ContactFactory(account=account, name="Cleo CEO")
    vp = ContactFactory(account=account, name="Victor VP", reports_to=ceo)
    manager = ContactFactory(account=account, name="Mia Manager", reports_to=vp)
    with pytest.raises(ValidationError) as error:
        services.contact_update(contact=ceo, fields={"reports_to": manager}, actor=None)
    assert "reporting loop" in error.value.message_dict["reports_to"][0]
    ceo.refresh_from_db()
    assert ceo.reports_to is None


def test_influence_links_stay_inside_one_account_and_never_loop_on_one_person(account):
    anna, ben = ContactFactory.create_batch(2, account=account)
    with pytest.raises(ValidationError, match="themselves"):
        services.influence_link_create(source=anna, target=anna, kind="influences", strength=3)
    with pytest.raises(ValidationError, match="same account"):
        services.influence_link_create(
            source=anna, target=ContactFactory(), kind="allies_with", strength=3
        )
    link = services.influence_link_create(
        source=anna, target=ben, kind="in_conflict_with", strength=4
    )
    assert str(link) == f"{anna} in conflict with {ben}"
    with pytest.raises(IntegrityError), transaction.atomic():
        InfluenceLink.objects.create(source=ben, target=ben, kind="influences")


@pytest.mark.parametrize(
    ("roles", "influence", "expected"),
    [
        (["decision_maker"], 1, True),
        (["budget_holder"], None, True),
        (["champion"], 2, True),
        (["influencer"], 4, True),
        (["user", "detractor"], 3, False),
        ([], None, False),
    ],
)
def test_key_people_follow_the_change_map_rules(account, roles, influence, expected):
    contact = ContactFactory(account=account, influence=influence, roles=roles)
    assert contact.is_key_person() is expected


def test_every_buying_role_exists_once():
    assert list(BuyingRole.objects.values_list("code", flat=True)) == list(BuyingRole.Code.values)


def test_contact_queryset_visibility_follows_the_account_gate(
    manager, outsider, executive, account, foreign_account
):
    mine = ContactFactory(account=account)
    theirs = ContactFactory(account=foreign_account)
    assert list(Contact.objects.visible_to(manager)) == [mine]
    assert list(Contact.objects.visible_to(outsider)) == [theirs]
    assert set(Contact.objects.visible_to(executive)) == {mine, theirs}


def test_influence_link_factory_builds_same_account_links():
    link = InfluenceLinkFactory()
    assert link.source.account_id == link.target.account_id
