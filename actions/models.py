"""Closing the loop: every response acknowledged within 48 hours, and what we do about it.

An `Acknowledgement` is the relationship owner's task for one response: created in the same
transaction as the response, due 48 hours after it arrived, done when the owner replies by email
from the app or notes that they acknowledged it in person. Every email of that workflow (the
automatic receipt, the personal reply, the 24-hour reminder, the 48-hour escalation) is one
`AcknowledgementEmail` row, unique per acknowledgement and kind: the database itself allows one
receipt and one reply per response, and each row is claimed with a conditional UPDATE before
it is sent.
"""

from datetime import date, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from contacts.models import Contact
from pulses.models import Question, Response

ACKNOWLEDGE_WITHIN = timedelta(hours=48)
REMIND_AFTER = timedelta(hours=24)
# Scores at or below this, or a fall of at least URGENT_FALL since the person's previous score.
URGENT_SCORE_MAX = 6
URGENT_FALL = 2


def response_quotes(response: Response) -> list[tuple[str, str]]:
    """The person's own words in a response: (what the question asked, their answer)."""
    return [
        (
            answer.question.get_purpose_display()
            if answer.question.purpose != Question.Purpose.OTHER
            else answer.question.text(response.language),
            answer.text,
        )
        for answer in response.answers.all()
        if answer.question.kind == Question.Kind.OPEN_TEXT and answer.text
    ]


class AcknowledgementQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(account__in=Account.objects.visible_to(user))

    def open(self):
        return self.filter(status=Acknowledgement.Status.PENDING)


class Acknowledgement(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for acknowledgement"
        REPLIED = "replied", "Replied by email"
        IN_PERSON = "in_person", "Acknowledged in person"

    class Method(models.TextChoices):
        EMAIL = "email", "Personal email"
        CALL = "call", "Call"
        MEETING = "meeting", "Meeting"

    response = models.OneToOneField(
        Response, on_delete=models.CASCADE, related_name="acknowledgement"
    )
    # The response's account and person, kept here for the inbox, the SLA and the story.
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="acknowledgements")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="acknowledgements")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="acknowledgements",
        help_text="Who owes the acknowledgement: the person's relationship owner.",
    )
    received_at = models.DateTimeField(help_text="When the response arrived in Rapport.")
    due_at = models.DateTimeField()
    urgent = models.BooleanField(default=False)
    urgent_reason = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    method = models.CharField(max_length=10, choices=Method, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(blank=True, max_length=5_000, help_text="What was said in person.")
    reply_subject = models.CharField(max_length=200, blank=True)
    reply_body = models.TextField(blank=True, max_length=10_000)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AcknowledgementQuerySet.as_manager()

    class Meta:
        ordering = ["-urgent", "due_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(status="pending", acknowledged_at__isnull=True, method="")
                    | (~Q(status="pending") & Q(acknowledged_at__isnull=False) & ~Q(method=""))
                ),
                name="acknowledged_fields_move_together",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["account", "received_at"]),
        ]

    def __str__(self):
        return f"Acknowledge {self.contact} ({self.response.wave})"

    def get_absolute_url(self):
        return reverse("actions:acknowledgement", args=[self.pk])

    def can_acknowledge(self, user) -> bool:
        """The person's owner acknowledges; the account's owner and administrators may stand in."""
        return bool(user.is_active and (self.owner_id == user.pk or self.account.can_edit(user)))

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.PENDING

    def is_overdue(self, now=None) -> bool:
        return self.is_open and (now or timezone.now()) >= self.due_at

    @property
    def on_time(self) -> bool | None:
        """Acknowledged within the 48 hours; None while still open."""
        if self.acknowledged_at is None:
            return None
        return self.acknowledged_at <= self.due_at

    def set_urgency(self, *, score: int | None, previous_score: int | None) -> None:
        """Urgent when the score is low, or fell by URGENT_FALL or more since the last one."""
        reasons = []
        if score is not None and score <= URGENT_SCORE_MAX:
            reasons.append(f"score {score}")
        if (
            score is not None
            and previous_score is not None
            and previous_score - score >= URGENT_FALL
        ):
            reasons.append(f"fell from {previous_score} to {score}")
        self.urgent = bool(reasons)
        self.urgent_reason = "; ".join(reasons)

    def mark_acknowledged(self, *, by, method: str, at=None) -> None:
        """Move the fields that record an acknowledgement together (not saved)."""
        self.status = self.Status.REPLIED if method == self.Method.EMAIL else self.Status.IN_PERSON
        self.method = method
        self.acknowledged_by = by
        self.acknowledged_at = at or timezone.now()

    def quotes(self) -> list[tuple[str, str]]:
        return response_quotes(self.response)


