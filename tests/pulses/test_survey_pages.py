"""The contact's survey page: personal link, answer, come back and change, until the wave closes."""

import logging
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.logging import RedactLinkTokens
from pulses.models import Answer, Invitation, Response, Wave
from tests.factories import ContactFactory, UserFactory
from tests.pulses.factories import (
    InvitationFactory,
    WaveFactory,
    form_data,
    response_with_answers,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def invitation(account, manager):
    contact = ContactFactory(account=account, name="Anna Schmidt", owner=manager)
    return InvitationFactory(contact=contact, signer=manager)


def survey_url(invitation):
    return reverse("pulses:survey", args=[invitation.link_token()])


def is_checked(content: str, name: str, value: int) -> bool:
    return bool(
        re.search(rf'<input type="radio" name="{name}" value="{value}"[^>]* checked>', content)
    )


def test_survey_greets_the_person_and_names_the_account_and_signer(client, invitation):
    page = client.get(survey_url(invitation))
    content = page.content.decode()
    assert page.status_code == 200
    assert "Hello Anna Schmidt," in content
    assert "Northwind Logistics" in content
    assert "<strong>Maya Manager</strong>" in content
    assert "This link is personal to you. If you forward it, whoever opens it can change" in content
    assert '<html lang="en">' in content


def test_unknown_token_is_a_plain_404(client, invitation):
    page = client.get(reverse("pulses:survey", args=["not-a-real-token"]))
    assert page.status_code == 404
    assert "This link doesn’t work" in page.content.decode()
    assert "Anna" not in page.content.decode()


def test_tampered_token_is_a_404(client, invitation):
    token = invitation.link_token()
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get(reverse("pulses:survey", args=[tampered])).status_code == 404
    assert client.post(reverse("pulses:survey", args=[tampered]), form_data()).status_code == 404
    assert not Response.objects.exists()


def test_overlong_token_is_a_404_without_a_lookup(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        page = client.get(reverse("pulses:survey", args=["x" * 500]))
    assert page.status_code == 404


def test_invitation_without_a_link_is_not_reachable_by_an_empty_token(client, account):
    InvitationFactory.build  # noqa: B018 - staff-recorded invitations have no token
    Invitation.objects.create(
        wave=WaveFactory(), contact=ContactFactory(account=account), status="skipped"
    )
    assert client.get("/p/%20/").status_code == 404


def test_closed_wave_shows_a_thank_you_page_and_takes_no_answers(client, invitation):
    Wave.objects.filter(pk=invitation.wave_id).update(
        status=Wave.Status.CLOSED, closed_at=timezone.now()
    )
    page = client.get(survey_url(invitation))
    assert page.status_code == 200
    assert "This pulse has closed — thank you" in page.content.decode()
    assert 'name="relationship"' not in page.content.decode()
    posted = client.post(survey_url(invitation), form_data())
    assert "This pulse has closed" in posted.content.decode()
    assert not Response.objects.exists()


def test_wave_past_its_closing_time_is_closed_even_before_the_beat_closes_it(client, invitation):
    Wave.objects.filter(pk=invitation.wave_id).update(
        closes_at=timezone.now() - timedelta(minutes=1)
    )
    assert "This pulse has closed" in client.get(survey_url(invitation)).content.decode()
    client.post(survey_url(invitation), form_data())
    assert not Response.objects.exists()


def test_submit_saves_the_answers_and_shows_the_thank_you(client, invitation):
    posted = client.post(survey_url(invitation), form_data())
    assert posted.status_code == 302
    assert posted["Location"] == survey_url(invitation) + "?sent=1"
    thanks = client.get(posted["Location"])
    assert "Thank you, Anna Schmidt" in thanks.content.decode()
    response = Response.objects.get()
    assert (response.contact, response.invitation, response.source) == (
        invitation.contact,
        invitation,
        Response.Source.SURVEY,
    )
    assert response.score == 8
    assert response.answer_for("improve") == "Invoices that match the purchase orders."


def test_double_submit_stores_one_response(client, invitation):
    client.post(survey_url(invitation), form_data(relationship=6))
    client.post(survey_url(invitation), form_data(relationship=7))
    assert Response.objects.count() == 1
    assert Response.objects.get().score == 7
    assert Answer.objects.filter(question__key="relationship").count() == 1


def test_coming_back_shows_saved_answers_and_allows_a_change_until_the_wave_closes(
    client, invitation
):
    client.post(survey_url(invitation), form_data(relationship=4, improve="Faster quotes"))
    first = Response.objects.get()
    again = client.get(survey_url(invitation)).content.decode()
    assert is_checked(again, "relationship", 4)
    assert not is_checked(again, "relationship", 8)
    assert "Faster quotes</textarea>" in again
    assert "You answered on" in again
    assert "Save my changes" in again

    client.post(survey_url(invitation), form_data(relationship=9, improve="Nothing now"))
    edited = Response.objects.get()
    assert (edited.score, edited.answer_for("improve")) == (9, "Nothing now")
    assert edited.submitted_at == first.submitted_at
    assert edited.updated_at > first.updated_at

    Wave.objects.filter(pk=invitation.wave_id).update(
        status=Wave.Status.CLOSED, closed_at=timezone.now()
    )
    closed = client.get(survey_url(invitation)).content.decode()
    assert "This pulse has closed" in closed
    assert "We have your answers" in closed
    client.post(survey_url(invitation), form_data(relationship=1))
    assert Response.objects.get().score == 9


def test_invalid_answers_are_shown_with_what_was_typed(client, invitation):
    page = client.post(
        survey_url(invitation),
        form_data(relationship=11, improve="x" * 5001, keep_doing="Kept <b>text</b>"),
    )
    content = page.content.decode()
    assert page.status_code == 200
    assert "Please choose a number from 0 to 10." in content
    assert "Please keep this to 5,000 characters or fewer (it has 5001)." in content
    assert "Kept &lt;b&gt;text&lt;/b&gt;</textarea>" in content
    assert is_checked(content, "account_manager", 4)
    assert not any(is_checked(content, "relationship", n) for n in range(11))
    assert 'class="error-summary"' in content
    assert not Response.objects.exists()


def test_script_in_answers_is_stored_as_typed_and_escaped_on_the_page(client, invitation):
    script = "<script>alert('hi')</script>"
    client.post(survey_url(invitation), form_data(keep_doing=script))
    assert Response.objects.get().answer_for("keep_doing") == script
    content = client.get(survey_url(invitation)).content.decode()
    assert script not in content
    assert "&lt;script&gt;alert(&#x27;hi&#x27;)&lt;/script&gt;" in content


def test_first_opening_is_recorded_once(client, invitation):
    assert invitation.first_opened_at is None
    client.get(survey_url(invitation))
    invitation.refresh_from_db()
    first = invitation.first_opened_at
    assert first is not None
    client.get(survey_url(invitation))
    invitation.refresh_from_db()
    assert invitation.first_opened_at == first


def test_pages_are_not_cached_and_keep_the_referrer_on_site(client, invitation):
    for url in (
        survey_url(invitation),
        reverse("pulses:unsubscribe", args=[invitation.link_token()]),
    ):
        page = client.get(url)
        assert "no-store" in page["Cache-Control"]
        assert page["Referrer-Policy"] == "same-origin"
    missing = client.get(reverse("pulses:survey", args=["nope"]))
    assert "no-store" in missing["Cache-Control"]
    assert missing["Referrer-Policy"] == "same-origin"


def test_survey_form_requires_the_csrf_token(invitation):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(survey_url(invitation), form_data()).status_code == 403
    assert not Response.objects.exists()


def test_mirror_back_quotes_only_the_earlier_improvement_suggestion(client, invitation):
    contact = invitation.contact
    earlier = WaveFactory(
        name="Spring – Internal name",
        opens_on=invitation.wave.opens_on - timedelta(days=90),
        closed=True,
    )
    response_with_answers(
        wave=earlier,
        contact=contact,
        answers={"relationship": 3, "keep_doing": "Secret praise", "improve": "Fix <b>billing</b>"},
    )
    content = client.get(survey_url(invitation)).content.decode()
    month = earlier.opens_on.strftime("%B %Y")
    assert f"In our {month} pulse you told us:" in content
    assert "Fix &lt;b&gt;billing&lt;/b&gt;" in content
    assert "Secret praise" not in content
    assert "Internal name" not in content
    assert "can see your previous improvement suggestion" in content


def test_no_mirror_back_without_an_earlier_wave(client, invitation):
    later = WaveFactory(opens_on=invitation.wave.opens_on + timedelta(days=90))
    response_with_answers(wave=later, contact=invitation.contact, answers={"improve": "Future"})
    response_with_answers(
        wave=WaveFactory(opens_on=invitation.wave.opens_on - timedelta(days=30)),
        contact=ContactFactory(account=invitation.contact.account),
        answers={"improve": "Someone else's"},
    )
    content = client.get(survey_url(invitation)).content.decode()
    assert "you told us" not in content
    assert "Future" not in content
    assert "Someone else" not in content


def test_page_speaks_the_contacts_language(client, account):
    contact = ContactFactory(account=account, preferred_language="de")
    invitation = InvitationFactory(contact=contact)
    content = client.get(survey_url(invitation)).content.decode()
    assert '<html lang="de">' in content
    assert "Wie bewerten Sie insgesamt Ihre Beziehung zu uns?" in content
    assert "Antworten senden" in content
    client.post(survey_url(invitation), form_data())
    assert Response.objects.get().language == "de"


def test_page_falls_back_to_english_without_a_translation(client, account):
    contact = ContactFactory(account=account, preferred_language="sv")
    content = client.get(survey_url(InvitationFactory(contact=contact))).content.decode()
    assert '<html lang="en">' in content
    assert "Overall, how would you rate your relationship with us?" in content


def test_signer_falls_back_to_the_contacts_owner_then_to_the_team(client, account):
    owner = UserFactory(full_name="Olive Owner")
    invitation = InvitationFactory(
        contact=ContactFactory(account=account, owner=owner), signer=None
    )
    assert "<strong>Olive Owner</strong>" in client.get(survey_url(invitation)).content.decode()
    nobody = InvitationFactory(contact=ContactFactory(account=account, owner=None), signer=None)
    assert "We would like to hear" in client.get(survey_url(nobody)).content.decode()


def test_page_loads_no_third_party_resource_and_no_inline_script(client, invitation):
    content = client.get(survey_url(invitation)).content.decode()
    assert "<script" not in content
    assert "http://" not in content.replace("http://testserver", "")
    assert "https://" not in content
    assert "/static/pulses/survey.css" in content
    assert "bootstrap" not in content


def test_log_filter_keeps_tokens_out_of_request_logs(invitation):
    token = invitation.link_token()
    record = logging.LogRecord(
        "django.request",
        logging.WARNING,
        __file__,
        1,
        "Not Found: %s",
        (f"/p/{token}/unsubscribe/",),
        None,
    )
    assert RedactLinkTokens().filter(record)
    assert token not in record.getMessage()
    assert record.getMessage() == "Not Found: /p/…/unsubscribe/"
    server = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        (f"GET /p/{token}/?sent=1 HTTP/1.1", "200", "12"),
        None,
    )
    RedactLinkTokens().filter(server)
    assert server.getMessage() == '"GET /p/…/?sent=1 HTTP/1.1" 200 12'
