"""The import writes prepared rows (core.frames.copy_rows_into: COPY on PostgreSQL, batched
INSERTs on SQLite) instead of bulk_create: the people, roles and history it leaves must be those
the ORM wrote before.

`_orm_apply` below is the import's previous `apply` (bulk_create, bulk_update and simple_history's
bulk_history_create), kept here as the reference; its one change is that it finds people by
primary key, since plans now hold light records rather than Contact instances. Both run on the
same plan from the same start, each in a transaction rolled back afterwards; primary keys differ
between the runs (PostgreSQL's sequences do not roll back, and the previous code numbered new
people managers first), so rows are compared by whom they belong to, and timestamps written
during the run compare as "now" (the previous code took a fresh one per row and field).
"""

from datetime import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from contacts import importing
from contacts.importing import Action, ImportPlan, RowPlan, change_reason
from contacts.models import Contact
from tests.factories import ContactFactory, UserFactory

pytestmark = pytest.mark.django_db

HEADER = "account,name,email,title,department,roles,influence,reports_to_email,owner_email,status"
NORTHWIND = "Northwind Logistics"


# --- The previous implementation, as the reference ------------------------------------------------


def _creation_waves(rows: list[RowPlan]) -> list[list[RowPlan]]:
    by_key = {row.key: row for row in rows}
    depth: dict = {}
    for row in rows:
        chain: list[RowPlan] = []
        current = row
        while current is not None and current.key not in depth:
            chain.append(current)
            current = by_key.get(current.manager) if current.manager else None
        base = depth[current.key] + 1 if current is not None else 0
        for offset, member in enumerate(reversed(chain)):
            depth[member.key] = base + offset
    waves: dict[int, list[RowPlan]] = {}
    for row in rows:
        waves.setdefault(depth[row.key], []).append(row)
    return [waves[level] for level in sorted(waves)]


def _orm_record_history(contacts, *, update, actor, reason):
    if not contacts:
        return
    records = Contact.history.bulk_history_create(
        contacts, update=update, default_user=actor, default_change_reason=reason
    )
    through = Contact.buying_roles.through.objects
    role_rows: dict[int, list] = {}
    chosen = through.filter(contact__in=contacts).order_by("pk")
    for pk, contact_pk, code in chosen.values_list("pk", "contact_id", "buyingrole_id"):
        role_rows.setdefault(contact_pk, []).append((pk, code))
    role_history = Contact.history.model.buying_roles.model
    role_history.objects.bulk_create(
        [
            role_history(history_id=record.pk, id=pk, contact_id=record.id, buyingrole_id=code)
            for record in records
            for pk, code in role_rows.get(record.id, ())
        ]
    )


@transaction.atomic
def _orm_apply(plan: ImportPlan, *, actor) -> None:
    # By primary key, and changed people loaded as instances: plans hold light records now.
    people = {key: person.pk for key, person in plan.existing.items()}
    creates = [row for row in plan.rows if row.action is Action.CREATE]
    updates = [row for row in plan.rows if row.action is Action.UPDATE]
    now = timezone.now()
    created = []
    for wave in _creation_waves(creates):
        contacts = [
            Contact(
                account=row.account,
                email=row.email,
                reports_to_id=people[row.manager] if row.manager else None,
                pulse_consent_at=now,
                **row.values,
            )
            for row in wave
        ]
        Contact.objects.bulk_create(contacts)
        for row, contact in zip(wave, contacts, strict=True):
            people[row.key] = contact.pk
        created.extend(contacts)
    fields, updated = {"updated_at"}, []
    for row in updates:
        contact = Contact.objects.get(pk=row.contact.pk)
        for name, value in row.values.items():
            setattr(contact, name, value)
            fields.add(Contact._meta.get_field(name).name)
        if row.sets_manager:
            contact.reports_to_id = people[row.manager] if row.manager else None
            fields.add("reports_to")
        contact.updated_at = now
        updated.append(contact)
    if updated:
        Contact.objects.bulk_update(updated, sorted(fields))
    through = Contact.buying_roles.through
    rows = creates + updates
    replaced = [people[row.key] for row in rows if row.roles is not None]
    through.objects.filter(contact_id__in=replaced).delete()
    through.objects.bulk_create(
        [
            through(contact_id=people[row.key], buyingrole_id=code)
            for row in rows
            if row.roles
            for code in sorted(row.roles)
        ]
    )
    reason = change_reason(plan.filename)
    _orm_record_history(created, update=False, actor=actor, reason=reason)
    _orm_record_history(updated, update=True, actor=actor, reason=reason)
    plan.written = True


