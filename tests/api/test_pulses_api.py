"""/api/v1/questionnaires/, programmes/, waves/ and responses/: scoping and staff recording."""

from datetime import timedelta

import pytest
from django.utils import timezone

from pulses.models import Invitation, Response
from tests.api.conftest import pointers, problem
from tests.factories import ContactFactory
from tests.pulses.factories import (
    GOOD_ANSWERS,
    InvitationFactory,
    PulseProgrammeFactory,
    WaveFactory,
    response_with_answers,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def greta(account):
    return ContactFactory(account=account, name="Greta")


@pytest.fixture
def stranger(foreign_account):
    return ContactFactory(account=foreign_account, name="Stranger")


@pytest.fixture
def programme(account):
    return PulseProgrammeFactory(name="Northwind quarterly", accounts=[account])


@pytest.fixture
def wave(programme):
    return WaveFactory(programme=programme, name="Q1 pulse")


def test_questionnaires_come_with_their_questions(api_for, manager, wave):
    body = api_for(manager).get("/api/v1/questionnaires/").json()

    [questionnaire] = body["results"]
    keys = [q["key"] for q in questionnaire["versions"][-1]["questions"]]
    assert {"relationship", "keep_doing", "improve"} <= set(keys)


def test_programmes_and_waves_of_other_accounts_are_out_of_sight(
    api_for, manager, outsider, foreign_account, wave, programme
):
    theirs = WaveFactory(
        programme=PulseProgrammeFactory(name="Foreign", accounts=[foreign_account]), name="Theirs"
    )
    client = api_for(manager)

    assert [p["id"] for p in client.get("/api/v1/programmes/").json()["results"]] == [programme.pk]
    assert [w["id"] for w in client.get("/api/v1/waves/").json()["results"]] == [wave.pk]
    assert client.get(f"/api/v1/waves/{theirs.pk}/").status_code == 404
    assert client.get(f"/api/v1/programmes/{theirs.programme_id}/").status_code == 404
    assert api_for(outsider).get(f"/api/v1/waves/{wave.pk}/").status_code == 404


def test_a_programme_by_segment_is_seen_by_managers_of_that_segment(api_for, manager, account):
    by_segment = PulseProgrammeFactory(name="Segment-wide", segment=account.segment)

    ids = [p["id"] for p in api_for(manager).get("/api/v1/programmes/").json()["results"]]

    assert ids == [by_segment.pk]


def test_a_programme_shows_only_the_accounts_you_may_see(
    api_for, manager, account, foreign_account
):
    shared = PulseProgrammeFactory(name="Shared", accounts=[account, foreign_account])

    body = api_for(manager).get(f"/api/v1/programmes/{shared.pk}/").json()

    assert body["accounts"] == [account.pk]


def test_historic_waves_are_seen_through_the_people_they_reached(api_for, manager, greta):
    historic = WaveFactory(programme=None, name="2023 interviews", closed=True)
    InvitationFactory(wave=historic, contact=greta)

    ids = [w["id"] for w in api_for(manager).get("/api/v1/waves/").json()["results"]]

    assert ids == [historic.pk]


def test_responses_are_scoped_to_visible_people(api_for, manager, wave, greta, stranger):
    mine = response_with_answers(wave=wave, contact=greta, answers=GOOD_ANSWERS)
    theirs = response_with_answers(wave=wave, contact=stranger, answers=GOOD_ANSWERS)
    client = api_for(manager)

    body = client.get("/api/v1/responses/").json()

    assert [row["id"] for row in body["results"]] == [mine.pk]
    assert body["results"][0]["answers"]["relationship"] == 8
    assert body["results"][0]["answers"]["improve"] == GOOD_ANSWERS["improve"]
    assert body["results"][0]["account"] == greta.account_id
    assert client.get(f"/api/v1/responses/{theirs.pk}/").status_code == 404


def test_the_team_records_an_interview(api_for, teammate, wave, greta):
    response = api_for(teammate).post(
        "/api/v1/responses/",
        {
            "wave": wave.pk,
            "contact": greta.pk,
            "source": "interview",
            "answers": {"relationship": 6, "improve": "Fewer handovers."},
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["score"] == 6
    assert body["source"] == "interview"
    assert body["recorded_by"]["email"] == "teammate@example.com"
    assert Invitation.objects.get(wave=wave, contact=greta).status == Invitation.Status.SKIPPED


def test_recording_again_updates_the_same_response(api_for, manager, wave, greta):
    client = api_for(manager)
    payload = {
        "wave": wave.pk,
        "contact": greta.pk,
        "source": "call",
        "answers": {"relationship": 6},
    }
    client.post("/api/v1/responses/", payload)

    again = client.post("/api/v1/responses/", payload | {"answers": {"relationship": 9}})

    assert again.status_code == 200
    assert Response.objects.get().score == 9


def test_an_out_of_range_score_is_a_field_error(api_for, manager, wave, greta):
    response = api_for(manager).post(
        "/api/v1/responses/",
        {
            "wave": wave.pk,
            "contact": greta.pk,
            "source": "interview",
            "answers": {"relationship": 11},
        },
    )

    assert response.status_code == 400
    body = problem(response)
    assert body["errors"] == [
        {
            "pointer": "#/answers/relationship",
            "detail": "Choose a whole number from 0 to 10.",
            "code": "invalid",
        }
    ]
    assert not Response.objects.exists()


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"answers": {"relationship": "eight"}}, {"#/answers/relationship"}),
        ({"answers": {"no_such_question": 3}}, {"#/answers/no_such_question"}),
        ({"answers": {}}, {"#/answers"}),
        ({"source": "survey"}, {"#/source"}),
        ({"submitted_at": "2999-01-01T00:00:00Z"}, {"#/submitted_at"}),
        ({"wave": "first"}, {"#/wave"}),
        ({"mood": "happy"}, {"#/mood"}),
    ],
)
def test_bad_recordings_are_field_errors(api_for, manager, wave, greta, payload, expected):
    base = {
        "wave": wave.pk,
        "contact": greta.pk,
        "source": "interview",
        "answers": {"relationship": 7},
    }

    response = api_for(manager).post("/api/v1/responses/", base | payload)

    assert response.status_code == 400, response.content
    assert pointers(response) == expected


