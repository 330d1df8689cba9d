"""Reads for closing the loop. Every entry point starts from what the user may see."""

from datetime import date, datetime, timedelta

from django.db.models import Exists, Max, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import Account, User
from actions.models import (
    BEFORE_THE_FIRST_PULSE,
    AccountPlan,
    Acknowledgement,
    AcknowledgementEmail,
    Action,
    AdvocacyCandidate,
    FeedbackReview,
    PlanObjective,
    response_quotes,
)
from contacts.models import Contact
from contacts.selectors import StoryEvent
from pulses.models import Answer, Invitation, Response, Wave
from pulses.services.waves import programmes_covering

RECENTLY_DONE = 10


def _with_answers(queryset: QuerySet[Acknowledgement]) -> QuerySet[Acknowledgement]:
    return queryset.select_related(
        "contact", "account", "owner", "acknowledged_by", "response__wave"
    ).prefetch_related(
        Prefetch("response__answers", queryset=Answer.objects.select_related("question"))
    )


def acknowledgement_get_for_user(*, user: User, pk: int) -> Acknowledgement:
    """The acknowledgement if its account is visible to `user`; 404 otherwise."""
    return get_object_or_404(
        _with_answers(Acknowledgement.objects.visible_to(user)).select_related("account__owner"),
        pk=pk,
    )


def inbox_for_user(*, user: User, everyone: bool = False) -> dict:
    """What `user` owes: open acknowledgements, urgent first, then the soonest due; and the
    last few they completed. `everyone`: every visible one, whoever owes it."""
    visible = Acknowledgement.objects.visible_to(user)
    mine = visible if everyone else visible.filter(owner=user)
    open_ = list(_with_answers(mine.open()).order_by("-urgent", "due_at", "pk"))
    done = list(
        _with_answers(mine.exclude(status=Acknowledgement.Status.PENDING)).order_by(
            "-acknowledged_at", "-pk"
        )[:RECENTLY_DONE]
    )
    now = timezone.now()
    return {
        "open": open_,
        "done": done,
        "now": now,
        "overdue_count": sum(1 for a in open_ if a.is_overdue(now)),
        "urgent_count": sum(1 for a in open_ if a.urgent),
    }


def acknowledgement_detail(*, acknowledgement: Acknowledgement) -> dict:
    """The emails of its workflow and the person's earlier scores, for its page."""
    earlier = list(
        Response.objects.filter(contact_id=acknowledgement.contact_id, score__isnull=False)
        .exclude(pk=acknowledgement.response_id)
        .filter(wave__opens_on__lt=acknowledgement.response.wave.opens_on)
        .select_related("wave")
        .order_by("-wave__opens_on")[:4]
    )
    return {
        "emails": list(acknowledgement.emails.order_by("created_at", "pk")),
        "earlier": list(reversed(earlier)),
        "review": FeedbackReview.objects.filter(response_id=acknowledgement.response_id)
        .select_related("author")
        .first(),
        "candidacies": list(
            AdvocacyCandidate.objects.filter(response_id=acknowledgement.response_id)
        ),
    }


def reply_draft(*, acknowledgement: Acknowledgement, writer: User) -> tuple[str, str]:
    """(subject, body) to start the personal reply from, quoting the person's own words."""
    contact, wave = acknowledgement.contact, acknowledgement.response.wave
    first_name = contact.name.split(" ")[0] if contact.name else ""
    lines = [
        f"Dear {first_name},",
        "",
        f"Thank you for your answers to our {wave.name}. You wrote:",
    ]
    for label, words in acknowledgement.quotes():
        lines += ["", f"{label}:"]
        lines += [f"> {line}" if line else ">" for line in words.splitlines()]
    lines += ["", "", "", "Best regards,", writer.full_name or writer.email]
    if writer.job_title:
        lines.append(writer.job_title)
    return f"Your feedback on our {wave.name}", "\n".join(lines)


# --- The SLA ------------------------------------------------------------------------------------

SLA_WINDOWS = {"30": 30, "90": 90, "365": 365}


def sla_rows(*, user: User, since: datetime) -> list[dict]:
    """One row per visible acknowledgement received since `since`, for `actions.sla`."""
    return list(
        Acknowledgement.objects.visible_to(user)
        .filter(received_at__gte=since)
        .values(
            "pk",
            "owner_id",
            "owner__full_name",
            "account_id",
            "account__name",
            "contact__name",
            "received_at",
            "due_at",
            "acknowledged_at",
            "urgent",
        )
        .order_by("pk")
    )


def sla_window_start(days: int, now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=days)


# --- The relationship story -----------------------------------------------------------------------


def acknowledgement_story_events(contact: Contact) -> list[StoryEvent]:
    """Receipts, personal replies (their words) and in-person acknowledgements."""
    events = []
    acknowledgements = Acknowledgement.objects.filter(contact=contact).select_related(
        "acknowledged_by", "response__wave"
    )
    receipts = {
        e.acknowledgement_id: e
        for e in AcknowledgementEmail.objects.filter(
            acknowledgement__contact=contact,
            kind=AcknowledgementEmail.Kind.RECEIPT,
            status=AcknowledgementEmail.Status.SENT,
        )
    }
    for ack in acknowledgements:
        wave = ack.response.wave.name
        receipt = receipts.get(ack.pk)
        if receipt is not None:
            events.append(
                StoryEvent(receipt.sent_at, "ack-receipt", f"Automatic thank-you for the {wave}")
            )
        if ack.status == Acknowledgement.Status.REPLIED:
            events.append(
                StoryEvent(
                    ack.acknowledged_at,
                    "ack-reply",
                    f"Personal reply: {ack.reply_subject}",
                    body=ack.reply_body,
                    actor=str(ack.acknowledged_by or ""),
                )
            )
        elif ack.status == Acknowledgement.Status.IN_PERSON:
            events.append(
                StoryEvent(
                    ack.acknowledged_at,
                    "ack-in-person",
                    f"Feedback on the {wave} acknowledged in a {ack.get_method_display().lower()}",
                    body=ack.note,
                    actor=str(ack.acknowledged_by or ""),
                )
            )
    return events


# --- Actions --------------------------------------------------------------------------------------

# "Since your last pulse we have: …" lists at most this many.
MIRROR_LIMIT = 3


def waves_reaching(*, account: Account) -> QuerySet[Wave]:
    """Waves that reached the account: of a programme covering it, or inviting its people."""
    return Wave.objects.filter(
        programmes_covering(account)
        | Q(pk__in=Invitation.objects.filter(contact__account=account).values("wave_id"))
    )


def pulse_cycle_start(*, account: Account, on: date | None = None) -> date:
    """The day the account's pulse cycle that includes `on` (today) began: the opening day of
    the latest wave that reached it by then, or BEFORE_THE_FIRST_PULSE."""
    on = on or timezone.localdate()
    latest = waves_reaching(account=account).filter(opens_on__lte=on).aggregate(Max("opens_on"))
    return latest["opens_on__max"] or BEFORE_THE_FIRST_PULSE


def action_get_for_user(*, user: User, pk: int) -> Action:
    """The action if its account is visible to `user`; 404 otherwise."""
    return get_object_or_404(
        Action.objects.visible_to(user).select_related(
            "account__owner", "owner", "source_contact", "source_response__wave", "source_wave"
        ),
        pk=pk,
    )


def _actions(queryset: QuerySet[Action]) -> QuerySet[Action]:
    return queryset.select_related("owner", "source_contact", "source_wave", "account")


def account_actions(*, account: Account) -> dict:
    """The Actions tab: this cycle's focus, open and closed actions, what we told people."""
    cycle = pulse_cycle_start(account=account)
    actions = list(
        _actions(account.actions.all()).order_by("-is_focus", "priority", "due_on", "pk")
    )
    focus = next((a for a in actions if a.is_focus and a.cycle_start == cycle), None)
    today = timezone.localdate()
    return {
        "cycle_start": cycle,
        "first_cycle": cycle == BEFORE_THE_FIRST_PULSE,
        "focus": focus,
        "open_actions": [a for a in actions if not a.is_closed and a is not focus],
        "closed_actions": sorted(
            (a for a in actions if a.is_closed and a is not focus),
            key=lambda a: a.done_at or a.updated_at,
            reverse=True,
        ),
        "statements": [a for a in actions if a.you_said_we_did],
        "participants": summary_recipients(account=account).count(),
        "wave_reviews": list(
            account.reviews.filter(response__isnull=True)
            .select_related("wave", "author")
            .order_by("-wave__opens_on")
        ),
        "last_summary": account.summaries.first(),
        "overdue_count": sum(1 for a in actions if a.is_overdue(today)),
        "today": today,
    }


