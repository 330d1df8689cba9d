"""SurveyForm: one field per question, the same rules for contacts and for staff recording."""

import pytest

from pulses.forms import SurveyForm
from pulses.models import MAX_ANSWER_LENGTH, Question
from pulses.services.questionnaires import DEFAULT_QUESTIONS, questionnaire_save_version
from tests.pulses.factories import GOOD_ANSWERS, default_version, form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def version():
    return default_version()


def test_one_field_per_question_in_order_with_the_answers_as_numbers_and_text(version):
    form = SurveyForm(form_data(), version=version)
    assert list(form.fields) == [q.key for q in version.questions.all()]
    assert form.is_valid(), form.errors
    assert form.answers() == GOOD_ANSWERS


def test_optional_question_left_blank_is_left_out_of_the_answers(version):
    form = SurveyForm(form_data(anything_else="  "), version=version)
    assert form.is_valid()
    assert "anything_else" not in form.answers()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("relationship", "11"),
        ("relationship", "-1"),
        ("relationship", "seven"),
        ("delivery", "0"),
        ("delivery", "6"),
    ],
)
def test_out_of_range_scores_are_field_errors(version, key, value):
    form = SurveyForm(form_data(**{key: value}), version=version)
    assert not form.is_valid()
    low, high = (0, 10) if key == "relationship" else (1, 5)
    assert form.errors[key] == [f"Please choose a number from {low} to {high}."]


def test_scale_ends_are_valid(version):
    assert SurveyForm(form_data(relationship="0", delivery="1"), version=version).is_valid()
    assert SurveyForm(form_data(relationship="10", delivery="5"), version=version).is_valid()


def test_every_required_question_needs_an_answer(version):
    data = form_data()
    del data["relationship"]
    data["improve"] = ""
    form = SurveyForm(data, version=version)
    assert not form.is_valid()
    assert set(form.errors) == {"relationship", "improve"}
    assert form.errors["improve"] == ["Please answer this question."]


def test_open_text_is_capped_with_a_clear_error_and_a_maxlength(version):
    form = SurveyForm(form_data(improve="x" * (MAX_ANSWER_LENGTH + 1)), version=version)
    assert not form.is_valid()
    assert form.errors["improve"] == [
        "Please keep this to 5,000 characters or fewer (it has 5001)."
    ]
    assert 'maxlength="5000"' in str(form["improve"])
    assert SurveyForm(form_data(improve="x" * MAX_ANSWER_LENGTH), version=version).is_valid()


def test_line_breaks_count_once_as_in_the_browser(version):
    text = "ab\r\n" * 1250  # 5,000 characters as the browser counts them, 6,250 as sent
    form = SurveyForm(form_data(improve=text), version=version)
    assert form.is_valid(), form.errors
    assert form.answers()["improve"] == ("ab\n" * 1250).strip()


def test_a_rejected_form_keeps_what_was_typed(version):
    form = SurveyForm(
        form_data(relationship="12", keep_doing="Our <b>own</b> words"), version=version
    )
    assert not form.is_valid()
    assert "Our &lt;b&gt;own&lt;/b&gt; words</textarea>" in str(form["keep_doing"])
    assert 'value="4" class="scale-input" required id="id_account_manager_3" checked' in str(
        form["account_manager"]
    )


def test_initial_answers_prefill_the_form(version):
    form = SurveyForm(version=version, initial_answers={"relationship": 6, "improve": "Faster"})
    assert 'value="6" class="scale-input" required id="id_relationship_6" checked' in str(
        form["relationship"]
    )
    assert ">\nFaster</textarea>" in str(form["improve"])


def test_wording_follows_the_language_with_english_fallback(version):
    german = SurveyForm(version=version, language="de")
    assert german.fields["relationship"].label.startswith("Wie bewerten Sie")
    assert german.fields["relationship"].scale_low == "Sehr schlecht"
    swedish = SurveyForm(version=version, language="sv")
    assert swedish.fields["relationship"].label.startswith("Overall, how would you rate")
    assert swedish.fields["relationship"].scale_high == "Excellent"
    german_error = SurveyForm(form_data(improve="x" * 5001), version=version, language="de")
    assert german_error.errors["improve"] == ["Bitte höchstens 5.000 Zeichen (derzeit 5001)."]


def test_single_choice_questions_are_radios_of_their_options(version):
    questionnaire = version.questionnaire
    questions = [
        *DEFAULT_QUESTIONS,
        {
            "key": "renew",
            "kind": Question.Kind.SINGLE_CHOICE,
            "prompt": {"en": "Will you renew?"},
            "choices": [
                {"value": "yes", "label": {"en": "Yes", "de": "Ja"}},
                {"value": "no", "label": {"en": "No"}},
            ],
        },
    ]
    new_version = questionnaire_save_version(questionnaire=questionnaire, questions=questions)
    form = SurveyForm(form_data(renew="maybe"), version=new_version, language="de")
    assert form.fields["renew"].choices == [("yes", "Ja"), ("no", "No")]
    assert not form.is_valid()
    assert form.errors["renew"] == ["Bitte wählen Sie eine der Antworten."]
    accepted = SurveyForm(form_data(renew="no"), version=new_version)
    assert accepted.is_valid()
    assert accepted.answers()["renew"] == "no"
