"""A response arrives; its owner finds it in their inbox after login, sends a personal reply
that quotes the person's own words, and the reply is on the person's relationship story."""

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.actions.factories import answer
from tests.factories import ContactFactory
from tests.pulses.engine import eager_celery_fixture  # noqa: F401 - fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_owner_replies_from_the_inbox_and_the_story_shows_it(
    login_page, manager, account, eager_celery
):
    ana = ContactFactory(
        account=account, name="Ana Alvarez", email="ana@northwind.example", owner=manager
    )
    answer(contact=ana, score=5, improve="Invoices never match the purchase orders.")
    [receipt] = mail.outbox  # the automatic thank-you left at once
    assert receipt.to == ["Ana Alvarez <ana@northwind.example>"]

    page = login_page(manager)

    expect(page.get_by_role("heading", name="Your inbox")).to_be_visible()
    item = page.locator(".inbox-item").filter(has_text="Ana Alvarez")
    expect(item).to_contain_text("Urgent · score 5")
    expect(item).to_contain_text("Invoices never match the purchase orders.")
    item.get_by_role("link", name="Acknowledge").click()

    message = page.get_by_label("Message")
    expect(message).to_contain_text("> Invoices never match the purchase orders.")
    message.fill(
        message.input_value().replace(
            "\n\n\n\nBest regards",
            "\n\nYou are right. From next month invoices carry your PO number.\n\nBest regards",
        )
    )
    page.get_by_role("button", name="Send reply").click()

    expect(page.get_by_role("status")).to_contain_text("Your reply is on its way")
    expect(page.get_by_text("Nothing waiting")).to_be_visible()
    reply = mail.outbox[-1]
    assert reply.to == ["Ana Alvarez <ana@northwind.example>"]
    assert "From next month invoices carry your PO number." in reply.body
    assert "> Invoices never match the purchase orders." in reply.body

    page.locator("#done-h + ul").get_by_role("link", name="Ana Alvarez").click()
    page.get_by_role("heading", name="Ana Alvarez").get_by_role("link").click()
    story = page.locator(".story .timeline-item").filter(has_text="Personal reply")
    expect(story).to_contain_text("Your feedback on")
    expect(story).to_contain_text("From next month invoices carry your PO number.")
    expect(story).to_contain_text(manager.full_name)
