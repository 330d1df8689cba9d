"""Demo data for closing the loop: acknowledgements (mostly on time, some late, a few waiting),
with the emails they sent.

Deterministic (one RNG per object, keyed by its natural key: the person's email and the wave's
date) and idempotent (a response that has its acknowledgement is left alone).
"""

import random
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from actions.models import (
    ACKNOWLEDGE_WITHIN,
    AccountPlan,
    Acknowledgement,
    AcknowledgementEmail,
    Action,
    ActionUpdate,
    AdvocacyCandidate,
    FeedbackReview,
    PlanObjective,
)
from pulses.models import Response, Wave

Kind = AcknowledgementEmail.Kind

# Responses of the latest waves get acknowledgements: the SLA page shows ninety days.
ACKNOWLEDGED_WAVES = 2

REPLIES = [
    "Thank you for being so candid. You told us: “{improve}” I have asked our team to look "
    "into it this week, and I will call you before the end of the month with what we change.",
    "Thank you for your answers; it is good to hear what works. You are right to raise "
    "“{improve}” We are putting one person in charge of it, and I will keep you posted.",
    "Many thanks for taking the time. I have shared your point (“{improve}”) with our "
    "delivery lead. Could we find thirty minutes next week to go through it together?",
]
NOTES = [
    "Went through the answers on our weekly call; agreed to follow up on the improvement point.",
    "Discussed over lunch at their office. They appreciated that we came back so quickly.",
    "Short call: walked through what we heard and what we plan to do next quarter.",
]


def _owner(contact):
    return contact.owner or contact.account.owner


def _reply(rng: random.Random, response: Response, owner) -> tuple[str, str]:
    improve = response.answer_for("improve") or "what we should improve."
    first = response.contact.name.split(" ")[0]
    body = (
        f"Dear {first},\n\n"
        + rng.choice(REPLIES).format(improve=improve)
        + f"\n\nBest regards,\n{owner.full_name}"
    )
    return f"Your feedback on our {response.wave.name}", body


def _email(acknowledgement, kind, at, status=AcknowledgementEmail.Status.SENT):
    return AcknowledgementEmail(
        acknowledgement=acknowledgement,
        kind=kind,
        status=status,
        queued_at=at,
        claimed_at=at,
        attempts=1,
        sent_at=at if status == AcknowledgementEmail.Status.SENT else None,
        message_id=f"<ack-demo-{acknowledgement.pk}-{kind}@rapport.demo>",
        created_at=at,
    )


@transaction.atomic
def seed() -> dict:
    now = timezone.now()
    waves = list(Wave.objects.order_by("-opens_on")[:ACKNOWLEDGED_WAVES])
    responses = list(
        Response.objects.filter(wave__in=waves, acknowledgement__isnull=True)
        .select_related("wave", "contact__account__owner", "contact__owner")
        .prefetch_related("answers__question")
        .order_by("contact__email", "wave__opens_on")
    )
    previous = {}
    for contact_id, score in (
        Response.objects.filter(contact__in=[r.contact_id for r in responses], score__isnull=False)
        .exclude(wave__in=waves[:1])
        .order_by("contact_id", "wave__opens_on")
        .values_list("contact_id", "score")
    ):
        previous[contact_id] = score  # the latest earlier score wins

    created, emails = [], []
    for response in responses:
        rng = random.Random(f"rapport-demo-ack:{response.contact.email}:{response.wave.opens_on}")
        owner = _owner(response.contact)
        received = response.submitted_at
        acknowledgement = Acknowledgement(
            response=response,
            account=response.contact.account,
            contact=response.contact,
            owner=owner,
            received_at=received,
            due_at=received + ACKNOWLEDGE_WITHIN,
        )
        before = previous.get(response.contact_id) if response.wave == waves[0] else None
        acknowledgement.set_urgency(score=response.score, previous_score=before)
        age = now - received
        late = rng.random() < 0.15
        waiting = age < timedelta(hours=2) or (age < ACKNOWLEDGE_WITHIN and rng.random() < 0.6)
        # Only the latest wave still has something overdue; older ones were all dealt with.
        overdue = response.wave == waves[0] and age >= ACKNOWLEDGE_WITHIN and rng.random() < 0.08
        if not (waiting or overdue):
            hours = rng.uniform(50, 90) if late else rng.uniform(1, 40)
            at = min(received + timedelta(hours=hours), now - timedelta(minutes=30))
            method = rng.choices(["email", "call", "meeting"], weights=[70, 20, 10])[0]
            acknowledgement.mark_acknowledged(by=owner, method=method, at=at)
            if method == Acknowledgement.Method.EMAIL:
                acknowledgement.reply_subject, acknowledgement.reply_body = _reply(
                    rng, response, owner
                )
            else:
                acknowledgement.note = rng.choice(NOTES)
        created.append(acknowledgement)
    Acknowledgement.objects.bulk_create(created, batch_size=500)

    for acknowledgement in created:
        received = acknowledgement.received_at
        emails.append(_email(acknowledgement, Kind.RECEIPT, received + timedelta(seconds=20)))
        done = acknowledgement.acknowledged_at or now
        if done - received >= timedelta(hours=24):
            emails.append(_email(acknowledgement, Kind.REMINDER, received + timedelta(hours=24)))
        if done - received >= ACKNOWLEDGE_WITHIN:
            emails.append(_email(acknowledgement, Kind.ESCALATION, acknowledgement.due_at))
        if acknowledgement.method == Acknowledgement.Method.EMAIL:
            emails.append(_email(acknowledgement, Kind.REPLY, acknowledgement.acknowledged_at))
    AcknowledgementEmail.objects.bulk_create(emails, batch_size=1000)
    return {
        "acknowledgements": len(created),
        "actions": _seed_actions(waves),
        "reviews": _seed_reviews(waves),
        "candidates": _seed_candidates(waves),
        "plans": _seed_plans(),
    }


