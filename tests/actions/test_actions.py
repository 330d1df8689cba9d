"""Actions: the log, one focus per account and pulse cycle, and "you said, we did" shown back
to the people who raised it (survey page and next invitation)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from actions.models import BEFORE_THE_FIRST_PULSE, Action
from actions.selectors import (
    pulse_cycle_start,
    you_said_we_did_for,
    you_said_we_did_for_invitation,
)
from actions.services import actions as service
from actions.services.actions import action_create, action_update
from tests.factories import ContactFactory
from tests.pulses.factories import (
    InvitationFactory,
    PulseProgrammeFactory,
    WaveFactory,
    response_with_answers,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def may_wave(account):
    """The wave that opened this account's current cycle, 30 days ago."""
    return WaveFactory(
        name="May pulse",
        opens_on=TODAY - timedelta(days=30),
        programme=PulseProgrammeFactory(accounts=[account]),
        closed=True,
    )


@pytest.fixture
def ana(account, manager):
    return ContactFactory(account=account, name="Ana Alvarez", owner=manager)


def _focus(account, manager, title="Invoices that match the POs", **fields):
    return action_create(
        account=account, by=manager, fields={"title": title, "is_focus": True, **fields}
    )


# --- Cycles and the one focus -------------------------------------------------------------------


def test_the_cycle_starts_with_the_latest_wave_that_reached_the_account(account, ana):
    assert pulse_cycle_start(account=account) == BEFORE_THE_FIRST_PULSE
    old = WaveFactory(opens_on=TODAY - timedelta(days=120), closed=True)
    InvitationFactory(wave=old, contact=ana)
    assert pulse_cycle_start(account=account) == old.opens_on
    covering = WaveFactory(
        opens_on=TODAY - timedelta(days=5), programme=PulseProgrammeFactory(accounts=[account])
    )
    assert pulse_cycle_start(account=account) == covering.opens_on
    WaveFactory(opens_on=TODAY - timedelta(days=1))  # reached other accounts only
    WaveFactory(opens_on=TODAY + timedelta(days=10), programme=covering.programme)
    assert pulse_cycle_start(account=account) == covering.opens_on


def test_a_second_focus_in_the_same_cycle_is_refused_naming_the_first(account, manager, may_wave):
    first = _focus(account, manager)
    assert first.cycle_start == may_wave.opens_on

    with pytest.raises(ValidationError) as refused:
        _focus(account, manager, title="Faster second-line support")
    assert refused.value.message_dict["is_focus"] == [
        "Northwind Logistics already has its one thing to fix for this pulse cycle: "
        "“Invoices that match the POs”. Finish it or take the focus off it first."
    ]
    other = action_create(account=account, by=manager, fields={"title": "Faster support"})
    with pytest.raises(ValidationError, match="already has its one thing to fix"):
        action_update(action=other, by=manager, fields={"is_focus": True})
    assert Action.objects.filter(is_focus=True).count() == 1


def test_the_database_itself_allows_one_focus_per_account_and_cycle(account, manager, may_wave):
    _focus(account, manager)
    with pytest.raises(IntegrityError):
        Action.objects.create(
            account=account, title="Sneaked in", is_focus=True, cycle_start=may_wave.opens_on
        )


def test_a_focus_that_loses_a_race_gets_the_same_clear_message(
    account, manager, may_wave, monkeypatch
):
    _focus(account, manager)
    monkeypatch.setattr(service, "_check_focus", lambda action: None)  # both checked at once
    with pytest.raises(ValidationError, match="“Invoices that match the POs”"):
        _focus(account, manager, title="The other one")


def test_each_cycle_and_each_account_has_its_own_focus(account, manager, may_wave, outsider):
    first = _focus(account, manager)
    WaveFactory(opens_on=TODAY, programme=may_wave.programme)  # the next wave opens
    second = _focus(account, manager, title="Second-line support in hours, not days")
    assert second.cycle_start == TODAY
    assert first.cycle_start != second.cycle_start
    from tests.factories import AccountFactory

    _focus(AccountFactory(owner=outsider), outsider)
    assert Action.objects.filter(is_focus=True).count() == 3


def test_taking_the_focus_off_frees_the_cycle(account, manager, may_wave):
    first = _focus(account, manager)
    action_update(action=first, by=manager, fields={"is_focus": False})
    assert _focus(account, manager, title="Now this one").is_focus


# --- Status, statement, log ---------------------------------------------------------------------