class OutgoingEmail(models.Model):
    """One email, sent at most once: the state its sender claims and moves on.

    `pending → sending` (claimed, attempts + 1) `→ sent | bounced | failed | skipped`; back to
    `pending` on an error worth retrying. A claim older than STALE_CLAIM is taken over (its
    worker died). `queued_at` says when a task was last handed this row, so the sweeper only
    queues again what nobody has taken in hand for a while.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        BOUNCED = "bounced", "Bounced"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Not sent"

    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    queued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class AcknowledgementEmail(OutgoingEmail):
    """One email of an acknowledgement's workflow; one of each kind per acknowledgement."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", "Automatic thank-you"
        REPLY = "reply", "Personal reply"
        REMINDER = "reminder", "24-hour reminder to the owner"
        ESCALATION = "escalation", "48-hour escalation"

    acknowledgement = models.ForeignKey(
        Acknowledgement, on_delete=models.CASCADE, related_name="emails"
    )
    kind = models.CharField(max_length=10, choices=Kind)

    class Meta:
        ordering = ["acknowledgement", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["acknowledgement", "kind"], name="one_email_per_acknowledgement_kind"
            )
        ]
        indexes = [models.Index(fields=["status", "queued_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.acknowledgement_id}"


class SummaryMailing(models.Model):
    """A "you said, we did" summary emailed to an account's participants.

    The statements are kept as sent. At most one per account and day (a double click, two
    colleagues at once), so nobody gets the same summary twice.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="summaries")
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_on = models.DateField(default=timezone.localdate)
    statements = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "sent_on"], name="one_summary_per_account_and_day"
            )
        ]

    def __str__(self):
        return f"You said, we did: {self.account} {self.sent_on}"


class SummaryEmail(OutgoingEmail):
    """The summary to one person; one per mailing and person."""

    mailing = models.ForeignKey(SummaryMailing, on_delete=models.CASCADE, related_name="emails")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["mailing", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["mailing", "contact"], name="one_summary_per_person")
        ]
        indexes = [models.Index(fields=["status", "queued_at"])]

    def __str__(self):
        return f"{self.mailing} to {self.contact_id}"


# --- Actions ------------------------------------------------------------------------------------

# The cycle of an account before its first pulse: focus actions there are unique too.
BEFORE_THE_FIRST_PULSE = date(2000, 1, 1)


class ActionQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(account__in=Account.objects.visible_to(user))


class Action(models.Model):
    """Something the account team does about feedback, with a log of how it went.

    At most one action per account and pulse cycle is its *focus* ("one thing to fix"): a
    partial unique constraint on (account, cycle_start) holds the rule in the database. A
    cycle runs from one wave that reached the account to the next; `cycle_start` is the day
    its first wave opened (BEFORE_THE_FIRST_PULSE before any). Once done, the owner writes the
    "you said, we did" statement that the people who raised it see in their next pulse.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        WONT_DO = "wont_do", "Won't do"

    class Priority(models.IntegerChoices):
        HIGH = 1, "High"
        MEDIUM = 2, "Medium"
        LOW = 3, "Low"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="actions")
    source_response = models.ForeignKey(
        Response,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="actions",
        verbose_name="raised in the response",
    )
    source_contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="actions",
        verbose_name="raised by",
    )
    source_wave = models.ForeignKey(
        "pulses.Wave",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="actions",
        verbose_name="raised in the wave",
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=5_000)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="actions",
    )
    due_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status, default=Status.OPEN)
    priority = models.PositiveSmallIntegerField(choices=Priority, default=Priority.MEDIUM)
    is_focus = models.BooleanField("focus: the one thing to fix this cycle", default=False)
    cycle_start = models.DateField(default=BEFORE_THE_FIRST_PULSE)
    you_said_we_did = models.TextField(
        "you said, we did",
        blank=True,
        max_length=1_000,
        help_text="What we did, in one or two sentences for the people who raised it.",
    )
    done_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ActionQuerySet.as_manager()

    class Meta:
        ordering = ["-is_focus", "priority", "due_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "cycle_start"],
                condition=Q(is_focus=True),
                name="one_focus_action_per_account_cycle",
                violation_error_message="This account already has its focus for this cycle.",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="done", done_at__isnull=False)
                    | (~Q(status="done") & Q(done_at__isnull=True))
                ),
                name="action_done_at_when_done",
                violation_error_message="A done action records when it was done.",
            ),
            models.CheckConstraint(
                condition=Q(you_said_we_did="") | Q(status="done"),
                name="you_said_we_did_only_when_done",
                violation_error_message="Write “you said, we did” once the action is done.",
            ),
        ]
        indexes = [models.Index(fields=["account", "status"])]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("actions:action", args=[self.pk])

    @property
    def is_closed(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.WONT_DO)

    def is_overdue(self, today=None) -> bool:
        return bool(
            self.due_on and not self.is_closed and self.due_on < (today or timezone.localdate())
        )

    @property
    def raised_by(self) -> Contact | None:
        if self.source_contact_id:
            return self.source_contact
        return self.source_response.contact if self.source_response_id else None

    def set_status(self, status: str, *, at=None) -> None:
        """Move the status and the fields that follow it (not saved)."""
        self.status = status
        if status == self.Status.DONE:
            self.done_at = self.done_at or at or timezone.now()
        else:
            self.done_at = None
            self.you_said_we_did = ""