# What people asked us to improve (pulses.demo.IMPROVE), as an action and what we then did.
FIXES = [
    (
        "Invoices",
        "Clearer invoices that match purchase orders",
        "Every invoice now carries your purchase-order number and a line-by-line breakdown.",
    ),
    (
        "roadmap",
        "Share the roadmap a quarter ahead",
        "You now get our roadmap every quarter, three months before anything ships.",
    ),
    (
        "handovers",
        "One team from order to delivery",
        "A single delivery team now looks after you from order to go-live.",
    ),
    (
        "Second-line",
        "Second-line support in hours, not days",
        "Second-line tickets are now answered within four working hours; last month 96% were.",
    ),
    (
        "escalations",
        "One named escalation contact",
        "You have one named escalation contact, with a deputy when they are away.",
    ),
    (
        "Reporting",
        "A self-service reporting export",
        "Your team can now export every report to Excel from the portal.",
    ),
    (
        "changes",
        "Announce changes before they reach production",
        "Every change is announced to you two weeks before it reaches production.",
    ),
    (
        "outage",
        "A call within the hour during any outage",
        "During an outage your account manager now calls you within the hour.",
    ),
    (
        "same problem",
        "A shared account history for everyone on our side",
        "Everyone on our side now reads your account history before talking to you.",
    ),
    (
        "Pricing",
        "Explain the price change and what it pays for",
        "We walked your finance team through the new pricing and added two service reviews a year.",
    ),
    (
        "Promised fixes",
        "Publish a fix plan with dates and keep it",
        "We publish a fix plan with dates each month; the last three fixes landed on time.",
    ),
]


def _fix_for(improve: str):
    for keyword, title, statement in FIXES:
        if keyword.lower() in improve.lower():
            return title, statement
    return None


def _log(action, author, at, text, status=""):
    ActionUpdate.objects.create(action=action, author=author, at=at, text=text, status=status)


