"""An executive's change-map journey in Debian's Chromium: the portfolio, a filter applied
without a page load, an account's change map, and a click through to a person's story."""

import re

import pytest
from playwright.sync_api import expect

from changemaps.services import changemaps_compute
from contacts.models import BuyingRole
from tests.changemaps.conftest import answer, make_wave
from tests.factories import AccountFactory, ContactFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CHARTS_DRAWN = """() => {
    const charts = [...document.querySelectorAll('[data-chart]')];
    return charts.length > 0 && charts.every(c => c.dataset.rendered === 'true');
}"""


@pytest.fixture
def portfolio(account, outsider):
    """Two accounts in two territories, three pulses, a falling decision maker at Northwind."""
    foreign = AccountFactory(name="Foreign Foods", owner=outsider)
    waves = [make_wave(name, days) for name, days in
             [("March 2026 pulse", 300), ("June 2026 pulse", 200), ("September 2026 pulse", 100)]]  # fmt: skip
    # Another transactional test may have flushed the migration's buying roles before this one.
    decision_maker, _ = BuyingRole.objects.get_or_create(
        code=BuyingRole.Code.DECISION_MAKER, defaults={"label": "Decision maker"}
    )
    alice = ContactFactory(account=account, name="Alice Archer", roles=[decision_maker],
                           influence=5, department="Finance")  # fmt: skip
    people = {
        alice: [9, 8, 5],
        ContactFactory(account=account, name="Bob Baker"): [7, 7, 8],
        ContactFactory(account=account, name="Cleo Cole"): [5, 6, 9],
        ContactFactory(account=foreign, name="Eve Evans"): [8, 8, 8],
    }
    for contact, scores in people.items():
        for wave, score in zip(waves, scores, strict=True):
            answer(wave, contact, score)
    changemaps_compute(waves="all")
    return {"alice": alice, "foreign": foreign}


def test_executive_filters_the_portfolio_and_clicks_through_to_a_person(
    login_page, executive, account, portfolio
):
    page = login_page(executive)

    # Executives land on the portfolio; every chart is drawn from its JSON.
    expect(page).to_have_url(re.compile(r"/portfolio/$"))
    expect(page.get_by_role("heading", name="Portfolio", level=1)).to_be_visible()
    page.wait_for_function(CHARTS_DRAWN)
    scope = page.locator(".rp-scope")
    expect(scope).to_contain_text("Showing 2 of 2 accounts")
    people_before = page.evaluate("document.getElementById('chart-counts').data[1].x")
    assert sum(people_before) == 4

    # A filter swaps in new charts without loading the page again, and the URL follows.
    page.evaluate("window.noFullReload = true")
    drawn = int(page.evaluate("document.body.dataset.chartsDrawn"))
    page.get_by_label("Territory", exact=True).select_option(label=account.territory.name)
    expect(scope).to_contain_text("Showing 1 of 2 accounts")
    expect(page.locator("#portfolio-status")).to_contain_text("Showing 1 of 2 accounts")
    expect(page).to_have_url(re.compile(rf"/portfolio/\?territory={account.territory_id}$"))
    page.wait_for_function(f"() => Number(document.body.dataset.chartsDrawn) > {drawn}")
    page.wait_for_function(CHARTS_DRAWN)
    assert page.evaluate("window.noFullReload") is True
    people_after = page.evaluate("document.getElementById('chart-counts').data[1].x")
    assert sum(people_after) == 3
    expect(page.get_by_text("Foreign Foods")).to_have_count(0)

    # The call list leads to the account's change map.
    call_list = page.get_by_role("region", name=re.compile("Call list"))
    expect(call_list.get_by_role("link", name="Alice Archer")).to_be_visible()
    call_list.get_by_role("link", name="Northwind Logistics").click()
    expect(page).to_have_url(re.compile(rf"/accounts/{account.pk}/changemap/$"))
    expect(page.get_by_role("link", name="Change map")).to_have_attribute("aria-current", "page")
    page.wait_for_function(CHARTS_DRAWN)

    # Hovering Alice's point tells why she is falling; clicking it opens her story.
    page.locator("#chart-scatter").scroll_into_view_if_needed()
    x, y = page.evaluate(
        """() => {
            const gd = document.getElementById('chart-scatter');
            const trace = gd.data.find(t => t.name === 'Falling' && t.showlegend === false);
            const layout = gd._fullLayout, box = gd.getBoundingClientRect();
            return [box.left + layout._size.l + layout.xaxis.d2p(trace.x[0]),
                    box.top + layout._size.t + layout.yaxis.d2p(trace.y[0])];
        }"""
    )
    page.mouse.move(x, y)
    hover = page.locator("#chart-scatter .hoverlayer")
    expect(hover).to_contain_text("Alice Archer")
    expect(hover).to_contain_text("Fell from 8 to 5")
    page.mouse.click(x, y)
    expect(page).to_have_url(re.compile(rf"/contacts/{portfolio['alice'].pk}/$"))
    expect(page.get_by_role("heading", name="Alice Archer", level=1)).to_be_visible()
