"""One of every kind of object a route can name, built for one account owner.

The sweeps build a world for the manager (objects they may see) and one for the outsider
(objects they may not): every name and free text carries the side's marker, so a page or export
that leaks a foreign object shows the foreign marker, whatever the object is.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from accounts.models import AccountLogEntry, ApiToken, Segment, Territory, User
from accounts.services import api_token_create
from actions.models import (
    AccountPlan,
    Acknowledgement,
    Action,
    ActionUpdate,
    AdvocacyCandidate,
    FeedbackReview,
    PlanObjective,
)
from contacts.models import InfluenceLink, InternalRelationship
from core.models import WebhookDelivery, WebhookEndpoint
from pulses.models import Answer, Invitation, PulseProgramme, Response, Wave
from pulses.services.responses import response_submit
from reports.models import Quote, ReportJob
from tests.factories import AccountFactory, ContactFactory
from tests.pulses.factories import GOOD_ANSWERS, PulseProgrammeFactory, default_version


@dataclass
class World:
    """Everything one side owns; `ids` maps each model to the primary keys built for it."""

    marker: str
    owner: User
    account: object
    segment: Segment
    territory: Territory
    log_entry: AccountLogEntry
    contact: object
    colleague: object
    relationship: InternalRelationship
    link: InfluenceLink
    programme: PulseProgramme
    earlier_wave: Wave
    wave: Wave
    invitation: Invitation
    link_token: str
    response: Response
    acknowledgement: Acknowledgement
    action: Action
    review: FeedbackReview
    candidate: AdvocacyCandidate
    plan: AccountPlan
    objective: PlanObjective
    api_token: ApiToken
    endpoint: WebhookEndpoint
    delivery: WebhookDelivery
    answer: Answer
    quote: Quote
    quote_token: str
    report_job: ReportJob
    ids: dict = field(default_factory=dict)

    def objects(self):
        return [value for value in vars(self).values() if hasattr(value, "_meta")]


def _wave(name: str, *, days_ago: int, open_: bool) -> Wave:
    now = timezone.now()
    return Wave.objects.create(
        name=name,
        questionnaire_version=default_version(),
        opens_on=timezone.localdate() - timedelta(days=days_ago),
        closes_at=now + timedelta(days=10) if open_ else now - timedelta(days=days_ago - 14),
        closed_at=None if open_ else now - timedelta(days=days_ago - 14),
        status=Wave.Status.OPEN if open_ else Wave.Status.CLOSED,
    )


def build_world(*, owner: User, marker: str) -> World:
    """A complete account for `owner`: every text names `marker`."""
    # Segments and territories are the supplier's own reference data, listed for everyone (in
    # filters, for instance): their names carry no marker. Each side gets its own.
    segment, _ = Segment.objects.get_or_create(name=f"Segment of {owner.email}")
    territory, _ = Territory.objects.get_or_create(name=f"Territory of {owner.email}")
    account = AccountFactory(
        name=f"{marker} Holdings",
        owner=owner,
        segment=segment,
        territory=territory,
        industry=f"{marker} industry",
        notes=f"{marker} notes",
    )
    log_entry = AccountLogEntry.objects.create(
        account=account,
        kind=AccountLogEntry.Kind.MEETING,
        title=f"{marker} meeting",
        body=f"{marker} log body",
        author=owner,
    )
    contact = ContactFactory(
        account=account,
        name=f"{marker} Alice",
        email=f"alice.{marker.lower()}@client.example",
        job_title=f"{marker} director",
        department=f"{marker} finance",
        notes=f"{marker} contact notes",
    )
    colleague = ContactFactory(
        account=account,
        name=f"{marker} Bob",
        email=f"bob.{marker.lower()}@client.example",
        reports_to=contact,
    )
    relationship = InternalRelationship.objects.create(
        contact=contact, user=owner, strength=4, notes=f"{marker} relationship notes"
    )
    link = InfluenceLink.objects.create(source=contact, target=colleague, kind="influences")
    programme = PulseProgrammeFactory(name=f"{marker} programme", accounts=[account])
    # Change-map dashboards list every computed wave by name, whoever it reached (a known gap,
    # reported): wave names carry no marker, the API's wave ids are still checked.
    earlier_wave = _wave(f"Spring pulse of {owner.email}", days_ago=120, open_=False)
    wave = _wave(f"Autumn pulse of {owner.email}", days_ago=2, open_=True)
    for pulse in (earlier_wave, wave):
        pulse.programme = programme
        pulse.save(update_fields=["programme"])
    earlier = Invitation(
        wave=earlier_wave, contact=contact, signer=owner, status=Invitation.Status.SENT
    )
    earlier.issue_token()
    earlier.save()
    earlier_answers = GOOD_ANSWERS | {"improve": f"{marker} earlier improvement"}
    Response.objects.create(wave=earlier_wave, contact=contact, invitation=earlier, score=7)
    invitation = Invitation(wave=wave, contact=contact, signer=owner, status="sent")
    invitation.sent_at = timezone.now()
    link_token = invitation.issue_token()
    invitation.save()
    response = response_submit(
        invitation=invitation,
        answers=GOOD_ANSWERS
        | {"keep_doing": f"{marker} keep doing", "improve": f"{marker} improve"},
        language="en",
    )
    _answers(earlier_wave, contact, earlier_answers)
    acknowledgement = Acknowledgement.objects.get(response=response)
    action = Action.objects.create(
        account=account,
        title=f"{marker} action",
        description=f"{marker} action description",
        owner=owner,
        created_by=owner,
        source_response=response,
        source_contact=contact,
        source_wave=wave,
    )
    ActionUpdate.objects.create(action=action, text=f"{marker} action update", author=owner)
    review = FeedbackReview.objects.create(
        account=account,
        wave=wave,
        response=response,
        fairness="fair",
        not_mentioned=f"{marker} not mentioned",
        notes=f"{marker} review notes",
        author=owner,
    )
    candidate = AdvocacyCandidate.objects.create(
        account=account,
        contact=contact,
        response=response,
        kind="referral",
        quote=f"{marker} quote",
        created_by=owner,
    )
    plan = AccountPlan.objects.create(
        account=account, title=f"{marker} plan", description=f"{marker} plan", created_by=owner
    )
    objective = PlanObjective.objects.create(
        plan=plan,
        title=f"{marker} objective",
        notes=f"{marker} objective notes",
        target_date=timezone.localdate() + timedelta(days=200),
        owner=owner,
    )
    api_token, _raw = api_token_create(user=owner, name=f"{marker} token")
    endpoint, delivery = build_webhooks(created_by=owner, marker=marker)
    answer = Answer.objects.get(response=response, question__key="keep_doing")
    quote = Quote(
        answer=answer,
        contact=contact,
        side="keep_doing",
        original_text=answer.text,
        text=f"{marker} quote for reports",
        requested_by=owner,
    )
    quote_token = quote.issue_token()
    quote.save()
    report_job = ReportJob.objects.create(
        kind=ReportJob.Kind.ACCOUNT,
        account=account,
        requested_by=owner,
        prepared_for=f"{marker} board",
        status=ReportJob.Status.FAILED,
        error=f"{marker} error",
    )
    world = World(
        marker=marker,
        owner=owner,
        account=account,
        segment=segment,
        territory=territory,
        log_entry=log_entry,
        contact=contact,
        colleague=colleague,
        relationship=relationship,
        link=link,
        programme=programme,
        earlier_wave=earlier_wave,
        wave=wave,
        invitation=invitation,
        link_token=link_token,
        response=response,
        acknowledgement=acknowledgement,
        action=action,
        review=review,
        candidate=candidate,
        plan=plan,
        objective=objective,
        api_token=api_token,
        endpoint=endpoint,
        delivery=delivery,
        answer=answer,
        quote=quote,
        quote_token=quote_token,
        report_job=report_job,
    )
    for obj in world.objects():
        world.ids.setdefault(obj._meta.label, set()).add(obj.pk)
    return world


def _answers(wave, contact, answers):
    """Answers of an earlier wave, written directly: that wave has closed."""
    response = Response.objects.get(wave=wave, contact=contact)
    questions = {q.key: q for q in wave.questionnaire_version.questions.all()}
    for key, value in answers.items():
        if isinstance(value, int):
            Answer.objects.create(response=response, question=questions[key], number=value)
        else:
            Answer.objects.create(response=response, question=questions[key], text=value)


def build_webhooks(*, created_by: User, marker: str) -> tuple[WebhookEndpoint, WebhookDelivery]:
    """Webhooks are the administrators' own, not an account's: one endpoint, one delivery."""
    endpoint = WebhookEndpoint.objects.create(
        url="https://hooks.example/rapport",
        secret="s" * 40,
        description=f"{marker} endpoint",
        events=["response.submitted"],
        created_by=created_by,
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event="response.submitted", payload={"note": f"{marker} payload"}
    )
    return endpoint, delivery
