"""Questionnaires are balanced by design and versioned once sent, in the contact's language."""

import copy

import pytest
from django.core.exceptions import ValidationError

from pulses.models import Answer, Question, Questionnaire
from pulses.services.questionnaires import (
    DEFAULT_QUESTIONS,
    questionnaire_ensure_default,
    questionnaire_save_version,
    questionnaire_version_for_sending,
)

pytestmark = pytest.mark.django_db


def _without(key):
    return [q for q in copy.deepcopy(DEFAULT_QUESTIONS) if q["key"] != key]


@pytest.fixture
def questionnaire():
    return Questionnaire.objects.create(name="Executive pulse")


def test_the_shipped_questionnaire_is_balanced_and_translated():
    version = questionnaire_ensure_default().current_version
    assert version.balance_errors() == []
    questions = {q.key: q for q in version.questions.all()}
    assert questions["relationship"].kind == Question.Kind.RELATIONSHIP_SCORE
    assert questions["keep_doing"].text("en") == "What should we keep doing?"
    assert questions["improve"].text("de") == "Was ist das Eine, das wir ändern sollten?"
    # A language without a translation falls back to English.
    assert questions["improve"].text("sv") == "What one thing should we change?"


@pytest.mark.parametrize(
    ("questions", "message"),
    [
        (_without("keep_doing"), "asks what goes well"),
        (_without("improve"), "asks what to improve"),
        (_without("relationship"), "exactly one relationship score"),
        (
            [*copy.deepcopy(DEFAULT_QUESTIONS), {**DEFAULT_QUESTIONS[0], "key": "second_score"}],
            "this one has 2",
        ),
    ],
)
def test_an_unbalanced_questionnaire_is_refused_and_nothing_is_saved(
    questionnaire, questions, message
):
    with pytest.raises(ValidationError) as error:
        questionnaire_save_version(questionnaire=questionnaire, questions=questions)
    assert any(message in m for m in error.value.messages)
    assert not questionnaire.versions.exists()


def test_a_question_needs_english_wording(questionnaire):
    questions = copy.deepcopy(DEFAULT_QUESTIONS)
    questions[1]["prompt"] = {"de": "Nur Deutsch"}
    with pytest.raises(ValidationError, match="English wording"):
        questionnaire_save_version(questionnaire=questionnaire, questions=questions)


def test_a_draft_is_edited_in_place_but_a_sent_version_never_changes(questionnaire):
    draft = questionnaire_save_version(questionnaire=questionnaire, questions=DEFAULT_QUESTIONS)
    reworded = copy.deepcopy(DEFAULT_QUESTIONS)
    reworded[4]["prompt"] = {"en": "What do we do well?"}
    assert (
        questionnaire_save_version(questionnaire=questionnaire, questions=reworded).pk == draft.pk
    )

    sent = questionnaire_version_for_sending(questionnaire=questionnaire)
    assert sent.is_frozen
    wording_seen = sent.questions.get(key="keep_doing").text("en")
    again = copy.deepcopy(reworded)
    again[4]["prompt"] = {"en": "What should we never stop doing?"}
    newer = questionnaire_save_version(questionnaire=questionnaire, questions=again)

    assert (newer.number, sent.number) == (2, 1)
    assert sent.questions.get(key="keep_doing").text("en") == wording_seen == "What do we do well?"
    assert questionnaire.current_version == newer


def test_answers_keep_pointing_at_the_wording_their_respondent_saw(questionnaire):
    from tests.pulses.factories import ResponseFactory

    questionnaire_save_version(questionnaire=questionnaire, questions=DEFAULT_QUESTIONS)
    sent = questionnaire_version_for_sending(questionnaire=questionnaire)
    question = sent.questions.get(key="improve")
    response = ResponseFactory(wave__questionnaire_version=sent)
    Answer.objects.create(response=response, question=question, text="Faster invoices")
    questionnaire_save_version(questionnaire=questionnaire, questions=_without("anything_else"))
    answer = Answer.objects.get(response=response)
    assert answer.question.version == sent
    assert answer.question.text("en") == "What one thing should we change?"