def test_every_change_is_logged_and_done_records_when(account, manager, teammate, may_wave):
    action = action_create(account=account, by=manager, fields={"title": "Clear invoices"})
    action_update(
        action=action,
        by=teammate,
        fields={"status": "in_progress", "owner": teammate, "priority": 1},
        note="Finance agreed to add the PO number.",
    )
    action_update(action=action, by=teammate, fields={"status": "done"})

    action.refresh_from_db()
    assert action.done_at is not None
    log = [u.text for u in action.updates.order_by("at", "pk")]
    assert log == [
        "Created",
        f"Owner: nobody → {teammate}\nPriority: Medium → High\nStatus: Open → In progress\n"
        "Finance agreed to add the PO number.",
        "Status: In progress → Done",
    ]
    assert action_update(action=action, by=teammate, fields={"status": "done"}) == action
    assert action.updates.count() == 3  # nothing changed: nothing logged


def test_you_said_we_did_is_written_once_done_and_cleared_if_reopened(account, manager, may_wave):
    action = _focus(account, manager)
    with pytest.raises(ValidationError, match="once the action is done"):
        action_update(action=action, by=manager, fields={"you_said_we_did": "Fixed."})
    action_update(
        action=action,
        by=manager,
        fields={"status": "done", "you_said_we_did": "Every invoice now carries your PO number."},
    )
    assert action.updates.first().text.endswith(
        "You said, we did: Every invoice now carries your PO number."
    )
    action_update(action=action, by=manager, fields={"status": "in_progress"})
    action.refresh_from_db()
    assert (action.you_said_we_did, action.done_at) == ("", None)


def test_sources_must_belong_to_the_account(account, manager, outsider):
    from tests.factories import AccountFactory

    stranger = ContactFactory(account=AccountFactory(owner=outsider))
    with pytest.raises(ValidationError, match="not at this account"):
        action_create(
            account=account, by=manager, fields={"title": "x", "source_contact": stranger}
        )


# --- "You said, we did" back to the people who raised it ----------------------------------------


def _answered(contact, wave):
    InvitationFactory(wave=wave, contact=contact)
    return response_with_answers(wave=wave, contact=contact, answers={"relationship": 6})


def _done(account, manager, statement, **sources):
    action = action_create(account=account, by=manager, fields={"title": statement, **sources})
    action_update(
        action=action, by=manager, fields={"status": "done", "you_said_we_did": statement}
    )
    return action


def test_people_see_what_was_done_about_what_they_raised_since_their_last_pulse(
    account, manager, ana, may_wave
):
    response = _answered(ana, may_wave)
    bea = ContactFactory(account=account, name="Bea")
    InvitationFactory(wave=may_wave, contact=bea)
    _done(account, manager, "Invoices now carry your PO number.", source_response=response)
    _done(account, manager, "Bea's own point, fixed.", source_contact=bea)
    _done(account, manager, "Everyone in May: a single escalation contact.", source_wave=may_wave)
    before = _done(account, manager, "Done before her last pulse.", source_contact=ana)
    Action.objects.filter(pk=before.pk).update(done_at=timezone.now() - timedelta(days=60))
    next_wave = WaveFactory(opens_on=TODAY)

    assert you_said_we_did_for(contact=ana, wave=next_wave) == [
        "Everyone in May: a single escalation contact.",
        "Invoices now carry your PO number.",
    ]
    # Bea was invited in May but did not answer: only what she raised herself.
    assert you_said_we_did_for(contact=bea, wave=next_wave) == ["Bea's own point, fixed."]


def test_the_next_invitation_gets_the_same_lines(account, manager, ana, may_wave):
    response = _answered(ana, may_wave)
    _done(account, manager, "Invoices now carry your PO number.", source_response=response)
    invitation = InvitationFactory(wave=WaveFactory(opens_on=TODAY), contact=ana)
    assert you_said_we_did_for_invitation(invitation) == ["Invoices now carry your PO number."]


def test_the_survey_page_says_since_your_last_pulse_we_have(
    client, account, manager, ana, may_wave
):
    response = _answered(ana, may_wave)
    _done(account, manager, "Invoices carry your <PO> number.", source_response=response)
    invitation = InvitationFactory(wave=WaveFactory(opens_on=TODAY), contact=ana)

    page = client.get(reverse("pulses:survey", args=[invitation.link_token()]))

    html = page.content.decode()
    assert "Since your last pulse we have:" in html
    assert "<li>Invoices carry your &lt;PO&gt; number.</li>" in html


def test_nothing_is_said_when_nothing_was_done(client, ana):
    invitation = InvitationFactory(wave=WaveFactory(), contact=ana)
    page = client.get(reverse("pulses:survey", args=[invitation.link_token()]))
    assert "Since your last pulse" not in page.content.decode()


def test_the_survey_page_speaks_their_language(client, account, manager, may_wave):
    kai = ContactFactory(account=account, preferred_language="de")
    _done(account, manager, "Rechnungen tragen jetzt Ihre Bestellnummer.", source_contact=kai)
    invitation = InvitationFactory(wave=WaveFactory(opens_on=TODAY), contact=kai)
    page = client.get(reverse("pulses:survey", args=[invitation.link_token()]))
    assert "Seit Ihrer letzten Umfrage haben wir:" in page.content.decode()
