"""The portfolio's own rows: one per wave, `combine_groups` of every account's row, written by the
recompute. Those who see every account get their unfiltered portfolio from them; the page is the
page that combining the accounts' rows gives, and everyone else still combines only the rows of
the accounts they may see.
"""

import importlib
import re

import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from changemaps import dashboard_selectors as selectors
from changemaps.models import GroupSnapshot
from changemaps.rules import Thresholds, combine_groups
from changemaps.services import changemaps_compute
from tests.changemaps.test_dashboards import grow

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def computed(world, manager, executive):
    # Movers need more than Northwind and its neighbour: accounts whose scores change.
    grow(world, manager, accounts=3, people=4)
    return world


def page(client, **params) -> tuple[bytes, int]:
    """The portfolio built afresh (its cache emptied), without its CSRF token; its queries."""
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("changemaps:portfolio"), params)
    assert response.status_code == 200
    assert "dashboard" in response.context  # built, not served from the cache
    body = re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", response.content)
    return body, len(queries)


def data_for(user, **filters) -> selectors.DashboardData:
    accounts = selectors.portfolio_accounts(user=user)
    return selectors.portfolio_data(user=user, accounts=accounts, filters=filters)


def test_the_recompute_writes_every_accounts_rows_combined_for_each_wave(computed):
    thresholds = Thresholds.from_settings()
    for wave in computed.waves:
        rows = GroupSnapshot.objects.filter(wave=wave)
        accounts = list(rows.filter(dimension="account").order_by("key").values())
        whole = rows.get(dimension="portfolio", key=0)
        assert whole.label == "All accounts"
        for field, value in combine_groups(accounts, thresholds=thresholds).items():
            assert getattr(whole, field) == value, (wave, field)


def test_the_migration_gives_earlier_snapshots_the_rows_the_recompute_writes(computed):
    migration = importlib.import_module("changemaps.migrations.0002_groupsnapshot_portfolio")
    fields = ["wave_id", "key", "label", *migration.GROUP_FIELDS]
    written = list(
        GroupSnapshot.objects.filter(dimension="portfolio").order_by("wave_id").values(*fields)
    )
    GroupSnapshot.objects.filter(dimension="portfolio").delete()
    migration.add_portfolio_rows(apps, None)
    migration.add_portfolio_rows(apps, None)  # twice: a wave that has its row keeps it
    added = list(
        GroupSnapshot.objects.filter(dimension="portfolio").order_by("wave_id").values(*fields)
    )
    assert added == written
    assert len(added) == len(computed.waves)


def test_those_who_see_every_account_get_the_page_that_combining_the_accounts_gives(
    client_for, executive, computed
):
    client = client_for(executive)
    assert data_for(executive).totals is not None
    fast, queries = page(client)
    assert b"Accounts that moved most" in fast  # the movers, from each account's last two rows
    # The same page from every account's row in every wave, as before the portfolio's rows.
    GroupSnapshot.objects.filter(dimension="portfolio").delete()
    assert data_for(executive).totals is None
    combined, fallback_queries = page(client)
    assert fast == combined
    assert fallback_queries == queries + 1  # it looked for the portfolio's rows first


def test_a_filtered_portfolio_and_a_managers_combine_only_the_accounts_shown(
    client_for, executive, manager, account, foreign_account, computed
):
    assert data_for(executive, territory_id=account.territory_id).totals is None
    assert data_for(manager).totals is None
    # The manager's page names no account they may not see.
    assert foreign_account.name.encode() not in page(client_for(manager))[0]
    assert foreign_account.name.encode() in page(client_for(executive))[0]


def test_an_executives_portfolio_takes_the_same_few_queries_however_big(
    client_for, executive, manager, world
):
    changemaps_compute(waves="all")
    client = client_for(executive)
    _, small = page(client)
    grow(world, manager, accounts=4, people=6)
    _, large = page(client)
    # Session and user, the data's version, the accounts, the waves, the portfolio's rows,
    # each account's last two rows, the call list's people.
    assert small == large == 8
