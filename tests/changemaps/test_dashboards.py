"""The change-map dashboards: who sees what, filters, the charts' JSON, and a fixed query count.

Pages read snapshots only, so every test computes them first (`changemaps_compute`).
"""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from changemaps.categories import COLOURS, LABELS
from changemaps.services import changemaps_compute
from tests.changemaps.conftest import answer
from tests.factories import AccountFactory, ContactFactory, UserFactory

pytestmark = pytest.mark.django_db


def charts_in(response) -> dict[str, dict]:
    """The figures a page hands to dashboards.js, by chart key."""
    html = response.content.decode()
    blocks = re.findall(r'<script id="chart-([\w-]+)-data" type="application/json">(.*?)</script>',
                        html, flags=re.S)  # fmt: skip
    return {key: json.loads(body) for key, body in blocks}


def portfolio(client, **params):
    return client.get(reverse("changemaps:portfolio"), params)


def account_page(client, account):
    return client.get(reverse("changemaps:account", args=[account.pk]))


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test builds its pages (the portfolio is cached: test_portfolio_cache.py)."""
    cache.clear()


@pytest.fixture
def computed(world):
    changemaps_compute(waves="all")
    return world


# --- Who sees what ------------------------------------------------------------------------------


def test_outsiders_get_404_for_an_account_territory_and_segment_they_cannot_see(
    client_for, outsider, account, computed
):
    client = client_for(outsider)
    assert account_page(client, account).status_code == 404
    territory = reverse("changemaps:territory", args=[account.territory_id])
    segment = reverse("changemaps:segment", args=[account.segment_id])
    assert client.get(territory).status_code == 404
    assert client.get(segment).status_code == 404
    assert client.get(reverse("changemaps:territory", args=[10**6])).status_code == 404


def test_logged_out_visitors_are_sent_to_log_in(client, account):
    response = client.get(reverse("changemaps:portfolio"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_managers_portfolio_is_their_book(client_for, manager, computed):
    response = portfolio(client_for(manager))
    assert response.status_code == 200
    assert b"My book" in response.content
    assert response.context["shown"] == response.context["total"] == 1
    board = response.context["dashboard"]
    called = [row[0].text for row in board.call_list.rows]
    assert called == ["Alice Archer"]
    mix = charts_in(response)["mix"]
    assert mix["data"][0]["y"] == ["Northwind Logistics"]
    assert b"Foreign Foods" not in response.content
    assert b"Eve Evans" not in response.content


def test_executives_see_every_account_and_land_on_the_portfolio(client_for, executive, computed):
    client = client_for(executive)
    assert client.get(reverse("home")).url == reverse("changemaps:portfolio")
    response = portfolio(client)
    assert b'<h1 class="h2 mb-1">Portfolio</h1>' in response.content
    assert response.context["shown"] == 2
    names = {name for trace in charts_in(response)["mix"]["data"] for name in trace["y"]}
    assert names == {"Northwind Logistics", "Foreign Foods"}
    # People per category now and before, across both accounts.
    counts = response.context["dashboard"].extra["combined"]["counts"]
    assert counts["falling"] == counts["steady"] == 1


def test_a_territory_page_sums_only_the_accounts_the_user_may_see(
    client_for, manager, outsider, executive, account, computed
):
    shared = AccountFactory(name="Shared Shipping", owner=outsider, territory=account.territory)
    answer(computed.latest, ContactFactory(account=shared, name="Sam Shared"), 4)
    changemaps_compute()
    url = reverse("changemaps:territory", args=[account.territory_id])

    mine = client_for(manager).get(url)
    assert mine.status_code == 200
    assert list(mine.context["accounts"]["account"]) == ["Northwind Logistics"]
    assert b"Sam Shared" not in mine.content

    everyone = client_for(executive).get(url)
    assert list(everyone.context["accounts"]["account"]) == [
        "Northwind Logistics",
        "Shared Shipping",
    ]
    assert b"Sam Shared" in everyone.content


def test_pages_without_snapshots_say_so(client_for, manager, account):
    client = client_for(manager)
    for response in (portfolio(client), account_page(client, account)):
        assert response.status_code == 200
        assert b"No change map yet" in response.content
        assert charts_in(response) == {}


# --- Filters ------------------------------------------------------------------------------------


def test_filters_narrow_the_portfolio(client_for, executive, account, foreign_account, computed):
    client = client_for(executive)
    response = portfolio(client, territory=foreign_account.territory_id)
    assert response.context["shown"] == 1
    assert charts_in(response)["mix"]["data"][0]["y"] == ["Foreign Foods"]
    assert response.context["dashboard"].call_list.rows == []

    by_owner = portfolio(client, owner=foreign_account.owner_id, tier="strategic")
    assert by_owner.context["shown"] == 1
    nobody = portfolio(client, owner=foreign_account.owner_id, territory=account.territory_id)
    assert nobody.context["shown"] == 0
    assert b"No accounts match these filters" in nobody.content


def test_a_filter_value_that_is_not_offered_is_ignored(client_for, manager, computed):
    response = portfolio(client_for(manager), territory="not-a-number", owner=10**6)
    assert response.status_code == 200
    assert response.context["shown"] == 1


def test_htmx_filter_requests_get_only_the_charts_and_tables(client_for, executive, computed):
    response = client_for(executive).get(
        reverse("changemaps:portfolio"), {"tier": "strategic"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b'id="chart-counts-data"' in response.content
    assert "HX-Request" in response["Vary"]


def test_the_filter_form_offers_only_what_the_users_accounts_have(
    client_for, manager, account, computed
):
    form = portfolio(client_for(manager)).context["form"]
    assert [label for _, label in form.fields["territory"].choices] == [
        "All territories",
        account.territory.name,
    ]
    assert [label for _, label in form.fields["owner"].choices] == ["All owners", "Maya Manager"]


# --- The charts' JSON ---------------------------------------------------------------------------


def test_the_account_scatter_colours_by_category_links_people_and_hovers_their_reason(
    client_for, manager, account, computed
):
    response = account_page(client_for(manager), account)
    assert response.status_code == 200
    scatter = charts_in(response)["scatter"]
    points = {t["name"]: t for t in scatter["data"] if t.get("showlegend") is False}
    for name, trace in points.items():
        key = next(key for key, label in LABELS.items() if label == name)
        assert trace["marker"]["color"] == COLOURS[key]
    alice = points["Falling"]
    url, name, _label, reason = alice["customdata"][0][:4]
    assert url == computed.alice.get_absolute_url()
    assert name == "Alice Archer"
    assert reason == "Fell from 8 to 5 since the April 2026 pulse"
    assert "%{customdata[3]}" in alice["hovertemplate"]
    assert [a["text"] for a in scatter["layout"]["annotations"][:2]] == [
        "<b>▲ Rising</b><br>higher than last time",
        "<b>▼ Falling</b><br>lower than last time",
    ]


def test_the_account_page_has_every_chart_with_a_table_and_the_call_list(
    client_for, manager, account, computed
):
    response = account_page(client_for(manager), account)
    figures = charts_in(response)
    assert set(figures) == {"scatter", "counts", "trend", "flows", "heatmap"}
    for figure in figures.values():
        assert figure["layout"]["title"]["text"]
    html = response.content.decode()
    assert html.count('<details class="rp-chart-table">') == len(figures)
    assert html.count('role="img"') >= len(figures)
    # The heat map: one row per person, their page behind every cell.
    heatmap = figures["heatmap"]["data"][0]
    assert len(heatmap["z"]) == 4
    assert {row[0][0] for row in heatmap["customdata"]} == {
        contact.get_absolute_url()
        for contact in (computed.alice, computed.bob, computed.carol, computed.dave)
    }
    # The call list names and links Alice, with her reason.
    assert f'<a href="{computed.alice.get_absolute_url()}">Alice Archer</a>' in html
    assert "Fell from 8 to 5 since the April 2026 pulse" in html
    # The legend: every category with its meaning.
    for label in LABELS.values():
        assert label in html
    tab = reverse("changemaps:account", args=[account.pk])
    assert f'href="{tab}">Change map</a>' in html


def test_names_cannot_inject_markup_into_charts(client_for, manager, account, computed):
    computed.carol.name = "<img src=x onerror=alert(1)>"
    computed.carol.save()
    response = account_page(client_for(manager), account)
    html = response.content.decode()
    assert "<img src=x" not in html
    figures = charts_in(response)
    names = {row[0][1] for row in figures["heatmap"]["data"][0]["customdata"]}
    assert "&lt;img src=x onerror=alert(1)&gt;" in names  # Plotly shows it as text
    ticks = json.dumps(figures["heatmap"]["layout"]["yaxis"]["ticktext"])
    assert "<img" not in ticks


def test_the_relationship_map_colours_people_by_their_latest_category(
    client_for, manager, account, computed
):
    data = client_for(manager).get(reverse("contacts:map_data", args=[account.pk])).json()
    categories = {node["data"]["name"]: node["data"]["category"] for node in data["nodes"]}
    assert categories["Alice Archer"] == "falling"
    assert categories["Dave Dunn"] == "departed"


def test_the_css_category_colours_are_the_ones_in_categories_py():
    css = (Path(settings.BASE_DIR) / "static" / "core" / "rapport.css").read_text()
    defined = dict(re.findall(r"--rp-cat-([a-z-]+):\s*(#[0-9A-Fa-f]{6});", css))
    assert {key.replace("-", "_"): colour.upper() for key, colour in defined.items()} == {
        key: colour.upper() for key, colour in COLOURS.items()
    }


# --- Speed --------------------------------------------------------------------------------------


def grow(world, manager, *, accounts: int, people: int) -> None:
    """More accounts in the manager's territory, each with people who answered every wave."""
    for i in range(accounts):
        extra = AccountFactory(
            name=f"Extra {i}", owner=manager, territory=world.alice.account.territory,
            segment=world.alice.account.segment,
        )  # fmt: skip
        for j in range(people):
            contact = ContactFactory(account=extra, owner=UserFactory(), department=f"D{j % 2}")
            for k, wave in enumerate(world.waves):
                answer(wave, contact, (i + j + k) % 11)
    changemaps_compute(waves="all")


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_every_dashboard_takes_the_same_few_queries_however_big(
    client_for, manager, account, computed
):
    client = client_for(manager)
    urls = [
        reverse("changemaps:portfolio"),
        reverse("changemaps:portfolio") + f"?territory={account.territory_id}",
        reverse("changemaps:account", args=[account.pk]),
        reverse("changemaps:territory", args=[account.territory_id]),
        reverse("changemaps:segment", args=[account.segment_id]),
    ]
    small = [count_queries(client, url) for url in urls]
    grow(computed, manager, accounts=4, people=6)
    extra = AccountFactory._meta.model.objects.get(name="Extra 0")
    large = [count_queries(client, url) for url in urls]
    assert large == small
    # Session and user, then: portfolio 6 (its data's version, then 5; a repeat visit reads only
    # the version: tests/changemaps/test_portfolio_cache.py), account 4 (with the account),
    # territory/segment 5.
    assert small == [8, 8, 6, 7, 7]
    # And an account page with more people than Northwind takes no more either.
    assert count_queries(client, reverse("changemaps:account", args=[extra.pk])) == 6
