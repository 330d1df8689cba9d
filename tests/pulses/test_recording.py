"""Recording what a contact told us in an interview, a call or a workshop."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from pulses.models import Invitation, Response
from tests.factories import AccountFactory, ContactFactory
from tests.pulses.factories import (
    InvitationFactory,
    PulseProgrammeFactory,
    WaveFactory,
    response_with_answers,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(account):
    return ContactFactory(account=account, name="Ana Alvarez")


@pytest.fixture
def wave(account):
    return WaveFactory(
        name="November 2026 pulse – Key accounts",
        programme=PulseProgrammeFactory(accounts=[account]),
    )


def _url(contact):
    return reverse("pulses:record", args=[contact.pk])


def _post(wave, **answers):
    data = {
        "wave": wave.pk,
        "source": "interview",
        "answered_on": timezone.localdate().isoformat(),
        "answers-relationship": "6",
        "answers-keep_doing": "Your <b>planners</b> know our warehouses.",
        "answers-improve": "Fewer surprises on invoices.",
    }
    data.update(answers)
    return data


def test_a_teammate_records_an_interview(client_for, teammate, contact, wave):
    client = client_for(teammate)

    first = client.get(_url(contact))
    assert f'value="{timezone.localdate().isoformat()}"' in first.text  # "When": today
    chosen = client.get(_url(contact), {"wave": wave.pk, "source": "interview"})
    assert chosen.status_code == 200
    assert "Overall, how would you rate your relationship" in chosen.text
    response = client.post(_url(contact), _post(wave), follow=True)

    assert response.redirect_chain[-1][0] == contact.get_absolute_url()
    assert "Ana Alvarez’s answers from the interview are saved" in response.text
    saved = Response.objects.get(wave=wave, contact=contact)
    assert saved.source == Response.Source.INTERVIEW
    assert saved.recorded_by == teammate
    assert saved.score == 6
    assert saved.answer_for("keep_doing") == "Your <b>planners</b> know our warehouses."
    assert Invitation.objects.get(wave=wave, contact=contact).status == Invitation.Status.SKIPPED


def test_recording_again_edits_the_same_response(client_for, manager, contact, wave):
    client = client_for(manager)
    client.post(_url(contact), _post(wave))

    page = client.get(_url(contact), {"wave": wave.pk, "source": "call"})
    assert "Fewer surprises on invoices." in page.text
    client.post(
        _url(contact), _post(wave, source="call", **{"answers-improve": "Invoice by PO number."})
    )

    saved = Response.objects.get(wave=wave, contact=contact)
    assert (saved.source, saved.answer_for("improve")) == ("call", "Invoice by PO number.")


def test_a_past_date_is_kept_as_when_they_answered(client_for, manager, contact, wave):
    client_for(manager).post(_url(contact), _post(wave, answered_on="2026-11-01"))

    saved = Response.objects.get()
    assert timezone.localdate(saved.submitted_at) == date(2026, 11, 1)


def test_a_future_date_or_no_answers_at_all_is_refused(client_for, manager, contact, wave):
    client = client_for(manager)
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()

    future = client.post(_url(contact), _post(wave, answered_on=tomorrow))
    empty = client.post(
        _url(contact),
        {"wave": wave.pk, "source": "call", "answered_on": timezone.localdate().isoformat()},
    )

    assert "That date is in the future." in future.text
    assert empty.status_code == 200
    assert "at least one answer" in empty.text
    assert not Response.objects.exists()


def test_out_of_range_answers_are_refused(client_for, manager, contact, wave):
    response = client_for(manager).post(
        _url(contact), _post(wave, **{"answers-relationship": "11"})
    )

    assert response.status_code == 200
    assert "Please correct the highlighted answers." in response.text
    assert not Response.objects.exists()


def test_a_contacts_own_answers_are_not_overwritten(client_for, manager, contact, wave):
    invitation = InvitationFactory(wave=wave, contact=contact)
    response_with_answers(
        wave=wave, contact=contact, answers={"relationship": 9}, invitation=invitation
    )

    page = client_for(manager).post(_url(contact), _post(wave))

    assert "answered this pulse themselves" in page.text
    assert Response.objects.get().score == 9


def test_only_open_or_recent_waves_of_the_contact_are_offered(client_for, manager, contact, wave):
    old = WaveFactory(
        name="Old pulse",
        programme=wave.programme,
        opens_on=timezone.localdate() - timedelta(days=400),
        closed=True,
    )
    elsewhere = WaveFactory(
        name="Another account's pulse",
        programme=PulseProgrammeFactory(accounts=[AccountFactory()]),
    )
    historic_of_theirs = WaveFactory(name="Pulse of March 2026", closed=True)
    InvitationFactory(wave=historic_of_theirs, contact=contact, status="skipped")

    page = client_for(manager).get(_url(contact))

    offered = list(page.context["recording"].fields["wave"].queryset)
    assert wave in offered
    assert historic_of_theirs in offered
    assert old not in offered
    assert elsewhere not in offered
    assert client_for(manager).post(_url(contact), _post(elsewhere)).status_code == 200
    assert not Response.objects.exists()


def test_someone_who_only_reads_the_account_gets_403(client_for, executive, contact, wave):
    client = client_for(executive)

    assert client.get(_url(contact)).status_code == 403
    assert client.post(_url(contact), _post(wave)).status_code == 403
    assert not Response.objects.exists()


def test_an_outsider_gets_404(client_for, outsider, contact, wave):
    client = client_for(outsider)

    assert client.get(_url(contact)).status_code == 404
    assert client.post(_url(contact), _post(wave)).status_code == 404


def test_logged_out_visitors_are_sent_to_log_in(client, contact):
    response = client.get(_url(contact))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_person_page_links_to_recording(client_for, manager, contact):
    page = client_for(manager).get(contact.get_absolute_url())

    assert _url(contact) in page.text