class ActionUpdate(models.Model):
    """One line of an action's log: a note, or a change of status, focus or owner."""

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="updates")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    text = models.TextField(max_length=5_000)
    status = models.CharField(
        max_length=12, choices=Action.Status, blank=True, help_text="The status it moved to."
    )

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self):
        return self.text[:60]


# --- Feedback reviews -----------------------------------------------------------------------------


class FeedbackReview(models.Model):
    """The team challenges itself with feedback: of one response, or of a wave as a whole.

    One review per response, and one per account and wave for the wave as a whole (partial
    unique constraints); reviewing again updates it.
    """

    class Fairness(models.TextChoices):
        FAIR = "fair", "Fair"
        PARTLY = "partly", "Partly fair"
        UNFAIR = "unfair", "Not fair"

    class Nature(models.TextChoices):
        EXPECTATIONS = "expectations", "Expectations management"
        PERFORMANCE = "performance", "Performance issue"
        BOTH = "both", "Both"
        NEITHER = "neither", "Neither"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="reviews")
    wave = models.ForeignKey("pulses.Wave", on_delete=models.CASCADE, related_name="reviews")
    response = models.ForeignKey(
        Response, null=True, blank=True, on_delete=models.CASCADE, related_name="reviews"
    )
    fairness = models.CharField("Is the feedback fair?", max_length=10, choices=Fairness)
    nature = models.CharField(
        "Expectations or performance?", max_length=15, choices=Nature, blank=True
    )
    not_mentioned = models.TextField(
        "What did they not mention that we thought was important?",
        blank=True,
        max_length=5_000,
    )
    notes = models.TextField(blank=True, max_length=5_000)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["response"],
                condition=Q(response__isnull=False),
                name="one_review_per_response",
            ),
            models.UniqueConstraint(
                fields=["account", "wave"],
                condition=Q(response__isnull=True),
                name="one_wave_review_per_account",
            ),
        ]

    def __str__(self):
        return f"Review of {self.response or self.wave}"


# --- Referral and case-study candidates -------------------------------------------------------------


class CandidateQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(account__in=Account.objects.visible_to(user))


class AdvocacyCandidate(models.Model):
    """Positive feedback as an asset: a person's quote marked for a referral or a case study,
    with their consent recorded (who asked, when, and what they said)."""

    class Kind(models.TextChoices):
        REFERRAL = "referral", "Referral"
        CASE_STUDY = "case_study", "Case study"

    class Consent(models.TextChoices):
        NOT_ASKED = "not_asked", "Not asked yet"
        GIVEN = "given", "Consent given"
        DECLINED = "declined", "Declined"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="candidates")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="candidacies")
    response = models.ForeignKey(
        Response, null=True, blank=True, on_delete=models.SET_NULL, related_name="candidacies"
    )
    kind = models.CharField(max_length=12, choices=Kind)
    quote = models.TextField(max_length=5_000)
    consent = models.CharField(max_length=10, choices=Consent, default=Consent.NOT_ASKED)
    consent_note = models.CharField(
        max_length=500, blank=True, help_text="How and when they said so, e.g. “by email”."
    )
    consent_recorded_at = models.DateTimeField(null=True, blank=True)
    consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = CandidateQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "kind"],
                condition=Q(response__isnull=True),
                name="one_candidacy_per_contact_kind",
            ),
            models.UniqueConstraint(
                fields=["response", "kind"],
                condition=Q(response__isnull=False),
                name="one_candidacy_per_response_kind",
            ),
            models.CheckConstraint(
                condition=Q(consent="not_asked", consent_recorded_at__isnull=True)
                | (~Q(consent="not_asked") & Q(consent_recorded_at__isnull=False)),
                name="consent_recorded_when_answered",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} candidate: {self.contact}"

    def record_consent(self, *, consent: str, note: str, by) -> None:
        """Move the consent fields together (not saved)."""
        self.consent = consent
        self.consent_note = note
        asked = consent != self.Consent.NOT_ASKED
        self.consent_recorded_at = timezone.now() if asked else None
        self.consent_recorded_by = by if asked else None


# --- Account plans ----------------------------------------------------------------------------------


class AccountPlan(models.Model):
    """Where we want to be with an account in one to three years, and the objectives on the way."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="plans")
    title = models.CharField(
        max_length=200, help_text="The goal, e.g. “Sole logistics partner in DACH”."
    )
    description = models.TextField(blank=True, max_length=5_000)
    horizon_years = models.PositiveSmallIntegerField(
        "horizon",
        choices=[(1, "1 year"), (2, "2 years"), (3, "3 years")],
        default=2,
    )
    starts_on = models.DateField(default=timezone.localdate)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(horizon_years__gte=1, horizon_years__lte=3),
                name="plan_horizon_one_to_three_years",
                violation_error_message="Plans look one to three years ahead.",
            )
        ]

    def __str__(self):
        return self.title

    @property
    def ends_on(self) -> date:
        try:
            return self.starts_on.replace(year=self.starts_on.year + self.horizon_years)
        except ValueError:  # 29 February
            return self.starts_on.replace(year=self.starts_on.year + self.horizon_years, day=28)

    @property
    def progress(self) -> int:
        """The mean progress of its objectives (0 without any); needs objectives prefetched."""
        objectives = list(self.objectives.all())
        return round(sum(o.progress for o in objectives) / len(objectives)) if objectives else 0


class PlanObjective(models.Model):
    plan = models.ForeignKey(AccountPlan, on_delete=models.CASCADE, related_name="objectives")
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="plan_objectives",
    )
    target_date = models.DateField()
    progress = models.PositiveSmallIntegerField(
        default=0, help_text="Per cent done, 0–100.", validators=[MaxValueValidator(100)]
    )
    notes = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["target_date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="objective_progress_at_most_100"
            )
        ]

    def __str__(self):
        return self.title

    @property
    def is_done(self) -> bool:
        return self.progress >= 100

    def is_overdue(self, today=None) -> bool:
        return not self.is_done and self.target_date < (today or timezone.localdate())
