"""Retention: a daily task clears the free text of responses older than
RESPONSE_RETENTION_DAYS (and what repeats it); scores stay, newer responses are untouched."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from actions.models import Acknowledgement, AdvocacyCandidate
from contacts.privacy import EXPIRED_TEXT, responses_apply_retention
from core.models import WebhookDelivery, WebhookEndpoint
from core.services.webhooks import webhook_event_publish
from pulses.models import Answer, Question
from pulses.selectors import response_data
from pulses.tasks import apply_response_retention
from reports.models import Quote
from tests.actions.factories import answer
from tests.factories import ContactFactory
from tests.pulses.factories import WaveFactory

OLD_WORDS = "Your drivers were late every Monday in March."
NEW_WORDS = "The new portal saves our planners an hour a day."


@pytest.fixture
def responses(account, manager, administrator):
    """An answer given 400 days ago and one given yesterday, each with a reply, a quote, a
    candidacy and a webhook delivery."""
    WebhookEndpoint.objects.create(
        url="https://hooks.example/in", events=["response.submitted"], secret="s"
    )
    made = {}
    for label, words, age in (("old", OLD_WORDS, 400), ("new", NEW_WORDS, 1)):
        contact = ContactFactory(account=account)
        response = answer(contact=contact, wave=WaveFactory(), score=7, improve=words)
        at = timezone.now() - timedelta(days=age)
        type(response).objects.filter(pk=response.pk).update(submitted_at=at)
        ack = Acknowledgement.objects.get(response=response)
        ack.mark_acknowledged(by=manager, method=Acknowledgement.Method.EMAIL)
        ack.reply_body = f"You wrote “{words}”: thank you."
        ack.save()
        improve = Answer.objects.get(response=response, question__purpose=Question.Purpose.IMPROVE)
        Quote.objects.create(
            answer=improve, contact=contact, side=Quote.Side.TO_IMPROVE, original_text=words,
            text=words,
        )  # fmt: skip
        AdvocacyCandidate.objects.create(
            account=account, contact=contact, response=response, kind="referral", quote=words
        )
        webhook_event_publish(
            event="response.submitted", data=response_data(response_id=response.pk)
        )
        WebhookDelivery.objects.filter(payload__data__id=response.pk).update(created_at=at)
        made[label] = response
    return made


def test_nothing_is_removed_by_default(responses):
    assert django_settings.RAPPORT_RESPONSE_RETENTION_DAYS == 0

    apply_response_retention()

    assert Answer.objects.filter(text=OLD_WORDS).exists()
    assert responses_apply_retention() == {}


def test_the_daily_task_clears_only_older_responses_words_and_keeps_scores(responses, settings):
    settings.RAPPORT_RESPONSE_RETENTION_DAYS = 365
    old, new = responses["old"], responses["new"]

    apply_response_retention()

    assert not Answer.objects.filter(response=old).exclude(text="").exists()
    assert sorted(Answer.objects.filter(response=old).exclude(number=None).values_list("number", flat=True)) == [3, 4, 5, 7]  # fmt: skip
    old.refresh_from_db()
    assert old.score == 7
    assert Acknowledgement.objects.get(response=old).reply_body == EXPIRED_TEXT
    quote = Quote.objects.get(answer__response=old)
    assert (quote.text, quote.original_text, quote.status) == (
        EXPIRED_TEXT,
        EXPIRED_TEXT,
        Quote.Status.WITHDRAWN,
    )
    assert AdvocacyCandidate.objects.get(response=old).quote == EXPIRED_TEXT
    old_delivery = WebhookDelivery.objects.get(payload__data__id=old.pk)
    assert old_delivery.payload["data"]["answers"]["improve"] == ""
    assert old_delivery.payload["data"]["answers"]["relationship"] == 7
    # The newer response keeps every word.
    assert Answer.objects.filter(response=new, text=NEW_WORDS).exists()
    assert NEW_WORDS in Acknowledgement.objects.get(response=new).reply_body
    assert Quote.objects.get(answer__response=new).status == Quote.Status.PROPOSED
    new_delivery = WebhookDelivery.objects.get(payload__data__id=new.pk)
    assert new_delivery.payload["data"]["answers"]["improve"] == NEW_WORDS


def test_running_it_again_changes_nothing(responses, settings):
    settings.RAPPORT_RESPONSE_RETENTION_DAYS = 365

    first = responses_apply_retention()
    second = responses_apply_retention()

    assert first["answers"] == 2  # keep doing, improve
    assert first["quotes"] >= 1
    assert second == {}


def test_a_negative_period_is_refused(db):
    with pytest.raises(ValueError, match="number of days"):
        responses_apply_retention(days=-1)


def test_beat_runs_it_every_day():
    entry = django_settings.CELERY_BEAT_SCHEDULE["response-retention"]

    assert entry["task"] == "pulses.tasks.apply_response_retention"
    assert entry["schedule"] == 24 * 60 * 60