def _seed_actions(waves) -> int:
    """Per account: last cycle's focus, done, with its "you said, we did"; this cycle's focus
    in progress; and a few more actions raised from low scores. Keyed by (account, title)."""
    if len(waves) < 2:
        return 0
    latest, previous = waves[0], waves[1]
    now = timezone.now()
    created = 0
    for account in Account.objects.select_related("owner").order_by("name"):
        if account.actions.exists():
            continue
        rng = random.Random(f"rapport-demo-actions:{account.name}")
        responses = list(
            Response.objects.filter(contact__account=account, wave__in=[previous, latest])
            .select_related("contact", "wave")
            .prefetch_related("answers__question")
            .order_by("score", "contact__email")
        )
        raised, seen = [], set()
        for response in responses:
            fix = _fix_for(response.answer_for("improve"))
            if fix and fix[0] not in seen:
                seen.add(fix[0])
                raised.append((response, *fix))
        if not raised:
            continue
        owner = account.owner
        current_focus = False
        for index, (response, title, statement) in enumerate(raised[:4]):
            start = response.submitted_at + timedelta(days=rng.randint(1, 3))
            action = Action(
                account=account,
                source_response=response,
                source_contact=response.contact,
                source_wave=response.wave,
                title=title,
                description=f"{response.contact.name} told us: “{response.answer_for('improve')}”",
                owner=owner,
                priority=rng.choice([1, 2, 2, 3]),
                created_by=owner,
                created_at=min(start, now),
                cycle_start=response.wave.opens_on,
            )
            if index == 0 and response.wave == previous:
                # Last cycle's focus: done before this pulse, so people see it in this one.
                done = min(
                    previous.opens_on + timedelta(days=rng.randint(30, 60)),
                    latest.opens_on - timedelta(days=2),
                )
                done_at = timezone.make_aware(datetime.combine(done, time(15)))
                action.is_focus, action.priority = True, 1
                # Raised by many in that pulse: everyone who answered it hears what we did.
                action.source_response = action.source_contact = None
                action.due_on = done + timedelta(days=rng.randint(-5, 10))
                action.set_status(Action.Status.DONE, at=done_at)
                action.you_said_we_did = statement
            elif index <= 1 and not current_focus:
                # This cycle's focus, in progress.
                current_focus = True
                action.is_focus, action.priority = True, 1
                action.cycle_start = latest.opens_on
                action.status = Action.Status.IN_PROGRESS
                action.due_on = timezone.localdate() + timedelta(days=rng.randint(10, 45))
            else:
                status = rng.choice(["open", "open", "in_progress", "wont_do"])
                action.set_status(status)
                overdue = rng.random() < 0.3
                action.due_on = timezone.localdate() + timedelta(
                    days=-rng.randint(3, 20) if overdue else rng.randint(5, 60)
                )
            action.save()
            created += 1
            _log(action, owner, action.created_at, "Created from the feedback", Action.Status.OPEN)
            if action.status in (Action.Status.IN_PROGRESS, Action.Status.DONE):
                _log(
                    action,
                    owner,
                    action.created_at + timedelta(days=3),
                    "Status: Open → In progress\nAgreed an owner on the delivery side.",
                    Action.Status.IN_PROGRESS,
                )
            if action.status == Action.Status.DONE:
                _log(
                    action,
                    owner,
                    action.done_at,
                    f"Status: In progress → Done\nYou said, we did: {statement}",
                    Action.Status.DONE,
                )
            if action.status == Action.Status.WONT_DO:
                _log(
                    action,
                    owner,
                    action.created_at + timedelta(days=5),
                    "Status: Open → Won't do\nCovered by the new service review instead.",
                    Action.Status.WONT_DO,
                )
    return created


REVIEW_NOTES = {
    "fair": [
        "They are right; we knew and had not fixed it.",
        "Fair. Our own numbers say the same.",
    ],
    "partly": [
        "Partly: the delay was on their side too, but we never explained it.",
        "We promised more than the contract covers; expectations need resetting.",
    ],
    "unfair": ["Not what our records show; worth a conversation to understand why they see it so."],
}
NOT_MENTIONED = [
    "The new reporting portal we launched last quarter.",
    "The cost savings from the route optimisation.",
    "",
    "Nobody mentioned the onboarding of their new site, which went very well.",
]


