"""The owner's inbox, the page to acknowledge a response, and who may do what there."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from actions.models import Acknowledgement, AcknowledgementEmail
from tests.actions.factories import answer
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(account, manager):
    return ContactFactory(
        account=account, name="Ana Alvarez", email="ana@northwind.example", owner=manager
    )


@pytest.fixture
def acknowledgement(ana):
    return answer(
        contact=ana, score=5, improve="Invoices <b>never</b> match\nthe purchase orders."
    ).acknowledgement


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


# --- The inbox ----------------------------------------------------------------------------------


def test_the_inbox_lists_what_i_owe_urgent_first_and_overdue_highlighted(
    client_for, manager, account, acknowledgement
):
    calm = answer(contact=ContactFactory(account=account, name="Ben Calm"), score=9)
    late = answer(contact=ContactFactory(account=account, name="Lea Late"), score=8)
    Acknowledgement.objects.filter(pk=late.acknowledgement.pk).update(
        due_at=timezone.now() - timedelta(hours=3)
    )

    page = client_for(manager).get(reverse("actions:inbox"))

    html = page.content.decode()
    assert page.context["open"] == [
        acknowledgement,
        late.acknowledgement,
        calm.acknowledgement,
    ]
    assert "Overdue by" in html
    assert html.count("is-overdue") == 1
    assert "Urgent · score 5" in html
    assert "Invoices &lt;b&gt;never&lt;/b&gt; match" in html  # their words, escaped


def test_the_inbox_shows_only_mine_unless_i_ask_for_everyones(
    client_for, teammate, account, acknowledgement
):
    mine = answer(contact=ContactFactory(account=account, owner=teammate)).acknowledgement
    client = client_for(teammate)
    assert client.get(reverse("actions:inbox")).context["open"] == [mine]
    everyone = client.get(reverse("actions:inbox") + "?show=all").context["open"]
    assert set(everyone) == {mine, acknowledgement}


def test_an_outsider_sees_nothing_of_other_accounts_in_the_inbox(
    client_for, outsider, acknowledgement
):
    page = client_for(outsider).get(reverse("actions:inbox") + "?show=all")
    assert page.context["open"] == []
    assert b"Ana Alvarez" not in page.content


def test_the_inbox_needs_a_login(client):
    page = client.get(reverse("actions:inbox"))
    assert page.status_code == 302
    assert page.url.startswith(reverse("login"))


def test_the_inbox_costs_the_same_queries_for_one_response_or_many(
    client_for, manager, account, acknowledgement
):
    client = client_for(manager)
    url = reverse("actions:inbox")
    client.get(url)  # warm the session
    one = _queries(client, url)
    for _ in range(5):
        answer(contact=ContactFactory(account=account))
    assert _queries(client, url) == one


def test_an_account_manager_lands_on_the_inbox_with_the_navbar_link_first(client_for, manager):
    page = client_for(manager).get("/", follow=True)
    assert page.request["PATH_INFO"] == reverse("actions:inbox")
    nav = page.content.decode().split('id="main-nav"')[1]
    assert nav.index("Inbox") < nav.index("Accounts")


# --- Acknowledging one response -----------------------------------------------------------------


def test_the_reply_form_quotes_their_own_words(client_for, manager, acknowledgement):
    page = client_for(manager).get(acknowledgement.get_absolute_url())
    assert page.status_code == 200
    body = page.context["reply_form"].initial["body"]
    assert body.startswith("Dear Ana,")
    assert "> Invoices <b>never</b> match\n> the purchase orders." in body
    assert body.rstrip().endswith(manager.full_name)
    assert "Invoices &lt;b&gt;never&lt;/b&gt; match" in page.content.decode()


def test_sending_the_reply_acknowledges_and_returns_to_the_inbox(
    client_for, manager, acknowledgement
):
    client = client_for(manager)
    url = reverse("actions:reply", args=[acknowledgement.pk])
    page = client.post(url, {"subject": "Thank you", "body": "Dear Ana, we hear you."})
    assert page.status_code == 302
    assert page.url == reverse("actions:inbox")
    acknowledgement.refresh_from_db()
    assert acknowledgement.status == Acknowledgement.Status.REPLIED
    assert acknowledgement.emails.filter(kind="reply").count() == 1

    again = client.post(url, {"subject": "Again", "body": "Twice?"}, follow=True)
    assert "acknowledged this already" in again.content.decode()
    assert acknowledgement.emails.filter(kind="reply").count() == 1
    assert client.get(reverse("actions:inbox")).context["open"] == []


def test_acknowledged_in_person_needs_a_note(client_for, manager, acknowledgement):
    client = client_for(manager)
    url = reverse("actions:in_person", args=[acknowledgement.pk])
    refused = client.post(url, {"method": "call", "note": ""})
    assert refused.status_code == 400
    assert Acknowledgement.objects.get().is_open

    assert client.post(url, {"method": "call", "note": "Called Ana."}).status_code == 302
    acknowledgement.refresh_from_db()
    assert (acknowledgement.status, acknowledgement.note) == ("in_person", "Called Ana.")
    assert not AcknowledgementEmail.objects.filter(kind="reply").exists()


def test_a_teammate_may_read_but_not_acknowledge_for_the_owner(
    client_for, teammate, acknowledgement
):
    client = client_for(teammate)
    page = client.get(acknowledgement.get_absolute_url())
    assert page.status_code == 200
    assert not page.context["can_acknowledge"]
    assert b"Send reply" not in page.content
    post = client.post(
        reverse("actions:reply", args=[acknowledgement.pk]), {"subject": "s", "body": "b"}
    )
    assert post.status_code == 403
    assert Acknowledgement.objects.get().is_open


def test_an_administrator_may_stand_in_for_the_owner(client_for, administrator, acknowledgement):
    url = reverse("actions:in_person", args=[acknowledgement.pk])
    assert (
        client_for(administrator).post(url, {"method": "meeting", "note": "Met."}).status_code
        == 302
    )


@pytest.mark.parametrize("name", ["actions:acknowledgement", "actions:reply", "actions:in_person"])
def test_an_outsider_gets_404_for_another_accounts_response(
    client_for, outsider, acknowledgement, name
):
    client = client_for(outsider)
    url = reverse(name, args=[acknowledgement.pk])
    page = client.get(url) if name == "actions:acknowledgement" else client.post(url, {})
    assert page.status_code == 404
    assert Acknowledgement.objects.get().is_open