def response_for_action(*, account: Account, pk: int) -> Response | None:
    """A response of this (already visible) account, to raise an action from."""
    return (
        Response.objects.filter(pk=pk, contact__account=account)
        .select_related("contact", "wave")
        .prefetch_related(Prefetch("answers", queryset=Answer.objects.select_related("question")))
        .first()
    )


def action_title_from(response: Response) -> str:
    """A first title for an action: the start of what they asked us to improve."""
    words = response.answer_for("improve").strip()
    if not words:
        return ""
    first = words.split("\n")[0].split(". ")[0].rstrip(".")
    return first if len(first) <= 120 else first[:117].rstrip() + "…"


def action_detail(*, action: Action) -> dict:
    """The log, the words it answers, and which action holds this cycle's focus."""
    quotes = []
    if action.source_response_id:
        response = response_for_action(account=action.account, pk=action.source_response_id)
        quotes = response_quotes(response) if response else []
    return {
        "updates": list(action.updates.select_related("author")),
        "quotes": quotes,
        "holder": (
            Action.objects.filter(
                account_id=action.account_id,
                cycle_start=pulse_cycle_start(account=action.account),
                is_focus=True,
            )
            .exclude(pk=action.pk)
            .first()
        ),
    }


def _raised_by(contact: Contact) -> Q:
    """Actions this person raised: named as the source, by their response, or in a wave they
    answered; and the account's focus actions with no source of their own."""
    answered = Response.objects.filter(contact=contact, wave_id=OuterRef("source_wave_id"))
    no_source = Q(
        source_contact__isnull=True, source_response__isnull=True, source_wave__isnull=True
    )
    return (
        Q(source_contact=contact)
        | Q(source_response__contact=contact)
        | (Q(source_contact__isnull=True, source_response__isnull=True) & Exists(answered))
        | (Q(is_focus=True) & no_source)
    )


def you_said_we_did_for(*, contact: Contact, wave: Wave, limit: int = MIRROR_LIMIT) -> list[str]:
    """ "Since your last pulse we have: …" for `contact` in `wave`: the "you said, we did"
    statements of their account's done actions that they raised (see `_raised_by`), finished
    since the last earlier pulse they were invited to (ever, before their first), newest first.
    """
    if contact.account_id is None:
        return []
    previous = (
        Invitation.objects.filter(contact=contact, wave__opens_on__lt=wave.opens_on)
        .order_by("-wave__opens_on")
        .values_list("wave__opens_on", flat=True)
    )
    since = next(iter(previous[:1]), None)
    actions = Action.objects.filter(
        _raised_by(contact), account_id=contact.account_id, status=Action.Status.DONE
    ).exclude(you_said_we_did="")
    if since is not None:
        actions = actions.filter(done_at__date__gte=since)
    return list(actions.order_by("-done_at").values_list("you_said_we_did", flat=True)[:limit])


def you_said_we_did_for_invitation(invitation: Invitation) -> list[str]:
    """For the invitation and reminder emails (`pulses.services.sending.email_context`)."""
    return you_said_we_did_for(contact=invitation.contact, wave=invitation.wave)