# --- What an import leaves behind, by whom it belongs to --------------------------------------------


def _moment(value, start: datetime, end: datetime):
    """Timestamps written during the run compare as "now"; others as themselves."""
    return "now" if isinstance(value, datetime) and start <= value <= end else value


def _outcome(account, data: bytes, *, user: User | None, apply, into=None) -> dict:
    """Import `data` with `apply` inside a transaction that is rolled back; what it wrote.
    `into` fixes the account of every row, for files without an account column."""
    with transaction.atomic():
        start = timezone.now()
        frame, _ = importing.parse(data)
        plan = importing.validate(frame, user=user, account=into, filename="people.csv")
        assert plan.errors == []
        apply(plan, actor=user)
        end = timezone.now()
        outcome = _snapshot(account, start, end)
        transaction.set_rollback(True)
    return outcome


def _snapshot(account, start, end) -> dict:
    email_of = dict(Contact.objects.values_list("pk", "email"))
    through = Contact.buying_roles.through.objects.filter(contact__account=account)
    role_of = {pk: (email_of[contact], code) for pk, contact, code in through.values_list()}
    contacts = {}
    for row in Contact.objects.filter(account=account).values():
        row = {name: _moment(value, start, end) for name, value in row.items()}
        row["reports_to_id"] = email_of.get(row["reports_to_id"])
        contacts[email_of[row.pop("id")]] = row
    history_model = Contact.history.model
    role_history = history_model.buying_roles.model
    roles_of_record: dict[int, list] = {}
    for record_id, pk, contact_id, code in role_history.objects.values_list(
        "history_id", "id", "contact_id", "buyingrole_id"
    ):
        # The role row the snapshot names must be that person's row for that role.
        assert role_of.get(pk, (email_of[contact_id], code)) == (email_of[contact_id], code)
        roles_of_record.setdefault(record_id, []).append((email_of[contact_id], code))
    history = []
    for record in history_model.objects.filter(account=account).values():
        record = {name: _moment(value, start, end) for name, value in record.items()}
        record["id"] = email_of[record["id"]]
        record["reports_to_id"] = email_of.get(record["reports_to_id"])
        record["roles"] = sorted(roles_of_record.pop(record.pop("history_id"), []))
        history.append(record)
    return {
        "contacts": contacts,
        "roles": sorted(role_of.values()),
        "history": sorted(history, key=lambda record: sorted(map(str, record.items()))),
    }


def _csv(*lines: str, header: str = HEADER) -> bytes:
    return "\n".join([header, *lines]).encode()


# --- The comparisons ---------------------------------------------------------------------------------


def test_new_and_changed_people_are_written_exactly_as_the_orm_wrote_them(
    account, manager, teammate
):
    boss = ContactFactory(account=account, email="boss@client.example", name="Boss")
    ContactFactory(
        account=account,
        email="deputy@client.example",
        name="Deputy",
        reports_to=boss,
        roles=["champion", "user"],
        owner=teammate,
    )
    ContactFactory(account=account, email="steady@client.example", name="Steady", roles=["user"])
    data = _csv(
        # A new person reporting to someone further down the file, and to someone existing.
        f"{NORTHWIND},Ann Early,ann@client.example,CFO,Finance,Budget holder; Champion,5,"
        "zoe@client.example,manager@example.com,",
        f"{NORTHWIND},Bo Later,bo@client.example,,,,,boss@client.example,,Left the company",
        f"{NORTHWIND},Zoe Top,ZOE@client.example,CEO,Executive,Decision maker,4,,,Changed role",
        # Changes: a new manager, other roles and owner, leaving; and someone unchanged.
        f"{NORTHWIND},Deputy,deputy@client.example,Operations Director,Operations,Detractor,3,"
        "ann@client.example,manager@example.com,Left the company",
        f"{NORTHWIND},Boss,boss@client.example,Operations Director,Operations,,3,,"
        "manager@example.com,",
        f"{NORTHWIND},Steady,steady@client.example,Operations Director,Operations,User,3,,"
        "manager@example.com,",
    )

    new = _outcome(account, data, user=manager, apply=importing.apply)
    old = _outcome(account, data, user=manager, apply=_orm_apply)

    assert new == old
    assert set(new["contacts"]) == {
        "ann@client.example",
        "bo@client.example",
        "zoe@client.example",
        "deputy@client.example",
        "boss@client.example",
        "steady@client.example",
    }
    ann = new["contacts"]["ann@client.example"]
    assert (ann["reports_to_id"], ann["owner_id"], ann["influence"]) == (
        "zoe@client.example",
        manager.pk,
        5,
    )
    assert (ann["created_at"], ann["updated_at"], ann["pulse_consent_at"]) == ("now",) * 3
    assert (ann["seniority"], ann["preferred_language"], ann["pulse_consent"]) == (
        "",
        "en",
        "opted_in",
    )
    bo = new["contacts"]["bo@client.example"]
    assert (bo["status"], bo["left_on"]) == ("left", timezone.localdate())
    deputy = new["contacts"]["deputy@client.example"]
    assert (deputy["reports_to_id"], deputy["status"]) == ("ann@client.example", "left")
    imported = [
        r for r in new["history"] if r["history_change_reason"] == "Imported from people.csv"
    ]
    assert sorted((r["id"], r["history_type"]) for r in imported) == [
        ("ann@client.example", "+"),
        ("bo@client.example", "+"),
        ("deputy@client.example", "~"),
        ("zoe@client.example", "+"),
    ]
    assert {r["history_user_id"] for r in imported} == {manager.pk}
    (deputy_record,) = [r for r in imported if r["id"] == "deputy@client.example"]
    assert deputy_record["roles"] == [("deputy@client.example", "detractor")]


