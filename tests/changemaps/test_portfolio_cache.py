"""The portfolio's cache: a repeat visit is served rendered, and anything the page shows that
changes (a recompute, an account, a name, who may see what) makes the next visit build it again.

Pages read snapshots only, so every test computes them first (`changemaps_compute`).
"""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Account, AccountMembership
from changemaps.services import changemaps_compute
from tests.changemaps.conftest import answer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def computed(world):
    changemaps_compute(waves="all")
    return world


def visit(client, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("changemaps:portfolio"), params)
    assert response.status_code == 200
    return response, len(queries)


def without_csrf(response) -> bytes:
    """The page without its CSRF token (masked anew on every request)."""
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", response.content)


def built(response) -> bool:
    """Whether the page was built for this request (its context holds the dashboard)."""
    return "dashboard" in response.context


def test_a_repeat_visit_is_served_from_the_cache_with_three_queries(
    client_for, executive, computed
):
    client = client_for(executive)
    first, cold = visit(client)
    again, warm = visit(client)
    assert built(first)
    assert not built(again)
    assert without_csrf(again) == without_csrf(first)
    # Session, user, and the data's version: nothing else is read.
    assert (cold, warm) == (8, 3)
    assert again.context["form"].fields["territory"].choices == (
        first.context["form"].fields["territory"].choices
    )


def test_htmx_requests_share_the_cached_charts_and_tables(client_for, executive, computed):
    client = client_for(executive)
    page, _ = visit(client, tier="strategic")
    swap = client.get(
        reverse("changemaps:portfolio"), {"tier": "strategic"}, HTTP_HX_REQUEST="true"
    )
    assert swap.content.decode().strip() in page.content.decode()
    assert b"<html" not in swap.content


def test_a_recompute_rebuilds_the_page(client_for, executive, computed):
    client = client_for(executive)
    visit(client)
    answer(computed.latest, computed.bob, 2, invited=False)  # invited already
    changemaps_compute()
    after, _ = visit(client)
    assert built(after)
    called = [row[0].text for row in after.context["dashboard"].call_list.rows]
    assert "Bob Baker" in called


def test_renaming_what_the_page_shows_rebuilds_it(client_for, executive, account, computed):
    client = client_for(executive)
    visit(client)

    account.name = "Northwind Renamed"
    account.save()
    assert b"Northwind Renamed" in visit(client)[0].content

    account.territory.name = "Far North"
    account.territory.save()
    assert b"Far North" in visit(client)[0].content

    computed.alice.name = "Alice Renamed"
    computed.alice.save()
    assert b"Alice Renamed" in visit(client)[0].content

    account.owner.full_name = "Maya Renamed"
    account.owner.save()
    assert b"Maya Renamed" in visit(client)[0].content


def test_an_update_that_skips_save_still_rebuilds_the_page(
    client_for, executive, account, outsider, computed
):
    """A handover moves accounts with `QuerySet.update()`, which leaves `updated_at` alone."""
    client = client_for(executive)
    before, _ = visit(client, owner=outsider.pk)
    assert before.context["shown"] == 1
    Account.objects.filter(pk=account.pk).update(owner=outsider)
    after, _ = visit(client, owner=outsider.pk)
    assert built(after)
    assert after.context["shown"] == 2


def test_a_managers_page_is_never_anothers(client_for, manager, outsider, executive, computed):
    executive_page, _ = visit(client_for(executive))
    assert b"Foreign Foods" in executive_page.content
    mine, _ = visit(client_for(manager))
    assert built(mine)
    assert b"Foreign Foods" not in mine.content
    theirs, _ = visit(client_for(outsider))
    assert built(theirs)
    assert b"Northwind Logistics" not in theirs.content
    assert b"Foreign Foods" in theirs.content


def test_joining_an_accounts_team_shows_it_at_once(client_for, manager, foreign_account, computed):
    client = client_for(manager)
    before, _ = visit(client)
    assert before.context["shown"] == 1
    AccountMembership.objects.create(account=foreign_account, user=manager)
    after, _ = visit(client)
    assert built(after)
    assert after.context["shown"] == 2
    assert b"Foreign Foods" in after.content


def test_people_the_portfolio_does_not_name_leave_it_cached(client_for, executive, computed):
    """Only the call list names people; Eve (steady) is on no list, so renaming her changes
    nothing the page shows."""
    client = client_for(executive)
    first, _ = visit(client)
    assert b"Eve Evans" not in first.content
    computed.eve.name = "Eve Renamed"
    computed.eve.save()
    again, _ = visit(client)
    assert not built(again)
    assert b"Eve Renamed" not in again.content
