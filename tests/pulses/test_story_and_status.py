"""What a person said over time on their story, and an account's pulse status page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.selectors import contact_story
from pulses.models import Answer, Invitation, Response, Wave
from pulses.services.questionnaires import (
    questionnaire_ensure_default,
    questionnaire_version_for_sending,
)
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def version():
    return questionnaire_version_for_sending(questionnaire=questionnaire_ensure_default())


def _wave(version, name, days_ago, open_=False):
    opens = timezone.localdate() - timedelta(days=days_ago)
    return Wave.objects.create(
        name=name,
        questionnaire_version=version,
        opens_on=opens,
        closes_at=timezone.now() + timedelta(days=3)
        if open_
        else timezone.now() - timedelta(days=days_ago - 14),
        status=Wave.Status.OPEN if open_ else Wave.Status.CLOSED,
    )


def _answer(version, wave, contact, score, keep, improve):
    invitation = Invitation.objects.create(
        wave=wave, contact=contact, status="sent", sent_at=timezone.now()
    )
    response = Response.objects.create(
        wave=wave, contact=contact, invitation=invitation, score=score
    )
    questions = {q.key: q for q in version.questions.all()}
    Answer.objects.create(response=response, question=questions["relationship"], number=score)
    Answer.objects.create(response=response, question=questions["keep_doing"], text=keep)
    Answer.objects.create(response=response, question=questions["improve"], text=improve)
    return response


def test_story_shows_scores_and_their_own_words(version, account):
    contact = ContactFactory(account=account)
    _answer(
        version,
        _wave(version, "March 2026 pulse", 200),
        contact,
        8,
        "Fast answers",
        "<b>Invoices</b>",
    )
    story = contact_story(contact=contact)
    answered = next(e for e in story if e.title == "Answered the March 2026 pulse")
    assert answered.score == 8
    assert answered.quotes == (
        ("What goes well", "Fast answers"),
        ("What to improve", "<b>Invoices</b>"),
    )
    assert any(e.title == "Invited to the March 2026 pulse" for e in story)


def test_person_page_escapes_answers_and_draws_the_score_line(
    client_for, version, account, manager
):
    contact = ContactFactory(account=account)
    _answer(
        version,
        _wave(version, "March 2026 pulse", 200),
        contact,
        3,
        "ok",
        "<script>alert(1)</script>",
    )
    content = client_for(manager).get(contact.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert 'class="spark-dot score-3"' in content


def test_account_pulse_page_shows_rates_waiting_people_and_quotes(
    client_for, version, account, manager
):
    anna, ben = (
        ContactFactory(account=account, name="Anna"),
        ContactFactory(account=account, name="Ben"),
    )
    wave = _wave(version, "November 2026 pulse", 5, open_=True)
    _answer(version, wave, anna, 9, "Keep the QBRs", "Clearer invoices")
    Invitation.objects.create(
        wave=wave, contact=ben, status="bounced", last_error="550 mailbox unavailable"
    )
    response = client_for(manager).get(reverse("pulses:account", args=[account.pk]))
    status = response.context["status"]
    assert [(s.invited, s.answered, s.rate) for s in status["waves"]] == [(2, 1, 50)]
    assert [i.contact for i in status["waiting"]] == [ben]
    assert [i.contact for i in status["problems"]] == [ben]
    content = response.content.decode()
    assert "Keep the QBRs" in content
    assert "Clearer invoices" in content
    assert "550 mailbox unavailable" in content


def test_account_pulse_page_of_another_team_is_404(client_for, outsider, account):
    assert client_for(outsider).get(reverse("pulses:account", args=[account.pk])).status_code == 404
