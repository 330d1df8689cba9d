"""The survey submit's shortcuts give the same results as the long way round.

A frozen version's questions are read once per process; a first submit through the link writes
its response without looking it up first; the page's own wave stands for the wave as it is now.
Each shortcut is checked against what it replaces.
"""

import pytest
from django.urls import reverse

from pulses.models import Answer, Invitation, QuestionnaireVersion, Response, Wave
from pulses.services.questionnaires import (
    DEFAULT_QUESTIONS,
    questionnaire_ensure_default,
    questionnaire_save_version,
)
from pulses.services.responses import response_saved_answers, response_submit
from tests.factories import ContactFactory
from tests.pulses.factories import (
    GOOD_ANSWERS,
    InvitationFactory,
    default_version,
    form_data,
)

pytestmark = pytest.mark.django_db


def _fields(questions) -> list[tuple]:
    return [(q.pk, q.key, q.kind, q.position, q.required, q.prompt, q.choices) for q in questions]


def _url(invitation):
    return reverse("pulses:survey", args=[invitation.link_token()])


# --- A frozen version's questions -----------------------------------------------------------------


def test_a_frozen_versions_questions_are_read_once_and_match_the_database(
    django_assert_num_queries,
):
    version = default_version()
    assert version.is_frozen
    expected = _fields(version.questions.all())
    version.prefetch_questions()  # the first time in this process (or not): at most one query
    again = QuestionnaireVersion.objects.get(pk=version.pk)
    with django_assert_num_queries(0):
        again.prefetch_questions()
        assert _fields(again.questions.all()) == expected


def test_a_draft_is_read_every_time_so_a_new_wording_shows(django_assert_num_queries):
    questionnaire = questionnaire_ensure_default()
    draft = questionnaire_save_version(questionnaire=questionnaire, questions=DEFAULT_QUESTIONS)
    assert not draft.is_frozen
    draft.prefetch_questions()
    reworded = [q | {"prompt": {"en": q["prompt"]["en"] + "?"}} for q in DEFAULT_QUESTIONS]
    questionnaire_save_version(questionnaire=questionnaire, questions=reworded)
    fresh = QuestionnaireVersion.objects.get(pk=draft.pk)
    with django_assert_num_queries(1):
        fresh.prefetch_questions()
    assert [q.text("en") for q in fresh.questions.all()] == [q["prompt"]["en"] for q in reworded]


def test_prefetching_the_questions_keeps_what_else_was_prefetched():
    version = QuestionnaireVersion.objects.prefetch_related("waves").get(pk=default_version().pk)
    version.prefetch_questions()
    assert set(version._prefetched_objects_cache) == {"waves", "questions"}


# --- A first submit -------------------------------------------------------------------------------


@pytest.fixture
def invitation(account, manager):
    return InvitationFactory(contact=ContactFactory(account=account), signer=manager)


def test_the_link_loads_the_invitation_with_its_response_or_none(invitation):
    loaded = Invitation.from_token(invitation.link_token())
    assert Invitation.response.related.get_cached_value(loaded) is None
    response = Response.objects.create(
        wave=invitation.wave, contact=invitation.contact, invitation=invitation
    )
    loaded = Invitation.from_token(invitation.link_token())
    assert Invitation.response.related.get_cached_value(loaded) == response


def test_a_first_submit_that_finds_a_response_without_its_link_updates_it(client, invitation):
    # Answers recorded earlier for the same person and wave, not tied to this invitation: the
    # submit's INSERT hits the (wave, contact) constraint and is retried as an update.
    earlier = Response.objects.create(
        wave=invitation.wave, contact=invitation.contact, source=Response.Source.CALL
    )
    assert client.post(_url(invitation), form_data(relationship=3)).status_code == 302
    response = Response.objects.get()
    assert response.pk == earlier.pk
    assert (response.score, response.source, response.invitation) == (3, "survey", invitation)
    assert response_saved_answers(response=response) == GOOD_ANSWERS | {"relationship": 3}
    assert Answer.objects.filter(response=response).count() == len(GOOD_ANSWERS)


def test_a_first_submit_and_an_edit_store_what_the_long_way_stores(client, invitation, account):
    # The same answers by the service on an invitation loaded without its response (the
    # lookup path) and through the page (the shortcut): the same rows, field for field.
    other = InvitationFactory(wave=invitation.wave, contact=ContactFactory(account=account))
    long_way = response_submit(invitation=other, answers=GOOD_ANSWERS, language="en")
    assert client.post(_url(invitation), form_data()).status_code == 302
    short_way = Response.objects.get(invitation=invitation)

    def stored(response):
        response.refresh_from_db()
        return (
            response.wave_id,
            response.source,
            response.language,
            response.score,
            response.recorded_by_id,
            response_saved_answers(response=response),
            response.acknowledgement.urgent,
            response.acknowledgement.emails.count(),
        )

    assert stored(short_way) == stored(long_way)
    assert client.post(_url(invitation), form_data(relationship=4)).status_code == 302
    response_submit(
        invitation=Invitation.objects.get(pk=other.pk),
        answers=GOOD_ANSWERS | {"relationship": 4},
        language="en",
    )
    assert stored(short_way) == stored(long_way)


def test_the_page_checks_the_wave_it_loaded_and_a_closed_one_takes_no_answers(client, invitation):
    Wave.objects.filter(pk=invitation.wave_id).update(status=Wave.Status.CLOSED)
    response = client.post(_url(invitation), form_data())
    assert response.status_code == 200
    assert not Response.objects.exists()
