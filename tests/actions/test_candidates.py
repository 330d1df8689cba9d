"""Referral and case-study candidates: marked from positive feedback, consent recorded."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from actions.models import AdvocacyCandidate
from actions.services.candidates import candidate_mark, candidate_record_consent
from contacts.selectors import contact_story
from tests.actions.factories import answer
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db

PRAISE = "Your planners know our warehouses better than we do."


@pytest.fixture
def response(account):
    return answer(
        contact=ContactFactory(account=account, name="Ana Alvarez"), score=10, keep_doing=PRAISE
    )


def test_a_quote_is_marked_once_per_kind_with_consent_not_yet_asked(response, manager):
    candidate = candidate_mark(response=response, kind="case_study", quote=PRAISE, by=manager)
    assert (candidate.contact, candidate.account, candidate.consent) == (
        response.contact,
        response.contact.account,
        "not_asked",
    )
    with pytest.raises(ValidationError, match="already a case study candidate"):
        candidate_mark(response=response, kind="case_study", quote=PRAISE, by=manager)
    candidate_mark(response=response, kind="referral", quote=PRAISE, by=manager)
    assert AdvocacyCandidate.objects.count() == 2


def test_consent_is_recorded_with_how_and_who(response, manager, teammate):
    candidate = candidate_mark(response=response, kind="referral", quote=PRAISE, by=manager)
    with pytest.raises(ValidationError, match="how they told you"):
        candidate_record_consent(candidate=candidate, consent="given", note="", by=teammate)
    candidate_record_consent(
        candidate=candidate, consent="given", note="By email on 3 March", by=teammate
    )
    candidate.refresh_from_db()
    assert (candidate.consent, candidate.consent_note, candidate.consent_recorded_by) == (
        "given",
        "By email on 3 March",
        teammate,
    )
    assert candidate.consent_recorded_at is not None


def test_the_database_refuses_consent_without_when(response, manager):
    candidate = candidate_mark(response=response, kind="referral", quote=PRAISE, by=manager)
    with pytest.raises(IntegrityError):
        AdvocacyCandidate.objects.filter(pk=candidate.pk).update(consent="given")


def test_candidacy_is_on_the_story(response, manager):
    candidate_mark(response=response, kind="case_study", quote=PRAISE, by=manager)
    [event] = [e for e in contact_story(contact=response.contact) if e.kind == "candidate"]
    assert event.title == "Marked as a case study candidate (not asked yet)"
    assert event.body == f"“{PRAISE}”"


def test_marking_from_the_response_page(client_for, teammate, response):
    url = reverse("actions:mark_candidate", args=[response.acknowledgement.pk])
    page = client_for(teammate).post(url, {"kind": "referral", "quote": PRAISE}, follow=True)
    assert "Marked as a candidate" in page.content.decode()
    assert AdvocacyCandidate.objects.get().created_by == teammate


def test_the_list_shows_candidates_across_my_accounts_only(client_for, manager, outsider, response):
    candidate_mark(response=response, kind="referral", quote=PRAISE, by=manager)
    foreign = answer(
        contact=ContactFactory(account=AccountFactory(owner=outsider), name="Fritz"),
        keep_doing="Secret praise",
    )
    candidate_mark(response=foreign, kind="referral", quote="Secret praise", by=outsider)

    page = client_for(manager).get(reverse("actions:candidates"))
    assert [c.contact.name for c in page.context["candidates"]] == ["Ana Alvarez"]
    assert "Secret praise" not in page.content.decode()
    filtered = client_for(manager).get(reverse("actions:candidates") + "?consent=given")
    assert filtered.context["candidates"] == []


def test_recording_consent_from_the_list(client_for, manager, response):
    candidate = candidate_mark(response=response, kind="referral", quote=PRAISE, by=manager)
    url = reverse("actions:consent", args=[candidate.pk])
    client_for(manager).post(url, {"consent": "declined", "consent_note": "In a call"})
    candidate.refresh_from_db()
    assert candidate.consent == "declined"


def test_outsiders_get_404_and_executives_403(client_for, outsider, executive, manager, response):
    candidate = candidate_mark(response=response, kind="referral", quote=PRAISE, by=manager)
    consent = reverse("actions:consent", args=[candidate.pk])
    mark = reverse("actions:mark_candidate", args=[response.acknowledgement.pk])
    assert (
        client_for(outsider).post(consent, {"consent": "given", "consent_note": "x"}).status_code
        == 404
    )
    assert client_for(outsider).post(mark, {"kind": "case_study", "quote": "x"}).status_code == 404
    assert (
        client_for(executive).post(consent, {"consent": "given", "consent_note": "x"}).status_code
        == 403
    )
    assert client_for(executive).get(reverse("actions:candidates")).context["candidates"] == [
        candidate
    ]
    candidate.refresh_from_db()
    assert candidate.consent == "not_asked"


def test_the_list_costs_the_same_queries_for_few_or_many(client_for, manager, account, response):
    client = client_for(manager)
    candidate_mark(response=response, kind="referral", quote=PRAISE, by=manager)
    url = reverse("actions:candidates")
    client.get(url)

    def count():
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        return len(queries)

    few = count()
    for n in range(4):
        other = answer(contact=ContactFactory(account=account), keep_doing=f"Great {n}")
        candidate = candidate_mark(
            response=other, kind="case_study", quote=f"Great {n}", by=manager
        )
        candidate_record_consent(candidate=candidate, consent="given", note="email", by=manager)
    assert count() == few