def test_nobody_records_for_people_out_of_sight(api_for, manager, wave, stranger):
    response = api_for(manager).post(
        "/api/v1/responses/",
        {"wave": wave.pk, "contact": stranger.pk, "source": "call", "answers": {"relationship": 7}},
    )

    assert response.status_code == 400
    assert pointers(response) == {"#/contact"}


def test_executives_read_responses_but_do_not_record_them(api_for, executive, wave, greta):
    response = api_for(executive).post(
        "/api/v1/responses/",
        {"wave": wave.pk, "contact": greta.pk, "source": "call", "answers": {"relationship": 7}},
    )

    assert response.status_code == 403


def test_their_own_answers_are_never_overwritten(api_for, manager, wave, greta):
    response_with_answers(wave=wave, contact=greta, answers=GOOD_ANSWERS)

    response = api_for(manager).post(
        "/api/v1/responses/",
        {"wave": wave.pk, "contact": greta.pk, "source": "call", "answers": {"relationship": 1}},
    )

    assert response.status_code == 400
    assert pointers(response) == {"#/wave"}
    assert Response.objects.get().score == 8


def test_waves_too_old_to_record_in_are_refused(api_for, manager, programme, greta):
    old = WaveFactory(
        programme=programme,
        opens_on=timezone.localdate() - timedelta(days=400),
        closed=True,
    )

    response = api_for(manager).post(
        "/api/v1/responses/",
        {"wave": old.pk, "contact": greta.pk, "source": "call", "answers": {"relationship": 7}},
    )

    assert response.status_code == 400
    assert pointers(response) == {"#/wave"}


def test_the_response_list_does_not_grow_queries_with_responses(
    api_for, manager, account, wave, django_assert_max_num_queries
):
    for n in range(6):
        contact = ContactFactory(account=account, email=f"r{n}@client.example")
        response_with_answers(wave=wave, contact=contact, answers=GOOD_ANSWERS)
    client = api_for(manager)

    with django_assert_max_num_queries(7):
        assert client.get("/api/v1/responses/").json()["count"] == 6
