"""Privacy: a person's data on request (subject access) and erasure, from the UI and the API.

Greta has everything a contact can have: a history, a relationship, a log entry, an invitation
with a live link, a response in her own words with its acknowledgement and reply, a quote with
an approval link, a candidacy, an action and a review about her feedback, snapshots, webhook
deliveries and a stored report. Olaf, in the same account, must come through untouched.
"""

import io
import json

import jsonschema
import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse

from actions.models import (
    Acknowledgement,
    AcknowledgementEmail,
    Action,
    ActionUpdate,
    AdvocacyCandidate,
    FeedbackReview,
)
from changemaps.models import ChangeMapState, ContactSnapshot, GroupSnapshot
from contacts import privacy, services
from contacts.models import Contact, InternalRelationship
from contacts.selectors import contact_data
from core.models import AuditEvent, WebhookDelivery, WebhookEndpoint
from core.services.webhooks import webhook_event_publish
from pulses.models import Answer, Invitation, Question
from pulses.selectors import response_data
from pulses.services.sending import invitation_send, reminder_send
from reports.models import Quote, ReportJob
from tests.actions.factories import answer
from tests.factories import AccountLogEntryFactory
from tests.pulses.factories import InvitationFactory, WaveFactory

GRETA = {
    "name": "Greta Lindqvist",
    "email": "greta.lindqvist@northwind.example",
    "phone": "+46 8 555 0101",
    "job_title": "Chief Operating Officer",
    "location": "Stockholm",
    "notes": "Prefers calls before ten; daughter starts school in May.",
}
GRETA_KEEP = "The onboarding team in Gothenburg was superb, keep them."
GRETA_IMPROVE = "Stop sending invoices that never match our purchase orders."
OLAF = {"name": "Olaf Oberg", "email": "olaf.oberg@northwind.example"}
OLAF_KEEP = "Weekly status calls are useful to our planners."
OLAF_IMPROVE = "Warehouse slots are booked too late for us."
# Words that identify Greta or are hers: none may survive an erasure anywhere in the database.
GRETA_TRACES = [
    "Lindqvist",
    GRETA["email"],
    GRETA["phone"],
    "Chief Operating Officer",
    "daughter starts school",
    "onboarding team in Gothenburg",
    "never match our purchase orders",
    "Promoted to COO",
    "Met her at the summit",
]
EVENTS = ["response.submitted", "contact.left", "acknowledgement.overdue", "action.completed"]


def database_dump() -> str:
    """Every row of every table, as JSON: where any trace of a person would show."""
    out = io.StringIO()
    call_command("dumpdata", stdout=out, indent=None)
    return out.getvalue()


def traces_in(text: str) -> list[str]:
    return [trace for trace in GRETA_TRACES if trace.lower() in text.lower()]


@pytest.fixture
def world(account, manager, teammate, administrator, tmp_path, settings):
    """Greta with every kind of data, Olaf beside her; returns what the tests look at."""
    settings.RAPPORT_REPORTS_DIR = str(tmp_path)
    WebhookEndpoint.objects.create(
        url="https://hooks.example/in", events=EVENTS, secret="s3cret", created_by=administrator
    )
    greta = services.contact_create(
        account=account, fields=dict(GRETA), roles=["decision_maker"], actor=manager
    )
    services.contact_update(
        contact=greta, fields={"influence": 5}, actor=manager, reason="Promoted to COO"
    )
    services.relationship_set(
        contact=greta, user=teammate, strength=4, notes="Met her at the summit in Malmo."
    )
    olaf = services.contact_create(
        account=account, fields=dict(OLAF, notes="Works for Greta Lindqvist."), actor=manager
    )
    entry = AccountLogEntryFactory(
        account=account, title="Lunch with Greta Lindqvist", body="She liked the roadmap."
    )
    greta.log_mentions.add(entry)

    wave = WaveFactory()
    greta_response = answer(
        contact=greta, wave=wave, score=5, keep_doing=GRETA_KEEP, improve=GRETA_IMPROVE
    )
    invitation = Invitation.objects.get(contact=greta, wave=wave)
    olaf_response = answer(
        contact=olaf, wave=wave, score=9, keep_doing=OLAF_KEEP, improve=OLAF_IMPROVE
    )
    later = WaveFactory()
    pending = InvitationFactory(contact=greta, wave=later, status=Invitation.Status.PENDING)

    ack = Acknowledgement.objects.get(response=greta_response)
    ack.mark_acknowledged(by=manager, method=Acknowledgement.Method.EMAIL)
    ack.reply_subject = "Thank you, Greta Lindqvist"
    ack.reply_body = f"Dear Greta Lindqvist, you wrote: “{GRETA_IMPROVE}” We are on it."
    ack.save()

    keep_answer = Answer.objects.get(
        response=greta_response, question__purpose=Question.Purpose.KEEP_DOING
    )
    quote = Quote(
        answer=keep_answer,
        contact=greta,
        side=Quote.Side.GOES_WELL,
        original_text=GRETA_KEEP,
        text=GRETA_KEEP,
        status=Quote.Status.REQUESTED,
    )
    quote_token = quote.issue_token()
    quote.save()
    AdvocacyCandidate.objects.create(
        account=account,
        contact=greta,
        response=greta_response,
        kind=AdvocacyCandidate.Kind.REFERRAL,
        quote=GRETA_KEEP,
    )
    action = Action.objects.create(
        account=account,
        source_response=greta_response,
        title="Fix invoices for Greta Lindqvist",
        description=f"She said: {GRETA_IMPROVE}",
        created_by=manager,
    )
    ActionUpdate.objects.create(action=action, author=manager, text="Called Greta Lindqvist.")
    FeedbackReview.objects.create(
        account=account,
        wave=wave,
        response=greta_response,
        fairness=FeedbackReview.Fairness.FAIR,
        notes="Greta Lindqvist is right about invoices.",
        author=manager,
    )
    ContactSnapshot.objects.create(
        wave=wave, contact=greta, account=account, category="falling",
        reason="Decision maker at 5", last=5, prev=8, delta=-3, n=2, silent_streak=0,
        key_person=True,
    )  # fmt: skip
    ContactSnapshot.objects.create(
        wave=wave, contact=olaf, account=account, category="steady", reason="Steady at 9",
        last=9, prev=9, delta=0, n=2, silent_streak=0, key_person=False,
    )  # fmt: skip
    GroupSnapshot.objects.create(
        wave=wave,
        dimension=GroupSnapshot.Dimension.ACCOUNT,
        key=account.pk,
        label=account.name,
        people=2,
        counts={"falling": 1, "steady": 1},
        previous_counts={},
        weighted_score=7.0,
        weight=8.0,
        answered=2,
        invited=2,
        # A list that names people (as an export might): names must go, ids may stay.
        call_list=[
            {"contact_id": greta.pk, "name": GRETA["name"], "last": 5, "delta": -3},
            {"contact_id": olaf.pk, "name": OLAF["name"], "last": 9, "delta": 0},
        ],
        pockets=[
            {
                "kind": "department",
                "label": "Operations",
                "people": 2,
                "mean": 7.0,
                "contact_ids": [greta.pk, olaf.pk],
            },
        ],
    )
    webhook_event_publish(
        event="response.submitted", data=response_data(response_id=greta_response.pk)
    )
    webhook_event_publish(
        event="response.submitted", data=response_data(response_id=olaf_response.pk)
    )
    webhook_event_publish(event="contact.left", data=contact_data(contact_id=greta.pk))
    report = ReportJob.objects.create(
        kind=ReportJob.Kind.ACCOUNT,
        account=account,
        requested_by=manager,
        status=ReportJob.Status.DONE,
    )
    report.file.save("northwind.pdf", ContentFile(b"%PDF-1.7 Greta Lindqvist said ..."))
    return {
        "greta": greta,
        "olaf": olaf,
        "token": invitation.link_token(),
        "pending": pending,
        "invitation": invitation,
        "quote_token": quote_token,
        "report": report,
        "greta_response": greta_response,
        "olaf_response": olaf_response,
    }


# --- Subject access ---------------------------------------------------------------------------------


def test_subject_access_holds_everything_about_them_and_nothing_of_others(world):
    greta = world["greta"]

    data = privacy.contact_subject_access(contact=greta)
    text = json.dumps(data, ensure_ascii=False)

    assert data["format"] == "rapport-subject-access"
    assert data["contact"]["name"] == GRETA["name"]
    assert data["contact"]["phone"] == GRETA["phone"]
    assert data["contact"]["notes"] == GRETA["notes"]
    assert [h["reason"] for h in data["history"] if h["reason"]] == ["Promoted to COO"]
    assert data["relationships"][0]["notes"] == "Met her at the summit in Malmo."
    assert [e["title"] for e in data["log_entries"]] == ["Lunch with Greta Lindqvist"]
    assert len(data["invitations"]) == 2
    [response] = data["responses"]
    assert response["score"] == 5
    assert {a["text"] for a in response["answers"]} >= {GRETA_KEEP, GRETA_IMPROVE}
    assert data["acknowledgements"][0]["reply_body"].startswith("Dear Greta Lindqvist")
    assert data["quotes"][0]["original_text"] == GRETA_KEEP
    assert data["candidacies"][0]["quote"] == GRETA_KEEP
    assert data["actions"][0]["updates"][0]["text"] == "Called Greta Lindqvist."
    assert data["reviews"][0]["notes"].startswith("Greta Lindqvist")
    assert data["change_map"][0]["last"] == 5
    # Nothing of Olaf's, and never a working link.
    for other in (OLAF["name"], OLAF["email"], OLAF_KEEP, OLAF_IMPROVE, world["token"]):
        assert other not in text
    assert world["invitation"].token_hash not in text


def test_downloading_personal_data_from_the_person_page_is_audited(world, client_for, teammate):
    greta = world["greta"]
    url = reverse("contacts:personal_data", args=[greta.pk])

    response = client_for(teammate).get(url)

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Cache-Control"] == "no-store"
    assert json.loads(response.content)["contact"]["email"] == GRETA["email"]
    event = AuditEvent.objects.get(verb=AuditEvent.Verb.EXPORTED)
    assert (event.actor, event.target_type, event.target_id) == (teammate, "contact", str(greta.pk))
    assert event.detail["via"] == "web"
    assert "Lindqvist" not in event.target  # the entry outlives an erasure


def test_subject_access_by_api_is_audited(world, client_for, manager):
    greta = world["greta"]

    response = client_for(manager).get(f"/api/v1/contacts/{greta.pk}/subject-access/")

    assert response.status_code == 200
    assert response.json()["responses"][0]["score"] == 5
    event = AuditEvent.objects.get(verb=AuditEvent.Verb.EXPORTED)
    assert (event.actor, event.detail["via"]) == (manager, "api")


def test_outsiders_get_404_for_subject_access_and_erasure(world, client_for, outsider):
    greta = world["greta"]
    client = client_for(outsider)

    assert client.get(reverse("contacts:personal_data", args=[greta.pk])).status_code == 404
    assert client.get(reverse("contacts:erase", args=[greta.pk])).status_code == 404
    api = client.get(f"/api/v1/contacts/{greta.pk}/subject-access/")
    assert api.status_code == 404
    assert api["Content-Type"] == "application/problem+json"
    erase = client.post(
        f"/api/v1/contacts/{greta.pk}/erase/",
        {"keep_scores": True},
        content_type="application/json",
    )
    assert erase.status_code == 404
    assert not AuditEvent.objects.filter(verb__in=["exported", "erased"]).exists()


# --- Erasure ----------------------------------------------------------------------------------------


def test_erasure_leaves_no_trace_of_them_anywhere_in_the_database(world, administrator):
    assert traces_in(database_dump())  # the setup does hold her data

    privacy.contact_erase(contact=world["greta"], actor=administrator, keep_scores=True)

    assert traces_in(database_dump()) == []


def test_erasure_replaces_her_profile_and_history_and_keeps_the_structure(world, administrator):
    greta = world["greta"]

    erasure = privacy.contact_erase(contact=greta, actor=administrator, keep_scores=True)

    greta.refresh_from_db()
    assert greta.name == f"Erased person #{greta.pk}"
    assert greta.email == f"erased-{greta.pk}@erased.invalid"
    assert (greta.phone, greta.job_title, greta.location, greta.notes) == ("", "", "", "")
    assert greta.erased_at == erasure.erased_at
    assert greta.pulse_consent == Contact.Consent.OPTED_OUT
    assert greta.role_codes == {"decision_maker"}
    assert greta.influence == 5
    rows = Contact.history.model.objects.filter(id=greta.pk)
    assert rows.count() >= 3
    assert set(rows.values_list("name", "email", "phone", "notes")) == {
        (greta.name, greta.email, "", "")
    }
    assert set(rows.values_list("history_change_reason", flat=True)) <= {
        None,
        "",
        "Personal data erased",
    }
    assert not InternalRelationship.history.model.objects.filter(contact_id=greta.pk).exclude(
        notes=""
    )
    # Olaf's note named her: it names the placeholder now, in his row and his history.
    olaf = world["olaf"]
    olaf.refresh_from_db()
    assert olaf.notes == f"Works for {greta.name}."
    assert olaf.name == OLAF["name"]


def test_erasure_clears_her_words_everywhere_they_were_copied(world, administrator):
    greta, olaf = world["greta"], world["olaf"]

    privacy.contact_erase(contact=greta, actor=administrator, keep_scores=True)

    answers = Answer.objects.filter(response=world["greta_response"])
    assert not answers.exclude(text="").exists()
    assert sorted(answers.exclude(number=None).values_list("number", flat=True)) == [3, 4, 5, 5]
    assert Answer.objects.filter(response=world["olaf_response"], text=OLAF_KEEP).exists()
    ack = Acknowledgement.objects.get(response=world["greta_response"])
    assert (ack.reply_subject, ack.reply_body) == ("[erased]", "[erased]")
    assert ack.status == Acknowledgement.Status.REPLIED  # the SLA keeps its facts
    quote = Quote.objects.get(contact=greta)
    assert (quote.text, quote.original_text, quote.status) == ("[erased]", "[erased]", "withdrawn")
    assert Quote.from_token(world["quote_token"]) is None
    assert not AdvocacyCandidate.objects.filter(contact=greta).exists()
    action = Action.objects.get()
    assert action.title == f"Fix invoices for {privacy.erased_name(greta.pk)}"
    assert action.description == "She said: [erased]"
    assert "Lindqvist" not in ActionUpdate.objects.get().text
    assert "Lindqvist" not in FeedbackReview.objects.get().notes
    group = GroupSnapshot.objects.get()
    assert [row["name"] for row in group.call_list] == [privacy.erased_name(greta.pk), OLAF["name"]]
    assert ContactSnapshot.objects.get(contact=greta).last == 5  # scores kept
    for delivery in WebhookDelivery.objects.all():
        assert traces_in(json.dumps(delivery.payload)) == []
    olaf_delivery = WebhookDelivery.objects.get(payload__data__contact=olaf.pk)
    assert olaf_delivery.payload["data"]["answers"]["keep_doing"] == OLAF_KEEP


def test_after_erasure_her_links_answer_like_unknown_links_and_nothing_is_sent(
    world, administrator, client
):
    greta = world["greta"]
    unknown = client.get(reverse("pulses:survey", args=["x" * 43]))

    privacy.contact_erase(contact=greta, actor=administrator, keep_scores=True)

    survey = client.get(reverse("pulses:survey", args=[world["token"]]))
    assert survey.status_code == unknown.status_code == 404
    assert survey.content == unknown.content
    unsubscribe = client.get(reverse("pulses:unsubscribe", args=[world["token"]]))
    assert unsubscribe.status_code == 404
    assert not Invitation.objects.filter(contact=greta, token_hash__isnull=False).exists()
    pending = world["pending"]
    pending.refresh_from_db()
    assert pending.status == Invitation.Status.SKIPPED
    assert invitation_send(invitation_id=pending.pk) is False
    assert reminder_send(invitation_id=world["invitation"].pk, number=1) is False
    receipt = AcknowledgementEmail.objects.get(
        acknowledgement__contact=greta, kind=AcknowledgementEmail.Kind.RECEIPT
    )
    assert receipt.status == AcknowledgementEmail.Status.SKIPPED
    report = ReportJob.objects.get()
    assert (report.file.name, report.status) == ("", ReportJob.Status.FAILED)


def test_erasing_twice_changes_nothing_and_is_audited_once(world, administrator):
    greta = world["greta"]
    first = privacy.contact_erase(contact=greta, actor=administrator, keep_scores=True)
    before = database_dump()

    second = privacy.contact_erase(contact=greta, actor=administrator, keep_scores=True)

    assert first.changes
    assert not first.already_erased
    assert second.already_erased
    assert second.changes == {}
    assert database_dump() == before
    event = AuditEvent.objects.get(verb=AuditEvent.Verb.ERASED)
    assert (event.actor, event.target_id) == (administrator, str(greta.pk))
    assert event.detail["keep_scores"] is True
    assert "Lindqvist" not in json.dumps(event.detail) + event.target


def test_after_erasure_the_edit_form_keeps_her_details_erased_and_the_structure_editable(
    world, administrator, client_for, manager
):
    greta = world["greta"]
    privacy.contact_erase(contact=greta, actor=administrator, keep_scores=True)
    client = client_for(manager)
    url = reverse("contacts:edit", args=[greta.pk])

    page = client.get(url)
    posted = client.post(
        url,
        {
            **GRETA,  # a browser cannot send disabled fields; a hand-made request can
            "pulse_consent": "opted_in",
            "department": "Operations",
            "status": "active",
            "preferred_language": "en",
            "buying_roles": ["decision_maker"],
        },
    )

    assert "personal data was erased at their request" in page.content.decode()
    assert page.context["form"].fields["name"].disabled
    assert posted.status_code == 302
    greta.refresh_from_db()
    assert greta.name == privacy.erased_name(greta.pk)
    assert greta.email == privacy.erased_email(greta.pk)
    assert (greta.phone, greta.job_title, greta.notes) == ("", "", "")
    assert greta.pulse_consent == Contact.Consent.OPTED_OUT
    assert greta.department == "Operations"
    assert traces_in(database_dump()) == []


def test_after_erasure_the_api_and_services_refuse_her_details(
    world, administrator, client_for, manager
):
    greta = world["greta"]
    privacy.contact_erase(contact=greta, actor=administrator, keep_scores=True)

    refused = client_for(manager).patch(
        f"/api/v1/contacts/{greta.pk}/",
        {"name": GRETA["name"], "influence": 3},
        content_type="application/json",
    )
    allowed = client_for(manager).patch(
        f"/api/v1/contacts/{greta.pk}/", {"influence": 3}, content_type="application/json"
    )

    assert refused.status_code == 400
    assert [error["pointer"] for error in refused.json()["errors"]] == ["#/name"]
    assert allowed.status_code == 200
    greta.refresh_from_db()
    assert (greta.name, greta.influence) == (privacy.erased_name(greta.pk), 3)
    with pytest.raises(ValidationError) as refusal:
        services.contact_update(
            contact=greta, fields={"pulse_consent": Contact.Consent.OPTED_IN}, actor=manager
        )
    assert set(refusal.value.message_dict) == {"pulse_consent"}


def test_erasing_without_keeping_scores_removes_them_from_the_maps(
    world, administrator, django_capture_on_commit_callbacks
):
    greta, olaf = world["greta"], world["olaf"]
    state = ChangeMapState.objects.get_or_create(pk=ChangeMapState.SINGLETON)[0]

    with django_capture_on_commit_callbacks(execute=True):
        privacy.contact_erase(contact=greta, actor=administrator, keep_scores=False)

    response = world["greta_response"]
    response.refresh_from_db()
    assert response.score is None
    assert not Answer.objects.filter(response=response).exclude(number=None).exists()
    snapshot = ContactSnapshot.objects.get(contact=greta)
    assert (snapshot.last, snapshot.prev, snapshot.delta) == (None, None, None)
    assert ContactSnapshot.objects.get(contact=olaf).last == 9
    group = GroupSnapshot.objects.get()
    assert [row["contact_id"] for row in group.call_list] == [olaf.pk]
    assert group.pockets[0]["contact_ids"] == [olaf.pk]
    delivery = WebhookDelivery.objects.get(
        event="response.submitted", payload__data__contact=greta.pk
    )
    assert delivery.payload["data"]["score"] is None
    assert set(delivery.payload["data"]["answers"].values()) <= {None, ""}
    # The change maps are marked for recomputing once the erasure commits.
    state.refresh_from_db()
    assert state.is_dirty


def test_choosing_to_delete_scores_after_keeping_them_erases_them_and_is_audited(
    world, administrator
):
    greta = world["greta"]
    privacy.contact_erase(contact=greta, actor=administrator, keep_scores=True)

    later = privacy.contact_erase(contact=greta, actor=administrator, keep_scores=False)
    again = privacy.contact_erase(contact=greta, actor=administrator, keep_scores=False)

    assert later.changes["scores"] >= 1
    assert again.already_erased
    assert AuditEvent.objects.filter(verb=AuditEvent.Verb.ERASED).count() == 2
    response = world["greta_response"]
    response.refresh_from_db()
    assert response.score is None


# --- The person page and the erase page ----------------------------------------------------------------


def test_the_person_page_offers_the_download_to_all_and_erasure_to_administrators(
    world, client_for, teammate, administrator
):
    greta = world["greta"]
    page = client_for(teammate).get(greta.get_absolute_url()).content.decode()
    assert "Download personal data (JSON)" in page
    assert reverse("contacts:erase", args=[greta.pk]) not in page

    page = client_for(administrator).get(greta.get_absolute_url()).content.decode()
    assert reverse("contacts:erase", args=[greta.pk]) in page


def test_only_administrators_may_open_the_erase_page(world, client_for, manager, executive):
    greta = world["greta"]
    url = reverse("contacts:erase", args=[greta.pk])

    assert client_for(manager).get(url).status_code == 403
    assert (
        client_for(executive).post(url, {"keep_scores": "no", "confirm": "on"}).status_code == 403
    )
    greta.refresh_from_db()
    assert greta.erased_at is None


def test_erasing_from_the_page_needs_the_confirmation(world, client_for, administrator):
    greta = world["greta"]
    url = reverse("contacts:erase", args=[greta.pk])
    client = client_for(administrator)

    page = client.get(url)
    assert page.status_code == 200
    assert b"csrfmiddlewaretoken" in page.content
    refused = client.post(url, {"keep_scores": "yes"})
    assert refused.status_code == 400
    assert "Tick the box to confirm the erasure." in refused.content.decode()
    greta.refresh_from_db()
    assert greta.erased_at is None

    done = client.post(url, {"keep_scores": "no", "confirm": "on"})

    assert done.status_code == 302
    greta.refresh_from_db()
    assert greta.erased_at is not None
    assert AuditEvent.objects.get(verb=AuditEvent.Verb.ERASED).detail["keep_scores"] is False
    shown = client.get(done["Location"]).content.decode()
    assert "Personal data erased" in shown
    assert "Lindqvist" not in shown


# --- API erasure ---------------------------------------------------------------------------------------


def test_administrators_erase_by_api_and_a_repeat_is_a_no_op(world, client_for, administrator):
    greta = world["greta"]
    client = client_for(administrator)
    url = f"/api/v1/contacts/{greta.pk}/erase/"

    first = client.post(url, {"keep_scores": True}, content_type="application/json")
    second = client.post(url, {"keep_scores": True}, content_type="application/json")

    assert first.status_code == 200
    assert first.json()["already_erased"] is False
    assert first.json()["changes"]["answers"] == 2
    assert second.json()["already_erased"] is True
    assert second.json()["changes"] == {}
    assert AuditEvent.objects.filter(verb=AuditEvent.Verb.ERASED).count() == 1


def test_api_erasure_is_refused_to_others_and_checks_its_input(
    world, client_for, manager, executive, administrator
):
    greta = world["greta"]
    url = f"/api/v1/contacts/{greta.pk}/erase/"

    refused = client_for(manager).post(url, {"keep_scores": True}, content_type="application/json")
    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["detail"] == "Only administrators erase personal data."
    by_executive = client_for(executive).post(
        url, {"keep_scores": True}, content_type="application/json"
    )
    assert by_executive.status_code == 403

    client = client_for(administrator)
    missing = client.post(url, {}, content_type="application/json")
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["pointer"] == "#/keep_scores"
    unknown = client.post(
        url, {"keep_scores": True, "everything": True}, content_type="application/json"
    )
    assert unknown.status_code == 400
    greta.refresh_from_db()
    assert greta.erased_at is None


def as_json_schema(schema):
    """OpenAPI 3.0's `nullable` as JSON Schema's null type, to validate with jsonschema."""
    if isinstance(schema, list):
        return [as_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: as_json_schema(value) for key, value in schema.items() if key != "nullable"}
    if schema.get("nullable") and "type" in schema:
        converted["type"] = [schema["type"], "null"]
    return converted


def test_subject_access_keeps_to_its_documented_shape(world, administrator):
    data = privacy.contact_subject_access(contact=world["greta"])
    jsonschema.validate(data, as_json_schema(privacy.SUBJECT_ACCESS_SCHEMA))

    privacy.contact_erase(contact=world["greta"], actor=administrator, keep_scores=False)
    data = privacy.contact_subject_access(contact=world["greta"])
    jsonschema.validate(data, as_json_schema(privacy.SUBJECT_ACCESS_SCHEMA))
    assert data["contact"]["erased_at"] is not None
    assert data["responses"][0]["score"] is None


def test_the_schema_documents_both_operations(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    access = schema["paths"]["/api/v1/contacts/{id}/subject-access/"]["get"]
    erase = schema["paths"]["/api/v1/contacts/{id}/erase/"]["post"]
    body = access["responses"]["200"]["content"]["application/json"]["schema"]
    assert "responses" in body["properties"]
    assert {"403", "404"} <= set(erase["responses"])
