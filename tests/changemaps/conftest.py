"""A small pulse history in the database: four waves (the last still open), five people."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from config.celery import app
from contacts.models import BuyingRole
from pulses.models import Invitation, Response, Wave
from tests.factories import ContactFactory
from tests.pulses.factories import default_version


@dataclass
class World:
    waves: list
    alice: object
    bob: object
    carol: object
    dave: object
    eve: object

    @property
    def latest(self):
        return self.waves[-1]


def make_wave(name: str, days_ago: int, *, open_: bool = False) -> Wave:
    opens_on = timezone.localdate() - timedelta(days=days_ago)
    closes_at = (
        timezone.now() + timedelta(days=9)
        if open_
        else timezone.now() - timedelta(days=days_ago - 14)
    )
    return Wave.objects.create(
        name=name,
        questionnaire_version=default_version(),
        opens_on=opens_on,
        closes_at=closes_at,
        status=Wave.Status.OPEN if open_ else Wave.Status.CLOSED,
    )


def invite(wave, contact) -> Invitation:
    return Invitation.objects.create(wave=wave, contact=contact, status=Invitation.Status.SENT)


def answer(wave, contact, score, *, source=Response.Source.SURVEY, invited=True) -> Response:
    invitation = invite(wave, contact) if invited else None
    return Response.objects.create(
        wave=wave, contact=contact, invitation=invitation, score=score, source=source
    )


@pytest.fixture
def world(account, foreign_account) -> World:
    waves = [
        make_wave("January 2026 pulse", 300),
        make_wave("April 2026 pulse", 200),
        make_wave("July 2026 pulse", 100),
        make_wave("October 2026 pulse", 5, open_=True),
    ]
    first, second, third, current = waves
    decision_maker = BuyingRole.objects.get(code="decision_maker")
    alice = ContactFactory(
        account=account, name="Alice Archer", email="alice@northwind.example",
        department="Finance", roles=[decision_maker], influence=5,
    )  # fmt: skip
    bob = ContactFactory(
        account=account, name="Bob Baker", email="bob@northwind.example", department="Finance"
    )
    carol = ContactFactory(
        account=account, name="=HYPERLINK(\"http://evil.example\")",
        email="carol@northwind.example", department="IT", influence=None,
    )  # fmt: skip
    dave = ContactFactory(
        account=account, name="Dave Dunn", email="dave@northwind.example", status="left"
    )
    eve = ContactFactory(account=foreign_account, name="Eve Evans", email="eve@foreign.example")
    for wave, score in zip(waves[:3], [9, 8, 5], strict=True):
        answer(wave, alice, score)
    invite(current, alice)  # the open wave: no answer yet, which is not silence
    answer(first, bob, 7)
    invite(second, bob)
    invite(third, bob)
    invite(current, bob)
    # Carol only ever spoke to us: an interview, a call and a workshop, no invitations.
    answer(second, carol, 9, source=Response.Source.INTERVIEW, invited=False)
    answer(third, carol, 9, source=Response.Source.CALL, invited=False)
    answer(current, carol, 10, source=Response.Source.WORKSHOP, invited=False)
    answer(first, dave, 8)
    answer(second, dave, 8)
    answer(third, eve, 8, source=Response.Source.IMPORT)
    answer(current, eve, 8)
    return World(waves=waves, alice=alice, bob=bob, carol=carol, dave=dave, eve=eve)


@pytest.fixture
def eager_celery():
    """Run queued tasks in this process, as a worker would (the product never runs eagerly)."""
    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous
