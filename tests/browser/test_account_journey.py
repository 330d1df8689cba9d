"""An account manager's first journey, in Debian's Chromium driven by Playwright."""

import pytest
from playwright.sync_api import expect

from tests.factories import AccountFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_manager_sees_their_accounts_and_logs_a_success_story(
    login_page, manager, account, outsider
):
    AccountFactory(name="Foreign Foods", owner=outsider)
    page = login_page(manager)

    # An account manager lands on their inbox; their accounts are one click away.
    expect(page.get_by_role("heading", name="Your inbox")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
    expect(page.get_by_role("heading", name="My accounts")).to_be_visible()
    rows = page.locator("table.account-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Northwind Logistics")
    expect(page.get_by_text("Foreign Foods")).to_have_count(0)

    page.get_by_role("link", name="Northwind Logistics").click()
    expect(page.get_by_role("heading", name="Northwind Logistics", level=1)).to_be_visible()

    page.get_by_text("Add to the log").click()
    page.get_by_label("Kind").select_option(label="Success story")
    page.get_by_label("Title").fill("Peak season handled without a single late delivery")
    page.get_by_label("Details").fill("Their COO <b>thanked</b> the warehouse team by name.")
    page.get_by_role("button", name="Save entry").click()

    expect(page.get_by_role("status")).to_contain_text("Added to the account log")
    entry = page.locator(".timeline-item").first
    expect(entry).to_contain_text("Success story")
    expect(entry).to_contain_text("Peak season handled without a single late delivery")
    expect(entry).to_contain_text("Their COO <b>thanked</b> the warehouse team by name.")
    assert account.log_entries.get().author == manager


def test_another_managers_account_is_not_found_in_the_browser(login_page, outsider, account):
    page = login_page(outsider)
    response = page.goto(account.get_absolute_url())
    assert response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
