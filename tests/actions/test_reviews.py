"""Feedback reviews: per response and per wave, on the relationship story, scoped."""

import pytest
from django.urls import reverse

from actions.models import FeedbackReview
from actions.selectors import feedback_review_rows
from actions.services.reviews import feedback_review_save
from contacts.selectors import contact_story
from tests.actions.factories import answer
from tests.factories import AccountFactory, ContactFactory
from tests.pulses.factories import PulseProgrammeFactory, WaveFactory

pytestmark = pytest.mark.django_db

REVIEW = {
    "fairness": "partly",
    "nature": "expectations",
    "not_mentioned": "The new <b>portal</b>.",
    "notes": "We never told them about the SLA change.",
}


@pytest.fixture
def response(account):
    return answer(contact=ContactFactory(account=account, name="Ana Alvarez"), score=4)


def test_a_response_review_is_kept_once_and_updated(response, account, manager, teammate):
    first = feedback_review_save(account=account, by=manager, response=response, fields=REVIEW)
    again = feedback_review_save(
        account=account, by=teammate, response=response, fields=REVIEW | {"fairness": "fair"}
    )
    assert again.pk == first.pk
    assert (again.fairness, again.author, again.wave) == ("fair", teammate, response.wave)
    assert FeedbackReview.objects.count() == 1


def test_the_review_is_on_the_persons_story(response, account, manager):
    feedback_review_save(account=account, by=manager, response=response, fields=REVIEW)
    [event] = [e for e in contact_story(contact=response.contact) if e.kind == "review"]
    assert event.title == (
        f"Feedback on the {response.wave.name} reviewed: Partly fair · expectations management"
    )
    assert event.body == (
        "Not mentioned: The new <b>portal</b>.\nWe never told them about the SLA change."
    )
    assert event.actor == manager.full_name


def test_a_wave_is_reviewed_as_a_whole_once_per_account(account, manager, outsider):
    wave = WaveFactory()
    feedback_review_save(account=account, by=manager, wave=wave, fields=REVIEW)
    feedback_review_save(account=account, by=manager, wave=wave, fields=REVIEW | {"notes": "2"})
    other = AccountFactory(owner=outsider)
    feedback_review_save(account=other, by=outsider, wave=wave, fields=REVIEW)
    assert FeedbackReview.objects.filter(account=account).get().notes == "2"
    assert FeedbackReview.objects.count() == 2


def test_a_response_of_another_account_cannot_be_reviewed_there(response, outsider):
    with pytest.raises(Exception, match="not from this account"):
        feedback_review_save(
            account=AccountFactory(owner=outsider), by=outsider, response=response, fields=REVIEW
        )


def test_review_rows_for_reports_are_scoped(response, account, manager, outsider):
    feedback_review_save(account=account, by=manager, response=response, fields=REVIEW)
    [row] = feedback_review_rows(user=manager)
    assert (row["account__name"], row["response__contact__name"], row["fairness"]) == (
        "Northwind Logistics",
        "Ana Alvarez",
        "partly",
    )
    assert feedback_review_rows(user=outsider) == []


def test_the_team_reviews_from_the_response_page(client_for, teammate, response):
    url = reverse("actions:review", args=[response.acknowledgement.pk])
    page = client_for(teammate).post(url, REVIEW, follow=True)
    assert page.status_code == 200
    assert "The new &lt;b&gt;portal&lt;/b&gt;." in page.content.decode()
    assert FeedbackReview.objects.get().author == teammate


def test_a_review_needs_a_verdict(client_for, manager, response):
    url = reverse("actions:review", args=[response.acknowledgement.pk])
    page = client_for(manager).post(url, {"notes": "hm"})
    assert page.status_code == 400
    assert not FeedbackReview.objects.exists()


def test_the_team_reviews_a_wave_from_the_actions_tab(client_for, manager, account):
    wave = WaveFactory(name="May pulse", programme=PulseProgrammeFactory(accounts=[account]))
    url = reverse("actions:review_wave", args=[account.pk])
    page = client_for(manager).post(url, REVIEW | {"wave": wave.pk}, follow=True)
    assert "Review of the May pulse saved." in page.content.decode()
    assert page.context["wave_reviews"][0].wave == wave


def test_outsiders_get_404_and_executives_403_for_reviews(
    client_for, outsider, executive, account, response
):
    wave = response.wave
    response_url = reverse("actions:review", args=[response.acknowledgement.pk])
    wave_url = reverse("actions:review_wave", args=[account.pk])
    assert client_for(outsider).post(response_url, REVIEW).status_code == 404
    assert client_for(outsider).post(wave_url, REVIEW | {"wave": wave.pk}).status_code == 404
    assert client_for(executive).post(response_url, REVIEW).status_code == 403
    assert not FeedbackReview.objects.exists()
