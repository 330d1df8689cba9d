"""Demo pulses: three years of quarterly waves with believable journeys.

Some people rise, some fall, some slide slowly, some fall silent, some are enduring angels, so the
change maps have something real to show. The latest wave is still open. Deterministic (one RNG
per contact, keyed by email) and idempotent (nothing is added once the demo programme has waves).
"""

import random
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from contacts.models import Contact
from pulses.models import Answer, Invitation, PulseProgramme, Question, Response, Wave
from pulses.services.questionnaires import (
    questionnaire_ensure_default,
    questionnaire_version_for_sending,
)

PROGRAMME_NAME = "Quarterly relationship pulse"
WAVES = 12

KEEP_DOING = {
    "high": [
        "Maya's team always picks up the phone — that responsiveness is why we renewed.",
        "Your delivery team treats our deadlines as their own. Keep that.",
        "The quarterly reviews are genuinely useful; we use the numbers in our own board pack.",
        "Proactive ideas: you told us about the warehouse bottleneck before we saw it.",
        "Honesty when things go wrong. We trust you because you tell us early.",
    ],
    "mid": [
        "Good people on the ground, they know our business.",
        "Reliable day-to-day service.",
        "The new portal saves my team time every week.",
        "Quick answers from the account team.",
    ],
    "low": [
        "Individual engineers are helpful when we reach them.",
        "The product itself still does the job.",
        "Your account manager listens, even if nothing changes afterwards.",
    ],
}
IMPROVE = {
    "high": [
        "Invoices could be clearer — our finance team asks the same questions every month.",
        "Share the roadmap earlier so we can plan budget.",
        "Fewer handovers between your teams.",
    ],
    "mid": [
        "Second-line support takes too long to respond — days, not hours.",
        "We need one contact for escalations, not three.",
        "Reporting is still manual on our side; give us an export.",
        "Tell us about changes before they reach production.",
    ],
    "low": [
        "The outage during our month-end close was not acceptable and nobody called us.",
        "We keep explaining the same problem to new people on your side.",
        "Pricing went up without any improvement in service.",
        "Promised fixes slip every quarter. Deliver what you commit to.",
    ],
}
ANYTHING_ELSE = [
    "",
    "",
    "",
    "Thanks for asking.",
    "Happy to talk in more detail at the next review.",
    "Please involve our IT team earlier next time.",
]


def _band(score: int) -> str:
    return "high" if score >= 9 else "mid" if score >= 7 else "low"


def _journey(rng: random.Random, contact: Contact) -> list[int | None]:
    """Scores per wave (None = invited, did not answer), oldest first."""
    kind = rng.choices(
        ["steady", "angel", "rising", "falling", "sliding", "silent", "volatile", "new"],
        weights=[30, 14, 12, 12, 8, 9, 8, 7],
    )[0]
    if "detractor" in contact.role_codes:
        kind = "volatile"
    start = 0 if kind != "new" else WAVES - rng.randint(1, 2)
    scores: list[int | None] = [None] * WAVES
    base = {
        "steady": rng.randint(6, 8),
        "angel": 9,
        "rising": rng.randint(4, 6),
        "falling": rng.randint(8, 9),
        "sliding": 9,
        "silent": rng.randint(6, 8),
        "volatile": rng.randint(3, 6),
        "new": rng.randint(5, 9),
    }[kind]
    for i in range(start, WAVES):
        progress = (i - start) / max(1, WAVES - 1 - start)
        if kind == "angel":
            value = rng.choice([9, 9, 10, 10, 10])
        elif kind == "rising":
            value = round(base + progress * (9 - base) + rng.uniform(-0.6, 0.6))
        elif kind == "falling":
            value = base if i < WAVES - 2 else base - (3 if i == WAVES - 1 else 1)
        elif kind == "sliding":
            value = {WAVES - 3: 9, WAVES - 2: 8, WAVES - 1: 7}.get(i, rng.choice([9, 10]))
        else:
            value = round(base + rng.uniform(-1.2, 1.2))
        scores[i] = max(0, min(10, value))
    answer_rate = 0.82 if kind != "volatile" else 0.6
    for i in range(start, WAVES):
        if rng.random() > answer_rate:
            scores[i] = None
    if kind == "silent":
        for i in range(WAVES - rng.randint(2, 3), WAVES):
            scores[i] = None
    if kind in {"falling", "sliding"}:
        # Their recent answers are the point of the story: make sure they are there.
        for i in range(WAVES - 3, WAVES):
            if scores[i] is None:
                scores[i] = {
                    "falling": base if i < WAVES - 2 else base - 3,
                    "sliding": 9 - (i - (WAVES - 3)),
                }[kind]
    return scores


