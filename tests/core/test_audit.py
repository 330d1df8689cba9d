"""The audit log: append-only, written for each recorded event, administrators-only, exportable."""

import csv
import io
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
import time_machine
from django.urls import reverse

from accounts import services as account_services
from accounts.models import Role
from contacts import services as contact_services
from core.models import AuditEvent
from core.services.audit import audit_record
from tests.factories import AccountFactory, ContactFactory, UserFactory

pytestmark = pytest.mark.django_db


def _event(**overrides):
    fields = {"actor": None, "verb": AuditEvent.Verb.VIEWED, "target_type": "contact"}
    return audit_record(**{**fields, **overrides})


# --- Append-only ------------------------------------------------------------------------------


def test_an_entry_cannot_be_changed_or_deleted_one_by_one(manager):
    event = _event(actor=manager, target="Someone")
    event.target = "Someone else"
    with pytest.raises(TypeError, match="append-only"):
        event.save()
    with pytest.raises(TypeError, match="append-only"):
        event.delete()
    event.refresh_from_db()
    assert event.target == "Someone"


def test_the_log_cannot_be_changed_or_deleted_in_bulk(manager):
    _event(actor=manager)
    with pytest.raises(TypeError, match="append-only"):
        AuditEvent.objects.all().update(target="rewritten")
    with pytest.raises(TypeError, match="append-only"):
        AuditEvent.objects.filter(actor=manager).delete()
    assert AuditEvent.objects.filter(actor=manager).count() == 1


def test_an_entry_outlives_its_actor_by_their_email(manager):
    _event(actor=manager, target="Someone")
    UserFactory(email="colleague@example.com")
    event = AuditEvent.objects.get()
    assert event.actor_label == "manager@example.com"


# --- The page: administrators only ------------------------------------------------------------


