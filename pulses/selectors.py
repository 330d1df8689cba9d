"""Reads for pulses: what a person said over time, and how an account's waves are going."""

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from accounts.models import Account
from contacts.models import Contact
from contacts.selectors import StoryEvent
from pulses.models import (
    Answer,
    Invitation,
    PulseProgramme,
    Question,
    Response,
    Unsubscribe,
    Wave,
)

PROBLEM_STATUSES = [Invitation.Status.FAILED, Invitation.Status.BOUNCED]


def _responses_with_answers(queryset):
    return queryset.select_related("wave", "recorded_by").prefetch_related(
        Prefetch("answers", queryset=Answer.objects.select_related("question"))
    )


def pulse_story_events(contact: Contact) -> list[StoryEvent]:
    """Invitations, reminders, answers (in their own words) and unsubscribes, for the story."""
    events = []
    for invitation in Invitation.objects.filter(contact=contact).select_related("wave", "signer"):
        if invitation.sent_at:
            signer = f" from {invitation.signer}" if invitation.signer else ""
            events.append(
                StoryEvent(
                    invitation.sent_at,
                    "pulse-invite",
                    f"Invited to the {invitation.wave.name}{signer}",
                )
            )
        if invitation.status in PROBLEM_STATUSES:
            events.append(
                StoryEvent(
                    invitation.claimed_at or invitation.created_at,
                    "pulse-problem",
                    f"Invitation {invitation.get_status_display().lower()}",
                    body=invitation.last_error,
                )
            )
        if invitation.reminders_sent and invitation.last_reminded_at:
            events.append(
                StoryEvent(
                    invitation.last_reminded_at,
                    "pulse-invite",
                    f"Reminder {invitation.reminders_sent} for the {invitation.wave.name}",
                )
            )
    for response in _responses_with_answers(Response.objects.filter(contact=contact)):
        how = (
            ""
            if response.source == Response.Source.SURVEY
            else f" ({response.get_source_display().lower()})"
        )
        quotes = tuple(
            (
                answer.question.get_purpose_display()
                if answer.question.purpose != Question.Purpose.OTHER
                else "Also said",
                answer.text,
            )
            for answer in response.answers.all()
            if answer.question.kind == Question.Kind.OPEN_TEXT and answer.text
        )
        events.append(
            StoryEvent(
                response.submitted_at,
                "pulse-answer",
                f"Answered the {response.wave.name}{how}",
                actor=f"recorded by {response.recorded_by}" if response.recorded_by else "",
                score=response.score,
                quotes=quotes,
            )
        )
    for unsubscribe in Unsubscribe.objects.filter(contact=contact):
        events.append(StoryEvent(unsubscribe.at, "pulse-problem", "Unsubscribed from pulses"))
    return events


@dataclass(frozen=True)
class ScorePoint:
    wave: str
    score: int | None


def contact_score_series(*, contact: Contact) -> list[ScorePoint]:
    """The relationship score at every wave the person was invited to, oldest first."""
    scores = dict(Response.objects.filter(contact=contact).values_list("wave_id", "score"))
    waves = (
        Wave.objects.filter(invitations__contact=contact)
        .order_by("opens_on")
        .values_list("pk", "name")
    )
    return [ScorePoint(name, scores.get(pk)) for pk, name in waves]


@dataclass(frozen=True)
class WaveStatus:
    wave: Wave
    invited: int
    answered: int

    @property
    def rate(self) -> int:
        return round(100 * self.answered / self.invited) if self.invited else 0


def account_pulse_status(*, account: Account, limit: int = 12) -> dict:
    """Waves that reached this account's people, with response rates; who owes an answer now."""
    invitations = Invitation.objects.filter(contact__account=account)
    counts = (
        invitations.values("wave")
        .annotate(invited=Count("pk"), answered=Count("response", filter=Q(response__isnull=False)))
        .order_by()
    )
    by_wave = {row["wave"]: row for row in counts}
    waves = Wave.objects.filter(pk__in=by_wave).order_by("-opens_on")[:limit]
    statuses = [WaveStatus(w, by_wave[w.pk]["invited"], by_wave[w.pk]["answered"]) for w in waves]
    latest = statuses[0].wave if statuses else None
    waiting = (
        list(
            invitations.filter(wave=latest, response__isnull=True)
            .select_related("contact", "contact__owner")
            .order_by("contact__name")
        )
        if latest
        else []
    )
    problems = list(
        invitations.filter(status__in=PROBLEM_STATUSES)
        .select_related("contact", "wave")
        .order_by("-created_at")[:50]
    )
    return {"waves": statuses, "latest": latest, "waiting": waiting, "problems": problems}


def account_recent_responses(*, account: Account, limit: int = 12):
    return list(
        _responses_with_answers(
            Response.objects.filter(contact__account=account).select_related("contact")
        ).order_by("-submitted_at")[:limit]
    )


# --- Visibility of programmes and waves (the API) -------------------------------------------------


def programmes_visible_to(*, user) -> QuerySet[PulseProgramme]:
    """Programmes that cover at least one account `user` may see (all, for those who see all)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return PulseProgramme.objects.none()
    if user.sees_all_accounts:
        return PulseProgramme.objects.all()
    visible = Account.objects.visible_to(user)
    named = Q(accounts__in=visible)
    both = Q(segment__isnull=False, territory__isnull=False) & Exists(
        visible.filter(segment_id=OuterRef("segment_id"), territory_id=OuterRef("territory_id"))
    )
    by_segment = Q(segment__isnull=False, territory__isnull=True) & Exists(
        visible.filter(segment_id=OuterRef("segment_id"))
    )
    by_territory = Q(segment__isnull=True, territory__isnull=False) & Exists(
        visible.filter(territory_id=OuterRef("territory_id"))
    )
    ids = PulseProgramme.objects.filter(named | both | by_segment | by_territory).values("pk")
    return PulseProgramme.objects.filter(pk__in=ids)


def waves_visible_to(*, user) -> QuerySet[Wave]:
    """Waves of a visible programme, or that reached (invited or heard from) a visible person."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Wave.objects.none()
    if user.sees_all_accounts:
        return Wave.objects.all()
    contacts = Contact.objects.visible_to(user)
    return Wave.objects.filter(
        Q(programme__in=programmes_visible_to(user=user))
        | Q(pk__in=Invitation.objects.filter(contact__in=contacts).values("wave_id"))
        | Q(pk__in=Response.objects.filter(contact__in=contacts).values("wave_id"))
    )


def response_data(*, response_id: int) -> dict | None:
    """A response as the API shows it (the `data` of `response.submitted`), or None."""
    from pulses.serializers import ResponseSerializer  # serializers import the models

    response = responses_with_answers(Response.objects.filter(pk=response_id)).first()
    return dict(ResponseSerializer(response).data) if response else None


def responses_with_answers(queryset: QuerySet[Response]) -> QuerySet[Response]:
    return queryset.select_related("wave", "contact", "recorded_by").prefetch_related(
        Prefetch("answers", queryset=Answer.objects.select_related("question"))
    )
