"""The account's Actions tab and the action page: list, create, edit, log, focus, scoping."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from actions.models import Action
from actions.services.actions import action_create
from tests.factories import ContactFactory
from tests.pulses.factories import (
    InvitationFactory,
    PulseProgrammeFactory,
    WaveFactory,
    response_with_answers,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def wave(account):
    return WaveFactory(
        name="May pulse",
        opens_on=timezone.localdate() - timedelta(days=20),
        programme=PulseProgrammeFactory(accounts=[account]),
        closed=True,
    )


@pytest.fixture
def action(account, manager, wave):
    return action_create(
        account=account, by=manager, fields={"title": "Clear invoices", "is_focus": True}
    )


def _url(account):
    return reverse("actions:account", args=[account.pk])


def test_the_tab_shows_the_focus_and_open_actions(client_for, manager, account, action):
    action_create(account=account, by=manager, fields={"title": "Faster support", "priority": 1})
    page = client_for(manager).get(_url(account))
    assert page.status_code == 200
    assert page.context["focus"] == action
    assert [a.title for a in page.context["open_actions"]] == ["Faster support"]
    html = page.content.decode()
    assert "One thing to fix" in html
    assert 'aria-current="page" href="/accounts/' in html.split("Actions</a>")[0][-200:]


def test_a_teammate_adds_an_action(client_for, teammate, account, wave):
    page = client_for(teammate).post(
        _url(account), {"title": "Quarterly roadmap call", "priority": 2, "status": "open"}
    )
    assert page.status_code == 302
    created = Action.objects.get()
    assert (created.title, created.created_by, created.cycle_start) == (
        "Quarterly roadmap call",
        teammate,
        wave.opens_on,
    )


def test_a_second_focus_shows_a_clear_error_and_saves_nothing(client_for, manager, account, action):
    page = client_for(manager).post(
        _url(account), {"title": "Another", "priority": 2, "status": "open", "is_focus": "on"}
    )
    assert page.status_code == 400
    assert "already has its one thing to fix for this pulse cycle: “Clear invoices”" in (
        page.content.decode().replace("&ldquo;", "“").replace("&rdquo;", "”")
    )
    assert Action.objects.count() == 1


def test_raise_an_action_from_a_response_prefills_its_source(client_for, manager, account, wave):
    ana = ContactFactory(account=account, name="Ana Alvarez")
    InvitationFactory(wave=wave, contact=ana)
    response = response_with_answers(
        wave=wave, contact=ana, answers={"relationship": 5, "improve": "Invoices are unclear. Fix"}
    )
    page = client_for(manager).get(_url(account) + f"?response={response.pk}")
    form = page.context["form"]
    assert form.initial["source_response"] == response.pk
    assert form.initial["title"] == "Invoices are unclear"
    assert page.context["show_form"]


def test_a_response_of_another_account_is_not_prefilled(client_for, manager, account, outsider):
    from tests.factories import AccountFactory

    foreign = ContactFactory(account=AccountFactory(owner=outsider))
    response = response_with_answers(
        wave=WaveFactory(), contact=foreign, answers={"improve": "Secret"}
    )
    page = client_for(manager).get(_url(account) + f"?response={response.pk}")
    assert page.context["form"].initial == {}
    assert b"Secret" not in page.content


def test_updating_the_status_writes_the_log_and_the_statement(client_for, manager, action):
    client = client_for(manager)
    data = {
        "title": action.title,
        "priority": 2,
        "status": "done",
        "is_focus": "on",
        "you_said_we_did": "Every invoice now carries your PO number.",
        "note": "Finance confirmed.",
    }
    page = client.post(action.get_absolute_url(), data)
    assert page.status_code == 302
    action.refresh_from_db()
    assert action.status == "done"
    assert action.you_said_we_did == "Every invoice now carries your PO number."
    detail = client.get(action.get_absolute_url())
    assert "Finance confirmed." in detail.content.decode()
    assert "Status: Open → Done" in detail.content.decode()


def test_a_statement_before_done_is_refused_on_the_form(client_for, manager, action):
    data = {"title": action.title, "priority": 2, "status": "open", "you_said_we_did": "Soon."}
    page = client_for(manager).post(action.get_absolute_url(), data)
    assert page.status_code == 400
    assert "once the action is done" in page.content.decode()


def test_executives_read_actions_but_do_not_change_them(client_for, executive, account, action):
    client = client_for(executive)
    assert client.get(_url(account)).status_code == 200
    assert client.get(action.get_absolute_url()).status_code == 200
    assert client.post(_url(account), {"title": "x", "priority": 2}).status_code == 403
    assert client.post(action.get_absolute_url(), {"title": "y", "priority": 2}).status_code == 403
    assert Action.objects.get().title == "Clear invoices"


def test_an_outsider_gets_404_for_the_tab_and_the_action(client_for, outsider, account, action):
    client = client_for(outsider)
    assert client.get(_url(account)).status_code == 404
    assert client.post(_url(account), {"title": "x"}).status_code == 404
    assert client.get(action.get_absolute_url()).status_code == 404
    assert client.post(action.get_absolute_url(), {"title": "y"}).status_code == 404


def test_the_tab_costs_the_same_queries_for_few_or_many_actions(client_for, manager, account, wave):
    client = client_for(manager)
    ana = ContactFactory(account=account)
    action_create(account=account, by=manager, fields={"title": "One", "source_contact": ana})
    client.get(_url(account))

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(_url(account)).status_code == 200
        return len(queries)

    few = count()
    for n in range(6):
        action_create(
            account=account,
            by=manager,
            fields={
                "title": f"Action {n}",
                "source_contact": ContactFactory(account=account),
                "source_wave": wave,
                "owner": manager,
                "status": "done" if n % 2 else "open",
            },
        )
    assert count() == few