def _seed_reviews(waves) -> int:
    """Reviews of the lowest-scoring responses of the last two waves, and of the previous wave
    as a whole per account. Keyed by response, and by account and wave."""
    if len(waves) < 2:
        return 0
    created = 0
    low = (
        Response.objects.filter(wave__in=waves, score__lte=6, reviews__isnull=True)
        .select_related("contact__account__owner", "wave")
        .order_by("contact__email", "wave__opens_on")
    )
    for response in low:
        rng = random.Random(
            f"rapport-demo-review:{response.contact.email}:{response.wave.opens_on}"
        )
        if rng.random() < 0.45:
            continue
        fairness = rng.choices(["fair", "partly", "unfair"], weights=[5, 4, 1])[0]
        nature = {"fair": "performance", "partly": "expectations", "unfair": "neither"}[fairness]
        FeedbackReview.objects.create(
            account=response.contact.account,
            wave=response.wave,
            response=response,
            fairness=fairness,
            nature=rng.choice([nature, nature, "both"]),
            not_mentioned=rng.choice(NOT_MENTIONED),
            notes=rng.choice(REVIEW_NOTES[fairness]),
            author=response.contact.account.owner,
            created_at=response.submitted_at + timedelta(days=rng.randint(2, 6)),
        )
        created += 1
    previous = waves[1]
    for account in Account.objects.select_related("owner").order_by("name"):
        rng = random.Random(f"rapport-demo-wave-review:{account.name}:{previous.opens_on}")
        _, made = FeedbackReview.objects.get_or_create(
            account=account,
            wave=previous,
            response=None,
            defaults={
                "fairness": rng.choice(["fair", "fair", "partly"]),
                "nature": rng.choice(["performance", "expectations", "both"]),
                "not_mentioned": rng.choice([n for n in NOT_MENTIONED if n]),
                "notes": "Reviewed in the account team meeting after the pulse closed.",
                "author": account.owner,
            },
        )
        created += made
    return created


CONSENT_NOTES = ["By email", "In our quarterly review", "On a call with their marketing team"]


def _seed_candidates(waves) -> int:
    """Glowing answers (score 10) of the last two waves as referral or case-study candidates,
    some with consent given or declined. Keyed by response and kind."""
    created = 0
    glowing = (
        Response.objects.filter(wave__in=waves, score=10, candidacies__isnull=True)
        .select_related("contact__account__owner", "wave")
        .prefetch_related("answers__question")
        .order_by("contact__email", "wave__opens_on")
    )
    for response in glowing:
        rng = random.Random(
            f"rapport-demo-candidate:{response.contact.email}:{response.wave.opens_on}"
        )
        if rng.random() < 0.6:
            continue
        quote = response.answer_for("keep_doing")
        if not quote:
            continue
        owner = response.contact.account.owner
        candidate = AdvocacyCandidate(
            account=response.contact.account,
            contact=response.contact,
            response=response,
            kind=rng.choice(["referral", "referral", "case_study"]),
            quote=quote,
            created_by=owner,
            created_at=response.submitted_at + timedelta(days=2),
        )
        consent = rng.choices(["not_asked", "given", "declined"], weights=[4, 5, 1])[0]
        if consent != "not_asked":
            candidate.record_consent(consent=consent, note=rng.choice(CONSENT_NOTES), by=owner)
        candidate.save()
        created += 1
    return created


PLANS = [
    (
        "Become their strategic partner for {industry}",
        [
            ("Executive sponsor on both sides, meeting quarterly", 0.35, 60),
            ("Joint roadmap workshop every half-year", -0.15, 30),
            ("Grow to three business units served", 0.9, 10),
        ],
    ),
    (
        "Double the share of wallet in {territory}",
        [
            ("Win the regional tender", 0.5, 40),
            ("Reference visit with their peers", 1.2, 0),
            ("Pilot the new service line", -0.05, 70),
        ],
    ),
]


def _seed_plans() -> int:
    """A two- or three-year plan for every strategic account, one objective overdue on most.
    Keyed by account and title."""
    today = timezone.localdate()
    created = 0
    for account in Account.objects.filter(tier=Account.Tier.STRATEGIC).select_related(
        "owner", "territory"
    ):
        rng = random.Random(f"rapport-demo-plan:{account.name}")
        title_template, objectives = rng.choice(PLANS)
        title = title_template.format(
            industry=(account.industry or "their industry").lower(),
            territory=account.territory or "their region",
        )
        starts_on = today - timedelta(days=rng.randint(150, 300))
        plan, made = AccountPlan.objects.get_or_create(
            account=account,
            title=title,
            defaults={
                "description": "Agreed with the account team at the annual planning day.",
                "horizon_years": rng.choice([2, 3]),
                "starts_on": starts_on,
                "created_by": account.owner,
            },
        )
        if not made:
            continue
        created += 1
        for objective_title, offset_years, progress in objectives:
            target = today + timedelta(days=round(365 * offset_years))
            if offset_years < 0 and rng.random() < 0.3:
                target = today + timedelta(days=20)  # this one is on track
            PlanObjective.objects.create(
                plan=plan,
                title=objective_title,
                owner=account.owner,
                target_date=min(target, plan.ends_on),
                progress=progress,
            )
    return created
