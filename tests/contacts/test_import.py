"""Importing people from CSV and XLSX: the rules, all-or-nothing errors, the command and the page."""

import io
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.importing import Action, canonical_column, import_contacts
from contacts.models import Contact
from tests.factories import ContactFactory, UserFactory

pytestmark = pytest.mark.django_db

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "contacts_example.csv"
HEADER = "account,name,email,title,department,roles,influence,reports_to_email,owner_email,status"


def csv(*lines: str, header: str = HEADER) -> bytes:
    return "\n".join([header, *lines]).encode()


def history_count() -> int:
    return Contact.history.count()


@pytest.fixture
def example():
    return EXAMPLE.read_bytes()


# --- The happy path -------------------------------------------------------------------------------


def test_example_file_creates_everyone_with_roles_owners_and_reporting_lines(
    account, manager, teammate, example
):
    plan = import_contacts(example, filename="contacts_example.csv", user=manager)

    assert plan.errors == []
    assert (plan.created, plan.updated, plan.unchanged) == (8, 0, 0)
    people = {c.email: c for c in account.contacts.select_related("reports_to", "owner")}
    assert len(people) == 8
    tomas = people["tomas.lindqvist@northwind.example"]
    assert tomas.job_title == "Chief Financial Officer"
    assert tomas.reports_to.email == "helena.varga@northwind.example"
    assert tomas.role_codes == {"budget_holder", "decision_maker"}
    assert tomas.influence == 5
    assert tomas.owner == manager
    assert tomas.phone == "+46 8 555 0101"
    assert people["sara.okafor@northwind.example"].reports_to.email == (
        "jonas.becker@northwind.example"
    )
    assert people["jonas.becker@northwind.example"].role_codes == {"influencer", "user"}
    assert people["priya.raman@northwind.example"].owner == teammate
    assert people["marco.rossi@northwind.example"].status == Contact.Status.CHANGED_ROLE
    lena = people["lena.fischer@northwind.example"]
    assert (lena.status, lena.influence, lena.owner) == (Contact.Status.LEFT, None, None)
    assert lena.left_on is not None
    assert all(c.pulse_consent_at is not None for c in people.values())


def test_each_new_person_gets_one_history_entry_naming_the_importer_the_file_and_the_roles(
    account, manager, example
):
    import_contacts(example, filename="contacts_example.csv", user=manager)

    tomas = account.contacts.get(email="tomas.lindqvist@northwind.example")
    (record,) = tomas.history.all()
    assert record.history_type == "+"
    assert record.history_user == manager
    assert record.history_change_reason == "Imported from contacts_example.csv"
    roles = set(record.buying_roles.values_list("buyingrole_id", flat=True))
    assert roles == {"budget_holder", "decision_maker"}


def test_reports_to_may_name_a_later_row_or_someone_already_in_the_account(account, manager):
    boss = ContactFactory(account=account, email="boss@client.example")
    plan = import_contacts(
        csv(
            "Northwind Logistics,Ann,ann@client.example,,,,,bea@client.example,,",
            "Northwind Logistics,Bea,bea@client.example,,,,,boss@client.example,,",
        ),
        filename="later.csv",
        user=manager,
    )

    assert plan.errors == []
    ann = account.contacts.get(email="ann@client.example")
    assert ann.reports_to.email == "bea@client.example"
    assert ann.reports_to.reports_to == boss


def test_the_account_can_be_given_instead_of_a_column(account, manager):
    plan = import_contacts(
        csv("Ann,ANN@Client.Example", header="name,email"),
        filename="people.csv",
        user=manager,
        account=account,
    )
    assert plan.errors == []
    assert account.contacts.get().email == "ann@client.example"


# --- File formats and headers ---------------------------------------------------------------------


def test_utf8_bom_and_semicolons_are_detected(account, manager):
    data = "\ufeffAccount;Name;Email;Title\nNorthwind Logistics;Zoë Ünal;zoe@client.example;CTO, EMEA\n"
    plan = import_contacts(data.encode(), filename="excel.csv", user=manager)

    assert plan.errors == []
    zoe = account.contacts.get()
    assert (zoe.name, zoe.job_title) == ("Zoë Ünal", "CTO, EMEA")


