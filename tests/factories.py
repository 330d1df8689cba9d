import factory
from django.conf import settings

from accounts.models import (
    Account,
    AccountLogEntry,
    AccountMembership,
    Role,
    Segment,
    Territory,
    User,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    role = Role.ACCOUNT_MANAGER
    password = factory.django.Password(settings.RAPPORT_DEMO_PASSWORD)


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Segment {n}")


class TerritoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Territory
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Territory {n}")


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Account {n:03d}")
    tier = Account.Tier.STRATEGIC
    status = Account.Status.ACTIVE
    owner = factory.SubFactory(UserFactory)
    segment = factory.SubFactory(SegmentFactory)
    territory = factory.SubFactory(TerritoryFactory)
    industry = "Logistics"


class AccountMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccountMembership

    account = factory.SubFactory(AccountFactory)
    user = factory.SubFactory(UserFactory)


class AccountLogEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccountLogEntry

    account = factory.SubFactory(AccountFactory)
    kind = AccountLogEntry.Kind.NOTE
    title = factory.Sequence(lambda n: f"Log entry {n}")
    body = "Details."
    author = factory.SelfAttribute("account.owner")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "contacts.Contact"
        skip_postgeneration_save = True

    account = factory.SubFactory(AccountFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@client.example")
    job_title = "Operations Director"
    department = "Operations"
    influence = 3
    owner = factory.SelfAttribute("account.owner")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.buying_roles.set(extracted)


class InternalRelationshipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "contacts.InternalRelationship"

    contact = factory.SubFactory(ContactFactory)
    user = factory.SubFactory(UserFactory)
    strength = 3


class InfluenceLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "contacts.InfluenceLink"

    source = factory.SubFactory(ContactFactory)
    target = factory.SubFactory(ContactFactory, account=factory.SelfAttribute("..source.account"))
    kind = "influences"
    strength = 3