@pytest.mark.parametrize("name", ["manager", "teammate", "outsider", "executive"])
def test_nobody_but_administrators_sees_or_exports_the_log(request, client_for, name):
    client = client_for(request.getfixturevalue(name))
    assert client.get(reverse("audit_log")).status_code == 403
    for fmt in ("csv", "xlsx"):
        assert client.get(reverse("audit_log_export", args=[fmt])).status_code == 403
    assert not AuditEvent.objects.filter(verb=AuditEvent.Verb.EXPORTED).exists()


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get(reverse("audit_log"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_administrators_filter_the_log_by_actor_verb_target_and_dates(
    client_for, administrator, manager, executive
):
    with time_machine.travel(datetime(2026, 1, 10, 12, 0, tzinfo=UTC)):
        _event(actor=manager, target="Old view")
    with time_machine.travel(datetime(2026, 2, 10, 12, 0, tzinfo=UTC)):
        _event(actor=manager, target="Ada Lovelace (Northwind)")
        _event(actor=executive, verb=AuditEvent.Verb.DOWNLOADED, target_type="report", target="Q1")
    client = client_for(administrator)

    def shown(**params):
        page = client.get(reverse("audit_log"), params)
        assert page.status_code == 200
        return [event.target for event in page.context["page"].object_list]

    assert shown(actor="manager@") == ["Ada Lovelace (Northwind)", "Old view"]
    assert shown(actor="Eve Exec") == ["Q1"]
    assert shown(verb="downloaded") == ["Q1"]
    assert shown(target_type="contact", since="2026-02-01") == ["Ada Lovelace (Northwind)"]
    assert shown(until="2026-01-31") == ["Old view"]
    page = client.get(reverse("audit_log"), {"actor": "manager@"})
    assert b"Ada Lovelace (Northwind)" in page.content


def test_a_reversed_date_range_is_a_clear_error(client_for, administrator):
    response = client_for(administrator).get(
        reverse("audit_log"), {"since": "2026-03-01", "until": "2026-02-01"}
    )
    assert response.status_code == 400
    assert "“From” must be on or before “To”." in response.content.decode()


def test_the_log_is_paginated_with_a_bounded_number_of_queries(
    client_for, administrator, django_assert_max_num_queries
):
    actors = [UserFactory() for _ in range(5)]
    for number in range(60):
        _event(actor=actors[number % 5], target=f"Person {number}")
    client = client_for(administrator)
    with django_assert_max_num_queries(12):
        first = client.get(reverse("audit_log"))
    assert len(first.context["page"].object_list) == 50
    second = client.get(reverse("audit_log"), {"page": 2})
    # 60 entries plus the admin's own sign-in are not all on page one.
    assert len(second.context["page"].object_list) == AuditEvent.objects.count() - 50


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_hold_the_filtered_log_neutralise_formulas_and_are_audited(
    client_for, administrator, manager, fmt
):
    _event(actor=manager, target='=HYPERLINK("http://evil.example","x")')
    _event(actor=manager, verb=AuditEvent.Verb.EXPORTED, target_type="contacts", target="People")
    response = client_for(administrator).get(
        reverse("audit_log_export", args=[fmt]), {"verb": "viewed"}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        values = list(sheet.values)
        rows = [dict(zip(values[0], row, strict=True)) for row in values[1:]]
    assert len(rows) == 1
    assert rows[0]["actor"] == "manager@example.com"
    assert rows[0]["target"] == '\'=HYPERLINK("http://evil.example","x")'

    export = AuditEvent.objects.get(target_type="audit_log")
    assert export.actor == administrator
    assert export.verb == AuditEvent.Verb.EXPORTED
    assert export.detail == {"format": fmt, "rows": 1, "filters": {"verb": "viewed"}}


def test_an_unknown_export_format_is_not_found_and_not_recorded(client_for, administrator):
    response = client_for(administrator).get(reverse("audit_log_export", args=["pdf"]))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(target_type="audit_log").exists()


def test_the_admin_navigation_links_the_log_for_administrators_only(
    client_for, administrator, manager
):
    url = reverse("audit_log").encode()
    assert url in client_for(administrator).get(reverse("accounts:list")).content
    assert url not in client_for(manager).get(reverse("accounts:list")).content


# --- Entries for each recorded event ----------------------------------------------------------


def test_signing_in_is_recorded_with_the_address(client, manager, password):
    client.post(reverse("login"), {"login": manager.email, "password": password})
    event = AuditEvent.objects.get(verb=AuditEvent.Verb.SIGNED_IN)
    assert (event.actor, event.target_type, event.target_id) == (manager, "user", str(manager.pk))
    assert event.ip_address == "127.0.0.1"
    assert event.detail == {"method": "password", "second_factor": False}


def test_a_failed_sign_in_records_nothing(client, manager):
    client.post(reverse("login"), {"login": manager.email, "password": "wrong"})
    assert not AuditEvent.objects.filter(verb=AuditEvent.Verb.SIGNED_IN).exists()


def test_viewing_a_person_and_their_story_is_recorded(client_for, teammate, account):
    contact = ContactFactory(account=account, name="Ada Lovelace")
    response = client_for(teammate).get(reverse("contacts:detail", args=[contact.pk]))
    assert response.status_code == 200
    event = AuditEvent.objects.get(verb=AuditEvent.Verb.VIEWED)
    assert (event.actor, event.target_type, event.target_id) == (
        teammate,
        "contact",
        str(contact.pk),
    )
    assert event.target == "Ada Lovelace (Northwind Logistics)"


def test_a_person_outside_your_accounts_is_not_found_and_not_recorded(
    client_for, outsider, account
):
    contact = ContactFactory(account=account)
    assert (
        client_for(outsider).get(reverse("contacts:detail", args=[contact.pk])).status_code == 404
    )
    assert not AuditEvent.objects.filter(verb=AuditEvent.Verb.VIEWED).exists()


def test_a_role_change_in_the_admin_is_recorded(client_for, administrator, manager):
    response = client_for(administrator).post(
        reverse("admin:accounts_user_change", args=[manager.pk]),
        {
            "email": manager.email,
            "full_name": manager.full_name,
            "job_title": "",
            "phone": "",
            "role": Role.EXECUTIVE,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(verb=AuditEvent.Verb.CHANGED, target_type="user")
    assert event.actor == administrator
    assert event.detail == {"field": "role", "from": "Account manager", "to": "Executive"}


def test_saving_a_user_without_changing_access_records_nothing(client_for, administrator, manager):
    client_for(administrator).post(
        reverse("admin:accounts_user_change", args=[manager.pk]),
        {
            "email": manager.email,
            "full_name": "Maya M. Manager",
            "job_title": "KAM",
            "phone": "",
            "role": manager.role,
            "is_active": "on",
        },
    )
    assert not AuditEvent.objects.filter(verb=AuditEvent.Verb.CHANGED).exists()


def test_a_change_of_account_owner_is_recorded(account, administrator, teammate):
    account_services.account_update(
        account=account, fields={"owner": teammate}, actor=administrator
    )
    event = AuditEvent.objects.get(verb=AuditEvent.Verb.CHANGED, target_type="account")
    assert event.actor == administrator
    assert event.target == "Northwind Logistics"
    assert event.detail == {
        "field": "owner",
        "from": "manager@example.com",
        "to": "teammate@example.com",
    }


def test_editing_an_account_without_a_new_owner_records_nothing(account, manager):
    account_services.account_update(account=account, fields={"industry": "Freight"}, actor=manager)
    assert not AuditEvent.objects.exists()


def test_a_change_of_contact_owner_is_recorded(account, manager, teammate):
    contact = ContactFactory(account=account, name="Grace Hopper")
    contact_services.contact_update(contact=contact, fields={"owner": teammate}, actor=manager)
    contact_services.contact_update(contact=contact, fields={"job_title": "CEO"}, actor=manager)
    event = AuditEvent.objects.get(verb=AuditEvent.Verb.CHANGED)
    assert (event.actor, event.target_type, event.target) == (manager, "contact", "Grace Hopper")
    assert event.detail["from"] == "manager@example.com"
    assert event.detail["to"] == "teammate@example.com"


def test_a_handover_is_recorded_with_what_moved(client_for, administrator, manager, teammate):
    AccountFactory(name="Bluepeak", owner=manager)
    ContactFactory(account=AccountFactory(name="Helios", owner=manager))
    response = client_for(administrator).post(
        reverse("contacts:handover"),
        {"from_user": manager.pk, "to_user": teammate.pk, "note": "Leaving"},
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(target_type="handover")
    assert event.actor == administrator
    assert event.detail["from"] == "manager@example.com"
    assert event.detail["to"] == "teammate@example.com"
    assert event.detail["contacts"] == 1
    assert sorted(event.detail["account_names"]) == ["Bluepeak", "Helios"]


def test_entries_are_kept_in_the_order_they_happened(manager):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as traveller:
        for number in range(3):
            _event(actor=manager, target=f"#{number}")
            traveller.shift(timedelta(minutes=1))
    assert [e.target for e in AuditEvent.objects.all()] == ["#2", "#1", "#0"]
