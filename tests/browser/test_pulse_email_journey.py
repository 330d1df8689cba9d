"""A contact's pulse from the email to their story: the schedule sends the invitation, the link
in the email opens the survey in Chromium, they answer and change an answer, and the account
manager sees their words on the person page."""

import re

import pytest
from django.conf import settings
from django.core import mail
from playwright.sync_api import expect

from pulses.models import Response
from pulses.tasks import run_pulse_schedule
from tests.factories import ContactFactory
from tests.pulses.engine import eager_celery_fixture  # noqa: F401 - fixture
from tests.pulses.factories import PulseProgrammeFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _link_in(body: str, live_server_url: str) -> str:
    site = re.escape(settings.RAPPORT_SITE_URL.rstrip("/"))
    link = re.search(rf"{site}/p/[A-Za-z0-9_-]+/", body).group(0)
    return link.replace(settings.RAPPORT_SITE_URL.rstrip("/"), live_server_url)


def _choose(page, question: str, value: str) -> None:
    group = page.get_by_role("group", name=re.compile(re.escape(question)))
    group.get_by_text(value, exact=True).click()


def test_a_contact_answers_from_the_email_and_the_manager_reads_it(
    page, live_server, login_page, manager, account, eager_celery
):
    ana = ContactFactory(account=account, name="Ana Alvarez", owner=manager)
    PulseProgrammeFactory(accounts=[account])

    run_pulse_schedule.delay()  # the beat tick: opens the wave and sends, in this process
    run_pulse_schedule.delay()

    [email] = mail.outbox
    assert email.to == [f"Ana Alvarez <{ana.email}>"]
    page.goto(_link_in(email.body, live_server.url))

    expect(page.get_by_role("heading", name="Hello Ana Alvarez,")).to_be_visible()
    _choose(page, "Overall, how would you rate your relationship", "8")
    _choose(page, "How satisfied are you with your account manager", "5")
    _choose(page, "How satisfied are you with what we deliver", "4")
    _choose(page, "How well do we deliver value for money", "3")
    page.get_by_label("What should we keep doing?").fill("Your planners <b>know</b> us.")
    page.get_by_label("What one thing should we change?").fill("Invoices.")
    page.get_by_role("button", name="Send my answers").click()

    expect(page.get_by_role("heading", name="Thank you, Ana Alvarez")).to_be_visible()
    page.get_by_role("link", name="Change my answers").click()
    expect(page.get_by_label("What one thing should we change?")).to_have_value("Invoices.")
    page.get_by_label("What one thing should we change?").fill(
        "Invoices that match our purchase orders."
    )
    page.get_by_role("button", name="Save my changes").click()
    expect(page.get_by_role("heading", name="Thank you, Ana Alvarez")).to_be_visible()

    response = Response.objects.get(contact=ana)
    assert response.source == Response.Source.SURVEY
    assert response.score == 8
    assert response.answer_for("improve") == "Invoices that match our purchase orders."

    login_page(manager)
    page.goto(ana.get_absolute_url())
    story = page.locator("main")
    expect(story).to_contain_text("Invoices that match our purchase orders.")
    expect(story).to_contain_text("Your planners <b>know</b> us.")
