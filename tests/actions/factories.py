"""Helpers for the close-the-loop tests: responses that arrive the way real ones do."""

from pulses.models import Invitation
from pulses.services.responses import response_submit
from tests.factories import ContactFactory
from tests.pulses.factories import GOOD_ANSWERS, InvitationFactory, WaveFactory


def answer(*, contact=None, account=None, wave=None, score: int = 8, **answers):
    """The contact answers `wave` by their link (through the real service): returns the
    response, which now has its acknowledgement."""
    contact = contact or ContactFactory(account=account)
    wave = wave or WaveFactory()
    invitation = Invitation.objects.filter(wave=wave, contact=contact).first() or (
        InvitationFactory(contact=contact, wave=wave)
    )
    return response_submit(
        invitation=invitation,
        answers=GOOD_ANSWERS | {"relationship": score} | answers,
        language="en",
    )