def you_said_we_did_for_invitations(
    invitations: list[Invitation], *, limit: int = MIRROR_LIMIT
) -> dict[int, list[str]]:
    """`you_said_we_did_for` of every invitation in `invitations` (each with its contact and
    wave loaded), keyed by invitation id: one query when their accounts have no statement to
    tell, at most four however many people, where one by one takes two per person. For the
    sending engine, which composes a wave's emails in chunks."""
    told: dict[int, list[str]] = {invitation.pk: [] for invitation in invitations}
    concerned = [i for i in invitations if i.contact.account_id is not None]
    contact_ids = {i.contact_id for i in concerned}
    if not contact_ids:
        return told
    # A superset of each person's `_raised_by`, for all of them at once; narrowed below.
    answered_any = Response.objects.filter(
        contact_id__in=contact_ids, wave_id=OuterRef("source_wave_id")
    )
    unsourced = Q(source_contact__isnull=True, source_response__isnull=True)
    actions = list(
        Action.objects.filter(
            Q(source_contact_id__in=contact_ids)
            | Q(source_response__contact_id__in=contact_ids)
            | (unsourced & Exists(answered_any))
            | (Q(is_focus=True) & unsourced & Q(source_wave__isnull=True)),
            account_id__in={i.contact.account_id for i in concerned},
            status=Action.Status.DONE,
        )
        .exclude(you_said_we_did="")
        .order_by("-done_at")
        .values(
            "account_id",
            "source_contact_id",
            "source_response_id",
            "source_response__contact_id",
            "source_wave_id",
            "is_focus",
            "done_at",
            "you_said_we_did",
        )
    )
    if not actions:
        return told
    source_waves = {a["source_wave_id"] for a in actions if a["source_wave_id"] is not None}
    answered = set(
        Response.objects.filter(contact_id__in=contact_ids, wave_id__in=source_waves).values_list(
            "contact_id", "wave_id"
        )
    )
    # The last earlier pulse each person was invited to, per opening date of the chunk's waves.
    since: dict[tuple[int, date], date] = {}
    for opens_on in {i.wave.opens_on for i in concerned}:
        latest = (
            Invitation.objects.filter(contact_id__in=contact_ids, wave__opens_on__lt=opens_on)
            .values("contact_id")
            .annotate(latest=Max("wave__opens_on"))
            .values_list("contact_id", "latest")
        )
        since.update(((contact_id, opens_on), day) for contact_id, day in latest)

    def raised_by(action: dict, contact_id: int) -> bool:  # `_raised_by`, row by row
        no_source = action["source_contact_id"] is None and action["source_response_id"] is None
        return (
            action["source_contact_id"] == contact_id
            or action["source_response__contact_id"] == contact_id
            or (no_source and (contact_id, action["source_wave_id"]) in answered)
            or (action["is_focus"] and no_source and action["source_wave_id"] is None)
        )

    for invitation in concerned:
        contact = invitation.contact
        day = since.get((contact.pk, invitation.wave.opens_on))
        told[invitation.pk] = [
            action["you_said_we_did"]
            for action in actions
            if action["account_id"] == contact.account_id
            and raised_by(action, contact.pk)
            and (day is None or timezone.localdate(action["done_at"]) >= day)
        ][:limit]
    return told


def action_story_events(contact: Contact) -> list[StoryEvent]:
    """Actions raised from this person's feedback, and what we told them we did."""
    events = []
    actions = Action.objects.filter(
        Q(source_contact=contact) | Q(source_response__contact=contact)
    ).select_related("created_by")
    for action in actions:
        events.append(
            StoryEvent(
                action.created_at,
                "action",
                f"Action from their feedback: {action.title}"
                + (" (the focus for the cycle)" if action.is_focus else ""),
                actor=str(action.created_by or ""),
                url=action.get_absolute_url(),
            )
        )
        if action.status == Action.Status.DONE and action.you_said_we_did:
            events.append(
                StoryEvent(
                    action.done_at,
                    "action-done",
                    "You said, we did",
                    body=action.you_said_we_did,
                    url=action.get_absolute_url(),
                )
            )
    return events


# --- "You said, we did" summaries ---------------------------------------------------------------

SUMMARY_DAYS = 180
PARTICIPANT_DAYS = 365


def summary_statements(*, account: Account) -> list[str]:
    """The account's "you said, we did" statements of the last SUMMARY_DAYS, newest first."""
    since = timezone.now() - timedelta(days=SUMMARY_DAYS)
    return list(
        account.actions.filter(status=Action.Status.DONE, done_at__gte=since)
        .exclude(you_said_we_did="")
        .order_by("-done_at")
        .values_list("you_said_we_did", flat=True)[:10]
    )


def summary_recipients(*, account: Account) -> QuerySet[Contact]:
    """The account's participants: people who answered a pulse within PARTICIPANT_DAYS and may
    still be written to (not left, not opted out, with an address)."""
    since = timezone.now() - timedelta(days=PARTICIPANT_DAYS)
    answered = Response.objects.filter(contact=OuterRef("pk"), submitted_at__gte=since)
    return (
        Contact.objects.active()
        .filter(account=account, pulse_consent=Contact.Consent.OPTED_IN)
        .exclude(email="")
        .filter(Exists(answered))
        .order_by("name")
    )


# --- Feedback reviews -----------------------------------------------------------------------------


def review_story_events(contact: Contact) -> list[StoryEvent]:
    """How the team judged this person's feedback."""
    events = []
    for review in FeedbackReview.objects.filter(response__contact=contact).select_related(
        "author", "wave"
    ):
        verdict = review.get_fairness_display()
        if review.nature:
            verdict += f" · {review.get_nature_display().lower()}"
        body = "\n".join(
            part
            for part in (
                f"Not mentioned: {review.not_mentioned}" if review.not_mentioned else "",
                review.notes,
            )
            if part
        )
        events.append(
            StoryEvent(
                review.updated_at,
                "review",
                f"Feedback on the {review.wave.name} reviewed: {verdict}",
                body=body,
                actor=str(review.author or ""),
            )
        )
    return events