def test_xlsx_workbooks_are_read_with_numbers_as_text(account, manager):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Company", "Full name", "E-mail", "Influence", "Phone", "Buying roles"])
    sheet.append(
        ["Northwind Logistics", "Ann Example", "ann@client.example", 4, 4420555, "Champion"]
    )
    sheet.append([])  # a blank row is skipped but still counted
    sheet.append(["Northwind Logistics", "", "bad", 9.5, None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)

    plan = import_contacts(buffer.getvalue(), filename="people.xlsx", user=manager)
    assert [(e.row, e.column) for e in plan.errors] == [
        (4, "name"),
        (4, "email"),
        (4, "influence"),
    ]

    fixed = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    fixed.active.delete_rows(3, 2)
    buffer = io.BytesIO()
    fixed.save(buffer)
    plan = import_contacts(buffer.getvalue(), filename="people.xlsx", user=manager)
    assert plan.errors == []
    ann = account.contacts.get()
    assert (ann.influence, ann.phone, ann.role_codes) == (4, "4420555", {"champion"})


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("E-mail", "email"),
        ("Email Address", "email"),
        ("JOB TITLE", "title"),
        ("Position", "title"),
        ("title", "title"),
        ("Reports to", "reports_to_email"),
        ("Manager email", "reports_to_email"),
        ("reports_to_email", "reports_to_email"),
        ("Owner", "owner_email"),
        ("Relationship owner", "owner_email"),
        ("Company", "account"),
        ("Account name", "account"),
        ("Full name", "name"),
        ("Role(s)", "roles"),
        ("Buying roles", "roles"),
        ("Dept.", "department"),
        ("Phone number", "phone"),
        ("Favourite colour", None),
    ],
)
def test_headers_are_matched_case_insensitively_with_synonyms(header, column):
    assert canonical_column(header) == column


def test_a_file_with_synonym_headers_imports(account, manager, teammate):
    data = csv(
        "Northwind Logistics,Ann,ann@client.example,COO,Ops,champion|USER,3,teammate@example.com,x",
        header="Company,Full Name,E-mail address,Position,Dept,Role(s),Influence,"
        "Relationship Owner,Notes",
    )
    plan = import_contacts(data, filename="crm.csv", user=manager)

    assert plan.errors == []
    assert plan.ignored_columns == ["Notes"]
    ann = account.contacts.get()
    assert (ann.job_title, ann.department, ann.owner) == ("COO", "Ops", teammate)
    assert ann.role_codes == {"champion", "user"}


