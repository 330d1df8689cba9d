"""The person rewords their quote in Chromium, chooses to be credited by role, and approves it."""

import os
from urllib.parse import urlparse

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from reports.models import Quote
from tests.factories import ContactFactory
from tests.reports.factories import quote_for

# Set to a folder to keep screenshots of the pages (for reviewing the design by eye).
SCREENSHOTS = os.environ.get("RAPPORT_SCREENSHOTS", "")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def test_the_person_rewords_and_approves_their_quote(page, account, manager):
    contact = ContactFactory(
        account=account, name="Anna Schmidt", job_title="Head of Logistics", owner=manager
    )
    quote = quote_for(contact=contact, status=Quote.Status.REQUESTED)
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))

    page.goto(urlparse(quote.get_approval_url()).path)
    expect(page.get_by_role("heading", name="Hello Anna Schmidt,")).to_be_visible()
    expect(page.get_by_text("“Quick answers from the team.”")).to_be_visible()

    wording = page.get_by_label("The wording to quote")
    expect(wording).to_be_hidden()  # folded away until they choose to change it
    page.get_by_text("Change the wording").click()
    wording.fill("Their drivers always call ahead.")
    page.get_by_text("Role only: “Head of Logistics”").click()  # the label: the radio is styled
    expect(page.get_by_label("Role only: “Head of Logistics”")).to_be_checked()
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/quote-approval.png", full_page=True)
    page.get_by_role("button", name="Approve the quote").click()

    expect(page.get_by_role("heading", name="Thank you, Anna Schmidt")).to_be_visible()
    expect(page.get_by_text("— Head of Logistics")).to_be_visible()
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/quote-approved.png", full_page=True)
    quote.refresh_from_db()
    assert quote.status == Quote.Status.APPROVED
    assert quote.text == "Their drivers always call ahead."
    assert quote.original_text == "Quick answers from the team."
    assert quote.credit == Quote.Credit.ROLE_ONLY

    # Back through the same link: the approval can still be changed or withdrawn.
    page.get_by_role("link", name="Change or withdraw").click()
    page.get_by_role("button", name="Withdraw my approval").click()
    expect(page.get_by_role("heading", name="We won’t quote you")).to_be_visible()
    quote.refresh_from_db()
    assert quote.status == Quote.Status.WITHDRAWN
    assert problems == []
