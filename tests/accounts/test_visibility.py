"""Who sees which account: one gate (`Account.objects.visible_to`) and every page behind it."""

import pytest
from django.urls import reverse

from accounts.models import Account
from tests.factories import AccountFactory, AccountLogEntryFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_manager_sees_owned_and_team_accounts_only(manager, teammate, account, foreign_account):
    team_account = AccountFactory(name="Team Account")
    team_account.memberships.create(user=manager)

    assert set(Account.objects.visible_to(manager)) == {account, team_account}
    assert set(Account.objects.visible_to(teammate)) == {account}


def test_executive_and_administrator_see_every_account(
    executive, administrator, account, foreign_account
):
    assert set(Account.objects.visible_to(executive)) == {account, foreign_account}
    assert set(Account.objects.visible_to(administrator)) == {account, foreign_account}


def test_deactivated_and_anonymous_users_see_nothing(manager, account):
    from django.contrib.auth.models import AnonymousUser

    manager.is_active = False
    manager.save()
    assert not Account.objects.visible_to(manager).exists()
    assert not Account.objects.visible_to(AnonymousUser()).exists()


def test_visible_to_lists_each_account_once_even_with_many_memberships(manager, account):
    for _ in range(3):
        AccountFactory().memberships.create(user=manager)
    account.memberships.create(user=UserFactory())
    visible = list(Account.objects.visible_to(manager))
    assert len(visible) == len(set(visible)) == 4


def test_account_list_shows_exactly_my_accounts(client_for, manager, account, foreign_account):
    response = client_for(manager).get(reverse("accounts:list"))
    assert response.status_code == 200
    assert list(response.context["page"].object_list) == [account]
    assert b"Foreign Foods" not in response.content


def test_account_list_query_count_does_not_grow_with_accounts(client_for, executive):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(executive)

    def queries_for_list():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("accounts:list"))
        return len(captured), len(response.context["page"].object_list)

    AccountFactory()
    one = queries_for_list()
    AccountFactory.create_batch(14)
    fifteen = queries_for_list()
    assert (one[1], fifteen[1]) == (1, 15)
    assert fifteen[0] == one[0]


def test_another_managers_account_answers_404_everywhere(client_for, outsider, account):
    client = client_for(outsider)
    for name in ("accounts:detail", "accounts:edit"):
        assert client.get(reverse(name, args=[account.pk])).status_code == 404
    response = client.post(
        reverse("accounts:log_add", args=[account.pk]), {"title": "x", "kind": "note"}
    )
    assert response.status_code == 404
    assert not account.log_entries.exists()


def test_unknown_account_answers_404_like_a_hidden_one(client_for, outsider):
    assert client_for(outsider).get(reverse("accounts:detail", args=[999_999])).status_code == 404


@pytest.mark.parametrize("who", ["manager", "teammate", "executive", "administrator"])
def test_people_who_may_see_the_account_get_its_page(request, client_for, account, who):
    AccountLogEntryFactory(account=account, title="Renewal signed")
    response = client_for(request.getfixturevalue(who)).get(account.get_absolute_url())
    assert response.status_code == 200
    assert b"Renewal signed" in response.content


def test_anonymous_visitors_are_sent_to_login(client, account):
    response = client.get(account.get_absolute_url())
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
