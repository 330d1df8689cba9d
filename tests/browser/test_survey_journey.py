"""A contact answers their pulse in Chromium, comes back through the same link and changes it."""

from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from pulses.models import Response
from tests.factories import ContactFactory
from tests.pulses.factories import InvitationFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    from django.core.cache import cache

    cache.clear()


def question(page, number):
    return page.get_by_role("group", name=number)


def test_contact_answers_by_keyboard_and_mouse_then_changes_their_answer(page, account, manager):
    contact = ContactFactory(account=account, name="Anna Schmidt", owner=manager)
    invitation = InvitationFactory(contact=contact, signer=manager)
    path = urlparse(invitation.get_survey_url()).path
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))

    page.goto(path)
    expect(page.get_by_role("heading", name="Hello Anna Schmidt,")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")

    # The 0–10 score by keyboard: tab into the group, then arrow keys move the choice.
    score = page.get_by_role("group", name="Overall, how would you rate your relationship")
    page.locator("#main").focus()
    page.keyboard.press("Tab")
    expect(score.get_by_label("0", exact=True)).to_be_focused()
    for _ in range(8):
        page.keyboard.press("ArrowRight")
    expect(score.get_by_label("8", exact=True)).to_be_checked()
    focus_ring = page.locator("label[for=id_relationship_8]").evaluate(
        "l => getComputedStyle(l).boxShadow"
    )
    assert focus_ring != "none"

    # The ratings and the words with the mouse.
    page.locator("label[for=id_account_manager_3]").click()  # 4
    page.locator("label[for=id_delivery_4]").click()  # 5
    page.locator("label[for=id_value_2]").click()  # 3
    page.get_by_label("What should we keep doing?").fill("Quick answers.")
    page.get_by_label("What one thing should we change?").fill("<b>Invoices</b> on time")
    page.get_by_role("button", name="Send my answers").click()

    expect(page.get_by_role("heading", name="Thank you, Anna Schmidt")).to_be_visible()
    assert Response.objects.get().score == 8

    # Back through the same link: the saved answers are there, and can be changed.
    page.goto(path)
    expect(page.get_by_text("You answered on")).to_be_visible()
    expect(score.get_by_label("8", exact=True)).to_be_checked()
    expect(page.get_by_label("What one thing should we change?")).to_have_value(
        "<b>Invoices</b> on time"
    )
    page.locator("label[for=id_relationship_3]").click()
    page.get_by_label("What one thing should we change?").fill("Nothing right now")
    page.get_by_role("button", name="Save my changes").click()
    expect(page.get_by_role("heading", name="Thank you, Anna Schmidt")).to_be_visible()

    response = Response.objects.get()
    assert (response.score, response.answer_for("improve")) == (3, "Nothing right now")
    assert response.source == Response.Source.SURVEY
    assert problems == []


def test_missing_answers_are_reported_and_what_was_typed_stays(page, account):
    invitation = InvitationFactory(contact=ContactFactory(account=account))
    page.goto(urlparse(invitation.get_survey_url()).path)
    page.get_by_label("What should we keep doing?").fill("Kept text")
    page.get_by_role("button", name="Send my answers").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Some answers need another look")
    expect(summary).to_be_focused()
    expect(page.get_by_label("What should we keep doing?")).to_have_value("Kept text")
    expect(page.locator("#q-relationship .field-error")).to_contain_text(
        "Please answer this question."
    )
    assert not Response.objects.exists()