def feedback_review_rows(*, user: User) -> list[dict]:
    """Every visible review as a row (for reports): account, wave, response or whole wave,
    fairness, nature, what was not mentioned, who reviewed and when."""
    return list(
        FeedbackReview.objects.filter(account__in=Account.objects.visible_to(user))
        .values(
            "pk",
            "account_id",
            "account__name",
            "wave_id",
            "wave__name",
            "wave__opens_on",
            "response_id",
            "response__contact__name",
            "response__score",
            "fairness",
            "nature",
            "not_mentioned",
            "notes",
            "author__full_name",
            "updated_at",
        )
        .order_by("account__name", "-wave__opens_on", "pk")
    )


# --- Referral and case-study candidates -------------------------------------------------------------


def candidates_for_user(
    *, user: User, kind: str = "", consent: str = ""
) -> list[AdvocacyCandidate]:
    """Candidates across the accounts `user` may see, newest first, optionally filtered."""
    candidates = AdvocacyCandidate.objects.visible_to(user).select_related(
        "contact", "account", "response__wave", "consent_recorded_by", "created_by"
    )
    if kind:
        candidates = candidates.filter(kind=kind)
    if consent:
        candidates = candidates.filter(consent=consent)
    return list(candidates.order_by("-created_at", "-pk"))


def candidate_get_for_user(*, user: User, pk: int) -> AdvocacyCandidate:
    return get_object_or_404(
        AdvocacyCandidate.objects.visible_to(user).select_related("account", "contact"), pk=pk
    )


def candidate_story_events(contact: Contact) -> list[StoryEvent]:
    return [
        StoryEvent(
            candidate.created_at,
            "candidate",
            f"Marked as a {candidate.get_kind_display().lower()} candidate "
            f"({candidate.get_consent_display().lower()})",
            body=f"“{candidate.quote}”",
            actor=str(candidate.created_by or ""),
        )
        for candidate in AdvocacyCandidate.objects.filter(contact=contact).select_related(
            "created_by"
        )
    ]


# --- Account plans ----------------------------------------------------------------------------------


def account_plans(*, account: Account) -> list[AccountPlan]:
    """The account's plans, oldest first, with their objectives (and owners) prefetched."""
    return list(
        account.plans.select_related("created_by").prefetch_related(
            Prefetch("objectives", queryset=PlanObjective.objects.select_related("owner"))
        )
    )


def overdue_objectives(*, account: Account) -> list[PlanObjective]:
    """Objectives of the account's plans past their target date and not done."""
    return list(
        PlanObjective.objects.filter(
            plan__account=account, progress__lt=100, target_date__lt=timezone.localdate()
        )
        .select_related("plan", "owner")
        .order_by("target_date", "pk")
    )


def plan_get_for_user(*, user: User, pk: int) -> AccountPlan:
    return get_object_or_404(
        AccountPlan.objects.filter(account__in=Account.objects.visible_to(user)).select_related(
            "account"
        ),
        pk=pk,
    )


def objective_get_for_user(*, user: User, pk: int) -> PlanObjective:
    return get_object_or_404(
        PlanObjective.objects.filter(
            plan__account__in=Account.objects.visible_to(user)
        ).select_related("plan__account"),
        pk=pk,
    )


# --- Webhook payloads -----------------------------------------------------------------------------


def action_data(*, action_id: int) -> dict | None:
    """An action as the API shows it (the `data` of `action.completed`), or None."""
    from actions.serializers import ActionSerializer  # serializers import the models

    action = (
        Action.objects.select_related("owner", "created_by")
        .prefetch_related("updates__author")
        .filter(pk=action_id)
        .first()
    )
    return dict(ActionSerializer(action).data) if action else None


def acknowledgement_data(*, acknowledgement_id: int) -> dict | None:
    """An acknowledgement as the API shows it (the `data` of `acknowledgement.overdue`)."""
    from actions.serializers import AcknowledgementSerializer

    acknowledgement = (
        Acknowledgement.objects.select_related("owner", "acknowledged_by")
        .filter(pk=acknowledgement_id)
        .first()
    )
    return dict(AcknowledgementSerializer(acknowledgement).data) if acknowledgement else None
