"""Pulse factories: waves on the shipped questionnaire, invitations with a working link."""

from datetime import timedelta

import factory
from django.utils import timezone

from pulses.models import Answer, Invitation, PulseProgramme, Response, Wave
from pulses.services.questionnaires import (
    questionnaire_ensure_default,
    questionnaire_version_for_sending,
)
from tests.factories import ContactFactory

# Answers that fill in every required question of the shipped questionnaire.
GOOD_ANSWERS = {
    "relationship": 8,
    "account_manager": 4,
    "delivery": 5,
    "value": 3,
    "keep_doing": "Quick answers from the team.",
    "improve": "Invoices that match the purchase orders.",
}


def default_version():
    """The shipped balanced questionnaire's current version, frozen as a wave would use it."""
    return questionnaire_version_for_sending(questionnaire=questionnaire_ensure_default())


def form_data(**overrides) -> dict[str, str]:
    """GOOD_ANSWERS as a browser posts them (every value a string), with overrides."""
    return {key: str(value) for key, value in (GOOD_ANSWERS | overrides).items()}


class PulseProgrammeFactory(factory.django.DjangoModelFactory):
    """A quarterly programme on the shipped questionnaire; pass accounts=[…] to scope it."""

    class Meta:
        model = PulseProgramme
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Programme {n}")
    questionnaire = factory.LazyFunction(questionnaire_ensure_default)
    cadence = PulseProgramme.Cadence.QUARTERLY
    open_days = 14
    reminder_days = factory.LazyFunction(lambda: [4, 9])
    next_wave_on = factory.LazyFunction(timezone.localdate)

    @factory.post_generation
    def accounts(self, create, extracted, **kwargs):
        if create and extracted:
            self.accounts.set(extracted)


class WaveFactory(factory.django.DjangoModelFactory):
    """An open wave that opened today and closes in two weeks."""

    class Meta:
        model = Wave

    name = factory.Sequence(lambda n: f"Pulse wave {n}")
    questionnaire_version = factory.LazyFunction(default_version)
    opens_on = factory.LazyFunction(timezone.localdate)
    closes_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=14))
    status = Wave.Status.OPEN

    class Params:
        closed = factory.Trait(
            status=Wave.Status.CLOSED,
            closes_at=factory.LazyFunction(lambda: timezone.now() - timedelta(days=1)),
            closed_at=factory.LazyFunction(lambda: timezone.now() - timedelta(days=1)),
        )


class InvitationFactory(factory.django.DjangoModelFactory):
    """A sent invitation with its personal link: `invitation.link_token()` opens it."""

    class Meta:
        model = Invitation

    wave = factory.SubFactory(WaveFactory)
    contact = factory.SubFactory(ContactFactory)
    signer = factory.SelfAttribute("contact.owner")
    status = Invitation.Status.SENT
    sent_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        invitation = model_class(*args, **kwargs)
        invitation.issue_token()
        invitation.save()
        return invitation


class ResponseFactory(factory.django.DjangoModelFactory):
    """A bare response (no answers): use response_with_answers() for one with answers."""

    class Meta:
        model = Response

    wave = factory.SubFactory(WaveFactory)
    contact = factory.SubFactory(ContactFactory)
    score = 8


def response_with_answers(*, wave: Wave, contact, answers: dict, **fields) -> Response:
    """A response written straight to the database (history, setup), one Answer per key."""
    questions = {q.key: q for q in wave.questionnaire_version.questions.all()}
    response = Response.objects.create(
        wave=wave, contact=contact, score=answers.get("relationship"), **fields
    )
    for key, value in answers.items():
        question = questions[key]
        if isinstance(value, int):
            Answer.objects.create(response=response, question=question, number=value)
        else:
            Answer.objects.create(response=response, question=question, text=value)
    return response