@pytest.mark.parametrize(
    ("data", "row", "message"),
    [
        (b"", None, "The file is empty."),
        ("name,email\nJosé,j@x.example\n".encode("cp1252"), None, "not UTF-8"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", None, "old Excel file (.xls)"),
        (b"PK\x03\x04not really a workbook", None, "could not be read as an Excel workbook"),
        (b"name,email\nAnn,a@x.example,extra\n", None, "Row 2 has 3 cells but the header has 2"),
        (b"name,email,E-mail\n", 1, "both mean email"),
        (b"name,title\nAnn,CEO\n", 1, "no “account”, “email” columns"),
        (b"account,name,email\n", None, "no people"),
    ],
)
def test_unreadable_files_are_reported_and_nothing_is_written(manager, account, data, row, message):
    plan = import_contacts(data, filename="broken.csv", user=manager)

    (error,) = plan.errors
    assert (error.row, message in error.message) == (row, True)
    assert not Contact.objects.exists()


# --- Validation: all or nothing -------------------------------------------------------------------


def test_every_error_is_reported_with_its_row_and_nothing_is_written(
    account, manager, foreign_account
):
    ContactFactory(account=account, email="existing@client.example", name="Existing Person")
    before = (Contact.objects.count(), history_count())
    data = csv(
        "Northwind Logistics,Valid Person,valid@client.example,CEO,,Champion,5,,,",  # 2: fine
        "Northwind Logistics,,noname@client.example,,,,,,,",  # 3
        "Northwind Logistics,Bad Email,not-an-email,,,,,,,",  # 4
        "Northwind Logistics,Bad Role,role@client.example,,,Champion;Sponsor,,,,",  # 5
        "Northwind Logistics,Too Influential,infl@client.example,,,,7,,,",  # 6
        "Northwind Logistics,Vague,vague@client.example,,,,a lot,,,",  # 7
        "Northwind Logistics,Orphan,orphan@client.example,,,,,,nobody@example.com,",  # 8
        "Atlantis Corp,Lost,lost@atlantis.example,,,,,,,",  # 9
        "Foreign Foods,Sneaky,sneaky@foreign.example,,,,,,,",  # 10
        "Northwind Logistics,Dangling,dangling@client.example,,,,,ghost@client.example,,",  # 11
        "Northwind Logistics,Narcissus,self@client.example,,,,,self@client.example,,",  # 12
        "Northwind Logistics,Loop A,loop.a@client.example,,,,,loop.b@client.example,,",  # 13
        "Northwind Logistics,Loop B,loop.b@client.example,,,,,loop.a@client.example,,",  # 14
        "Northwind Logistics,Twin,VALID@client.example,,,,,,,",  # 15
        "Northwind Logistics,Gone,gone@client.example,,,,,,,retired",  # 16
        "Northwind Logistics,Fine Too,existing@client.example,COO,,,,valid@client.example,,",
    )
    plan = import_contacts(data, filename="mixed.csv", user=manager)

    assert [(e.row, e.column, e.message) for e in plan.errors] == [
        (3, "name", "Name is missing."),
        (4, "email", "“not-an-email” is not a valid email address."),
        (
            5,
            "roles",
            "Unknown buying role “Sponsor”. Use Decision maker, Budget holder, Champion, "
            "Influencer, Gatekeeper, Detractor, User, Technical evaluator; separate several "
            "with ; or |.",
        ),
        (6, "influence", "Influence must be from 1 to 5 (got 7)."),
        (7, "influence", "Influence must be a whole number from 1 to 5 (got “a lot”)."),
        (8, "owner_email", "No active user has the email “nobody@example.com”."),
        (9, "account", "Unknown account “Atlantis Corp”, or you may not add people to it."),
        (10, "account", "Unknown account “Foreign Foods”, or you may not add people to it."),
        (
            11,
            "reports_to_email",
            "“ghost@client.example” is neither in this file nor among the people of this account.",
        ),
        (12, "reports_to_email", "A person cannot report to themselves."),
        (
            13,
            "reports_to_email",
            "Reporting loop: loop.a@client.example → loop.b@client.example → "
            "loop.a@client.example.",
        ),
        (
            14,
            "reports_to_email",
            "Reporting loop: loop.b@client.example → loop.a@client.example → "
            "loop.b@client.example.",
        ),
        (15, "email", "“valid@client.example” is already on row 2 for this account."),
        (16, "status", "Unknown status “retired”. Use Active, Changed role, Left the company."),
    ]
    assert plan.rows == []
    assert (Contact.objects.count(), history_count()) == before
    assert not foreign_account.contacts.exists()


def test_a_loop_through_people_already_in_the_account_is_caught(account, manager):
    boss = ContactFactory(account=account, email="boss@client.example")
    deputy = ContactFactory(account=account, email="deputy@client.example", reports_to=boss)
    data = csv(
        # The boss would report to someone new, who reports to the deputy: deputy → boss → new.
        "Northwind Logistics,Boss,boss@client.example,,,,,new@client.example,,",
        "Northwind Logistics,New,new@client.example,,,,,deputy@client.example,,",
    )
    plan = import_contacts(data, filename="loop.csv", user=manager)

    assert [(e.row, e.message) for e in plan.errors] == [
        (
            2,
            "Reporting loop: boss@client.example → new@client.example → deputy@client.example → "
            "boss@client.example.",
        ),
        (
            3,
            "Reporting loop: new@client.example → deputy@client.example → boss@client.example → "
            "new@client.example.",
        ),
    ]
    boss.refresh_from_db()
    assert boss.reports_to is None
    assert not account.contacts.filter(email="new@client.example").exists()
    assert deputy.history.count() == 1


def test_reversing_a_reporting_line_within_one_file_is_not_a_loop(account, manager):
    boss = ContactFactory(account=account, email="boss@client.example")
    deputy = ContactFactory(account=account, email="deputy@client.example", reports_to=boss)
    data = csv(
        "Northwind Logistics,Boss,boss@client.example,,,,,deputy@client.example,,",
        "Northwind Logistics,Deputy,deputy@client.example,,,,,,,",
        header="account,name,email,title,department,roles,influence,reports_to_email,"
        "owner_email,status",
    )
    plan = import_contacts(data, filename="swap.csv", user=manager, dry_run=True)
    assert plan.errors == []
    plan = import_contacts(data, filename="swap.csv", user=manager)

    assert plan.errors == []
    boss.refresh_from_db()
    deputy.refresh_from_db()
    assert (boss.reports_to, deputy.reports_to) == (deputy, None)


def test_executive_who_may_see_but_not_contribute_gets_the_unknown_account_message(
    account, executive
):
    plan = import_contacts(
        csv("Northwind Logistics,Ann,ann@client.example,,,,,,,"), filename="x.csv", user=executive
    )
    assert [e.message for e in plan.errors] == [
        "Unknown account “Northwind Logistics”, or you may not add people to it."
    ]
    assert not Contact.objects.exists()


def test_a_row_naming_another_account_than_the_one_imported_into_is_an_error(account, manager):
    data = csv(
        "Northwind Logistics,Ann,ann@client.example,,,,,,,",
        "Southwind,Bea,bea@client.example,,,,,,,",
    )
    plan = import_contacts(data, filename="x.csv", user=manager, account=account)
    assert [(e.row, e.column) for e in plan.errors] == [(3, "account")]


# --- Dry run, re-import and updates ---------------------------------------------------------------


def test_dry_run_reports_what_would_change_and_writes_nothing(account, manager, example):
    ContactFactory(
        account=account,
        email="helena.varga@northwind.example",
        name="Helena Varga",
        job_title="CEO",
        department="Executive",
        influence=5,
        owner=manager,
        roles=["decision_maker"],
        phone="+36 1 555 0100",
        location="Budapest",
    )
    before = (Contact.objects.count(), history_count())

    plan = import_contacts(example, filename="contacts_example.csv", user=manager, dry_run=True)

    assert plan.errors == []
    assert (plan.created, plan.updated, plan.unchanged) == (7, 1, 0)
    (helena,) = [row for row in plan.rows if row.action is Action.UPDATE]
    assert [(c.column, c.old, c.new) for c in helena.changes] == [
        ("title", "CEO", "Chief Executive Officer")
    ]
    assert not plan.written
    assert (Contact.objects.count(), history_count()) == before


def test_reimporting_the_same_file_changes_nothing_and_records_no_history(
    account, manager, example
):
    import_contacts(example, filename="contacts_example.csv", user=manager)
    snapshot = list(account.contacts.values().order_by("pk"))
    before = history_count()

    plan = import_contacts(example, filename="contacts_example.csv", user=manager)

    assert (plan.created, plan.updated, plan.unchanged) == (0, 0, 8)
    assert list(account.contacts.values().order_by("pk")) == snapshot
    assert history_count() == before


def test_a_changed_file_updates_only_what_changed_and_records_who_and_why(
    account, manager, teammate, example
):
    import_contacts(example, filename="contacts_example.csv", user=manager)
    changed = (
        example.decode()
        .replace(
            "Chief Financial Officer,Finance,Budget holder; Decision maker,5",
            "CFO,Finance,Budget holder,4",
        )
        .replace(
            "jonas.becker@northwind.example,teammate@example.com,Active",
            "priya.raman@northwind.example,manager@example.com,Left the company",
        )
    )
    assert changed != example.decode()

    plan = import_contacts(changed.encode(), filename="contacts_v2.csv", user=teammate)

    assert (plan.created, plan.updated, plan.unchanged) == (0, 2, 6)
    changes = {
        row.email: [(c.column, c.old, c.new) for c in row.changes] for row in plan.changed_rows
    }
    assert changes == {
        "tomas.lindqvist@northwind.example": [
            ("title", "Chief Financial Officer", "CFO"),
            ("roles", "Budget holder; Decision maker", "Budget holder"),
            ("influence", "5", "4"),
        ],
        "sara.okafor@northwind.example": [
            ("reports_to_email", "jonas.becker@northwind.example", "priya.raman@northwind.example"),
            ("owner_email", "teammate@example.com", "manager@example.com"),
            ("status", "Active", "Left the company"),
        ],
    }
    tomas = account.contacts.get(email="tomas.lindqvist@northwind.example")
    assert (tomas.job_title, tomas.influence, tomas.role_codes) == ("CFO", 4, {"budget_holder"})
    latest = tomas.history.first()
    assert (latest.history_type, latest.history_user, latest.history_change_reason) == (
        "~",
        teammate,
        "Imported from contacts_v2.csv",
    )
    assert set(latest.buying_roles.values_list("buyingrole_id", flat=True)) == {"budget_holder"}
    assert tomas.history.count() == 2
    sara = account.contacts.get(email="sara.okafor@northwind.example")
    assert (sara.status, sara.owner, sara.reports_to.name) == ("left", manager, "Priya Raman")
    assert sara.left_on is not None
    helena = account.contacts.get(email="helena.varga@northwind.example")
    assert helena.history.count() == 1


def test_absent_columns_leave_fields_alone_and_empty_cells_clear_them(account, manager):
    ann = ContactFactory(
        account=account,
        email="ann@client.example",
        name="Ann",
        job_title="COO",
        department="Ops",
        influence=4,
        roles=["champion"],
        phone="123",
    )
    plan = import_contacts(
        csv("Ann,ann@client.example,,", header="name,email,department,influence"),
        filename="partial.csv",
        user=manager,
        account=account,
    )

    assert plan.errors == []
    ann.refresh_from_db()
    assert (ann.job_title, ann.phone, ann.role_codes) == ("COO", "123", {"champion"})
    assert (ann.department, ann.influence) == ("", None)


def test_an_empty_status_keeps_the_current_one(account, manager):
    ann = ContactFactory(account=account, email="ann@client.example", name="Ann", status="left")
    plan = import_contacts(
        csv("Ann,ann@client.example,", header="name,email,status"),
        filename="s.csv",
        user=manager,
        account=account,
    )
    assert plan.unchanged == 1
    ann.refresh_from_db()
    assert ann.status == "left"


def test_import_queries_do_not_grow_with_rows(account, manager):
    def queries_for(count: int, offset: int) -> int:
        lines = [
            f"Northwind Logistics,P{i},p{i}@client.example,T,D,Champion;User,3,,manager@example.com,"
            for i in range(offset, offset + count)
        ]
        with CaptureQueriesContext(connection) as captured:
            plan = import_contacts(csv(*lines), filename="n.csv", user=manager)
        assert plan.created == count
        return len(captured)

    assert queries_for(3, 0) == queries_for(60, 100)


# --- The command ----------------------------------------------------------------------------------


def test_command_dry_run_then_import(tmp_path, account, manager, capsys):
    path = tmp_path / "people.csv"
    path.write_bytes(EXAMPLE.read_bytes())

    call_command("import_contacts", str(path), "--dry-run", "--as", "MANAGER@example.com")
    assert "8 would be created, 0 would be updated, 0 unchanged" in capsys.readouterr().out
    assert not Contact.objects.exists()

    call_command("import_contacts", str(path), "--as", "manager@example.com")
    assert "8 were created" in capsys.readouterr().out
    assert account.contacts.count() == 8
    assert account.contacts.first().history.first().history_user == manager


def test_command_reports_errors_and_writes_nothing(tmp_path, account, manager, capsys):
    path = tmp_path / "people.csv"
    path.write_bytes(b"name,email\nAnn,ann@client.example\n,bad\n")

    with pytest.raises(CommandError, match="2 problems; nothing was imported"):
        call_command("import_contacts", str(path), "--account", "northwind logistics")
    err = capsys.readouterr().err
    assert "Row 3, name: Name is missing." in err
    assert "Row 3, email: “bad” is not a valid email address." in err
    assert not Contact.objects.exists()


def test_command_refuses_accounts_the_user_may_not_import_into(tmp_path, account, outsider):
    path = tmp_path / "people.csv"
    path.write_bytes(b"name,email\nAnn,ann@client.example\n")
    with pytest.raises(CommandError, match="Unknown account “Northwind Logistics”"):
        call_command(
            "import_contacts", str(path), "--account", "Northwind Logistics", "--as", outsider.email
        )
    with pytest.raises(CommandError, match="No active user"):
        call_command("import_contacts", str(path), "--as", "nobody@example.com")


# --- The upload page ------------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path / "imports"


def upload(client, account, data: bytes, name: str = "people.csv"):
    file = io.BytesIO(data)
    file.name = name
    return client.post(reverse("contacts:import", args=[account.pk]), {"file": file})


def test_upload_previews_then_confirm_imports_and_removes_the_file(
    client_for, account, manager, media
):
    client = client_for(manager)
    assert client.get(reverse("contacts:import", args=[account.pk])).status_code == 200

    response = upload(client, account, EXAMPLE.read_bytes(), "contacts_example.csv")

    assert response.status_code == 200
    assert b"8 to add" in response.content
    assert b"Confirm import" in response.content
    assert b"Helena Varga" in response.content
    assert not Contact.objects.exists()
    assert len(list(media.iterdir())) == 1

    response = client.post(reverse("contacts:import_confirm", args=[account.pk]))

    assert response.status_code == 302
    assert response.url == reverse("contacts:people", args=[account.pk])
    assert account.contacts.count() == 8
    assert list(media.iterdir()) == []
    assert account.contacts.first().history.first().history_change_reason == (
        "Imported from contacts_example.csv"
    )
    again = client.post(reverse("contacts:import_confirm", args=[account.pk]), follow=True)
    assert b"no import waiting" in again.content


def test_upload_with_errors_lists_them_without_a_confirm_button(
    client_for, account, manager, media
):
    response = upload(
        client_for(manager), account, b"name,email\nAnn,ann@client.example\n,<b>bad</b>\n"
    )

    assert response.status_code == 200
    assert b"Nothing will be imported" in response.content
    assert b"Name is missing." in response.content
    assert b"&lt;b&gt;bad&lt;/b&gt;" in response.content
    assert b"Confirm import" not in response.content
    assert not media.exists() or list(media.iterdir()) == []


def test_confirm_validates_again_and_writes_nothing_if_the_account_changed(
    client_for, account, manager, media
):
    client = client_for(manager)
    boss = ContactFactory(account=account, email="boss@client.example")
    response = upload(
        client,
        account,
        b"name,email,reports_to_email\nAnn,ann@client.example,boss@client.example\n",
    )
    assert b"Confirm import" in response.content
    boss.delete()  # between preview and confirm, someone removes the manager

    response = client.post(reverse("contacts:import_confirm", args=[account.pk]))

    assert response.status_code == 409
    assert b"neither in this file nor among the people" in response.content
    assert not account.contacts.exists()
    assert list(media.iterdir()) == []


def test_uploads_over_five_megabytes_are_refused(client_for, account, manager, media):
    big = b"name,email\n" + b"Ann,ann@client.example\n" * 240_000
    assert len(big) > 5 * 1024 * 1024

    response = upload(client_for(manager), account, big)

    assert response.status_code == 400
    assert b"the limit is 5 MB" in response.content
    assert not Contact.objects.exists()


def test_outsider_gets_404_for_import_and_confirm(client_for, account, outsider, media):
    client = client_for(outsider)
    assert client.get(reverse("contacts:import", args=[account.pk])).status_code == 404
    assert upload(client, account, EXAMPLE.read_bytes()).status_code == 404
    assert client.post(reverse("contacts:import_confirm", args=[account.pk])).status_code == 404
    assert not Contact.objects.exists()


def test_executive_who_is_not_on_the_team_gets_403_for_import(
    client_for, account, executive, media
):
    client = client_for(executive)
    assert client.get(reverse("contacts:import", args=[account.pk])).status_code == 403
    assert upload(client, account, EXAMPLE.read_bytes()).status_code == 403
    assert client.post(reverse("contacts:import_confirm", args=[account.pk])).status_code == 403


def test_teammate_may_import(client_for, account, teammate, media):
    response = upload(client_for(teammate), account, b"name,email\nAnn,ann@client.example\n")
    assert b"1 to add" in response.content


def test_anonymous_visitors_are_sent_to_log_in(client, account):
    response = client.get(reverse("contacts:import", args=[account.pk]))
    assert response.status_code == 302
    assert "/login/" in response.url


def test_a_deactivated_owner_cannot_be_assigned(account, manager):
    UserFactory(email="gone@example.com", is_active=False)
    plan = import_contacts(
        csv("Ann,ann@client.example,gone@example.com", header="name,email,owner"),
        filename="x.csv",
        user=manager,
        account=account,
    )
    assert [e.message for e in plan.errors] == ["No active user has the email “gone@example.com”."]