def test_the_operators_import_without_a_user_is_written_as_before(account):
    data = _csv(
        f"{NORTHWIND},Ann,ann@client.example,,,User,,bo@client.example,,",
        f"{NORTHWIND},Bo,bo@client.example,,,,2,,,",
        header="account,name,email,title,department,roles,influence,reports_to_email,"
        "owner_email,status",
    )
    new = _outcome(account, data, user=None, apply=importing.apply)
    old = _outcome(account, data, user=None, apply=_orm_apply)
    assert new == old
    assert {record["history_user_id"] for record in new["history"]} == {None}


def test_a_file_without_optional_columns_gives_new_people_the_field_defaults(account, manager):
    data = _csv("Ann,ann@client.example", "Bo,bo@client.example", header="name,email")
    new = _outcome(account, data, user=manager, apply=importing.apply, into=account)
    old = _outcome(account, data, user=manager, apply=_orm_apply, into=account)
    assert new == old
    ann = new["contacts"]["ann@client.example"]
    assert (ann["status"], ann["influence"], ann["owner_id"], ann["job_title"]) == (
        "active",
        None,
        None,
        "",
    )


def test_a_file_of_many_batches_writes_the_same_rows_as_the_orm(account, manager):
    owners = [manager.email, "teammate@example.com", ""]
    roles = ["", "Champion", "User; Influencer", "Decision maker"]
    lines = [
        f"{NORTHWIND},Person {i},p{i}@client.example,Title {i % 7},Dept {i % 5},"
        f"{roles[i % 4]},{'' if i % 6 == 0 else i % 5 + 1},"
        f"{'' if i == 0 else f'p{(i - 1) // 8}@client.example'},{owners[i % 3]},"
        f"{'Left the company' if i % 25 == 0 else ''}"
        for i in range(1_200)
    ]
    data = _csv(*lines)
    new = _outcome(account, data, user=manager, apply=importing.apply)
    old = _outcome(account, data, user=manager, apply=_orm_apply)
    assert new == old
    assert len(new["contacts"]) == len(new["history"]) == 1_200


# --- Keys and failures ---------------------------------------------------------------------------------


def test_reserved_keys_follow_the_largest_key_ever_given(account):
    gone = ContactFactory(account=account)
    last = gone.pk
    gone.delete()
    (reserved, after) = importing._reserve_ids(Contact, 2)
    assert last < reserved < after


def test_someone_added_between_the_checks_and_the_write_fails_cleanly(account, manager):
    frame, _ = importing.parse(_csv(f"{NORTHWIND},Ann,ann@client.example,,,Champion,,,,"))
    plan = importing.validate(frame, user=manager, filename="race.csv")
    ContactFactory(account=account, email="ANN@client.example")
    before = (Contact.objects.count(), Contact.history.count())

    with pytest.raises(IntegrityError):
        importing.apply(plan, actor=manager)

    assert (Contact.objects.count(), Contact.history.count()) == before


def test_the_history_user_falls_back_to_nobody_outside_a_request():
    assert importing._history_user_id(None) is None
    user = UserFactory()
    assert importing._history_user_id(user) == user.pk