def _wave_dates(today) -> list:
    latest = today - timedelta(days=7)
    dates = [latest]
    for _ in range(WAVES - 1):
        previous = dates[-1]
        month_index = previous.month - 1 - 3
        year, month = previous.year + month_index // 12, month_index % 12 + 1
        dates.append(previous.replace(year=year, month=month, day=min(previous.day, 28)))
    return list(reversed(dates))


@transaction.atomic
def seed(accounts: list[Account]) -> dict:
    questionnaire = questionnaire_ensure_default()
    programme, _ = PulseProgramme.objects.get_or_create(
        name=PROGRAMME_NAME,
        defaults={
            "questionnaire": questionnaire,
            "cadence": PulseProgramme.Cadence.QUARTERLY,
            "reminder_days": [4, 9],
            "next_wave_on": timezone.localdate(),  # replaced below
        },
    )
    if programme.waves.exists():
        return {
            "waves": programme.waves.count(),
            "responses": Response.objects.filter(wave__programme=programme).count(),
        }
    programme.accounts.set(accounts)

    version = questionnaire_version_for_sending(questionnaire=questionnaire)
    questions = {q.key: q for q in version.questions.all()}
    now = timezone.now()
    dates = _wave_dates(timezone.localdate())
    waves = []
    for opens_on in dates:
        closes_at = timezone.make_aware(datetime.combine(opens_on + timedelta(days=14), time(18)))
        closed = closes_at <= now
        waves.append(
            Wave.objects.create(
                programme=programme,
                name=f"{opens_on:%B %Y} pulse",
                questionnaire_version=version,
                opens_on=opens_on,
                closes_at=closes_at,
                status=Wave.Status.CLOSED if closed else Wave.Status.OPEN,
                closed_at=closes_at if closed else None,
            )
        )
    programme.next_wave_on = programme.following_wave_date(dates[-1])
    programme.save(update_fields=["next_wave_on"])

    contacts = list(
        Contact.objects.filter(account__in=accounts)
        .select_related("owner", "account")
        .prefetch_related("buying_roles")
        .order_by("pk")
    )
    invitations, planned = [], []
    for contact in contacts:
        rng = random.Random(f"rapport-demo-pulse:{contact.email}")
        scores = _journey(rng, contact)
        for wave, score in zip(waves, scores, strict=True):
            if contact.has_left and contact.left_on and wave.opens_on > contact.left_on:
                continue
            if (
                score is None
                and rng.random() < 0.5
                and wave is not waves[-1]
                and scores.count(None) == WAVES
            ):
                continue
            sent_at = timezone.make_aware(datetime.combine(wave.opens_on, time(9)))
            invitation = Invitation(
                wave=wave,
                contact=contact,
                signer=contact.owner or contact.account.owner,
                status=Invitation.Status.SENT,
                sent_at=sent_at,
                attempts=1,
                reminders_sent=0 if score is not None else (1 if wave is waves[-1] else 2),
                message_id=f"<pulse-demo-{wave.pk}-{contact.pk}@rapport.demo>",
            )
            invitation.issue_token()
            invitations.append(invitation)
            if score is not None and not (wave is waves[-1] and rng.random() < 0.45):
                planned.append((invitation, score, rng.randint(0, 9)))
    Invitation.objects.bulk_create(invitations, batch_size=1000)

    responses, answers = [], []
    for invitation, score, delay in planned:
        submitted = invitation.sent_at + timedelta(days=delay, hours=3)
        responses.append(
            Response(
                wave=invitation.wave,
                contact=invitation.contact,
                invitation=invitation,
                score=score,
                submitted_at=min(submitted, now),
                language=invitation.contact.preferred_language,
            )
        )
    Response.objects.bulk_create(responses, batch_size=1000)
    for response in responses:
        rng = random.Random(
            f"rapport-demo-answers:{response.contact.email}:{response.wave.opens_on}"
        )
        band = _band(response.score)
        ratings = max(1, min(5, round(response.score / 2 + rng.uniform(-0.7, 0.7))))
        values = {
            "relationship": {"number": response.score},
            "account_manager": {"number": max(1, min(5, ratings + rng.choice([0, 0, 1])))},
            "delivery": {"number": ratings},
            "value": {"number": max(1, ratings - rng.choice([0, 1]))},
            "keep_doing": {"text": rng.choice(KEEP_DOING[band])},
            "improve": {"text": rng.choice(IMPROVE[band])},
            "anything_else": {"text": rng.choice(ANYTHING_ELSE)},
        }
        for key, value in values.items():
            question: Question = questions[key]
            if (
                question.kind == Question.Kind.OPEN_TEXT
                and not value.get("text")
                and not question.required
            ):
                continue
            answers.append(Answer(response=response, question=question, **value))
    Answer.objects.bulk_create(answers, batch_size=2000)
    return {"waves": len(waves), "responses": len(responses)}
