"""Pulses: balanced questionnaires, programmes that send them in waves, and people's answers.

A questionnaire's wording lives in versions; a version is frozen once a wave has used it, so
every answer keeps the exact wording its respondent saw. Invitations carry a personal token
(only its SHA-256 is stored). A response belongs to one contact in one wave, whether they
answered by link or someone on our side recorded it from an interview or a call.
"""

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Segment, Territory
from contacts.models import BuyingRole, Contact

MAX_ANSWER_LENGTH = 5_000
DEFAULT_LANGUAGE = "en"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find_by_token(queryset, token: str):
    """The row of `queryset` whose `token_hash` is this link token's, or None: looked up by
    hash, compared in constant time, and refusing absurd input before hashing it."""
    if not token or len(token) > 100:
        return None
    digest = hash_token(token)
    # Unordered: the hash is unique, and `first()` would compile the model's ordering (joins
    # and all) on every survey request for nothing.
    row = next(iter(queryset.filter(token_hash=digest).order_by()[:1]), None)
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return row


def derive_token(purpose: str, nonce: str) -> str:
    """A link token: HMAC-SHA256 of a random per-link nonce under a server-side key.

    The database keeps the nonce and the token's SHA-256, never the token: a copy of the
    database alone cannot rebuild a working link, yet the server can put the same link in a
    reminder. Rotating SECRET_KEY invalidates outstanding links.
    """
    key = hashlib.sha256(f"rapport-links:{settings.SECRET_KEY}".encode()).digest()
    digest = hmac.new(key, f"{purpose}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class Questionnaire(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.CharField(max_length=500, blank=True)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="one_default_questionnaire",
            )
        ]

    def __str__(self):
        return self.name

    @property
    def current_version(self) -> "QuestionnaireVersion | None":
        return self.versions.order_by("-number").first()


# Frozen versions' questions, (pk, frozen_at) → questions: see `prefetch_questions`.
_FROZEN_QUESTIONS: dict[tuple, tuple] = {}
FROZEN_QUESTIONS_KEPT = 32


class QuestionnaireVersion(models.Model):
    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    frozen_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set when a wave first uses it; frozen versions never change.",
    )

    class Meta:
        ordering = ["questionnaire", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "number"], name="version_number_unique"
            )
        ]

    def __str__(self):
        return f"{self.questionnaire} v{self.number}"

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None

    def prefetch_questions(self) -> None:
        """Load `questions` once for this instance, as `prefetch_related` would.

        A frozen version's questions come from a per-process cache: frozen versions never change
        (a new wording is a new version), and every survey page and submit reads them. Keyed by
        (pk, frozen_at), so a version is never confused with another that reused its pk.
        """
        if "questions" in getattr(self, "_prefetched_objects_cache", {}):
            return
        key = (self.pk, self.frozen_at)
        cached = _FROZEN_QUESTIONS.get(key) if self.is_frozen else None
        if cached is None:
            models.prefetch_related_objects([self], "questions")
            if self.is_frozen:
                if len(_FROZEN_QUESTIONS) >= FROZEN_QUESTIONS_KEPT:
                    _FROZEN_QUESTIONS.clear()  # versions in use are few: start afresh
                _FROZEN_QUESTIONS[key] = tuple(self.questions.all())
            return
        # What prefetch_related leaves behind: the manager's queryset with its results filled in.
        questions = self.questions.get_queryset()
        questions._result_cache = list(cached)
        questions._prefetch_done = True
        self._prefetched_objects_cache = getattr(self, "_prefetched_objects_cache", {}) | {
            "questions": questions
        }

    def balance_errors(self, questions=None) -> list[str]:
        """Why this set of questions is not a balanced pulse (empty when it is)."""
        questions = list(self.questions.all()) if questions is None else questions
        errors = []
        scores = [q for q in questions if q.kind == Question.Kind.RELATIONSHIP_SCORE]
        if len(scores) != 1:
            errors.append(
                "A pulse needs exactly one relationship score question (0–10); "
                f"this one has {len(scores)}."
            )
        purposes = {q.purpose for q in questions if q.kind == Question.Kind.OPEN_TEXT}
        if Question.Purpose.KEEP_DOING not in purposes:
            errors.append(
                "A balanced pulse asks what goes well: add an open “what should we keep doing?” question."
            )
        if Question.Purpose.IMPROVE not in purposes:
            errors.append(
                "A balanced pulse asks what to improve: add an open “what one thing should we change?” question."
            )
        return errors


class Question(models.Model):
    class Kind(models.TextChoices):
        RELATIONSHIP_SCORE = "score", "Relationship score (0–10)"
        RATING = "rating", "Rating (1–5)"
        SINGLE_CHOICE = "choice", "Single choice"
        OPEN_TEXT = "text", "Open text"

    class Purpose(models.TextChoices):
        KEEP_DOING = "keep_doing", "What goes well"
        IMPROVE = "improve", "What to improve"
        OTHER = "other", "Other"

    RANGES = {Kind.RELATIONSHIP_SCORE: (0, 10), Kind.RATING: (1, 5)}

    version = models.ForeignKey(
        QuestionnaireVersion, on_delete=models.CASCADE, related_name="questions"
    )
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=10, choices=Kind)
    purpose = models.CharField(max_length=20, choices=Purpose, default=Purpose.OTHER)
    key = models.SlugField(max_length=50, help_text="Stable name across versions, e.g. keep_doing.")
    required = models.BooleanField(default=True)
    # Wording per language: {"en": "…", "de": "…"}. English is always present.
    prompt = models.JSONField()
    # Single choice only: [{"value": "yes", "label": {"en": "Yes", …}}, …]
    choices = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "position"], name="question_position_unique"
            ),
            models.UniqueConstraint(fields=["version", "key"], name="question_key_unique"),
        ]

    def __str__(self):
        return self.text(DEFAULT_LANGUAGE)

    def text(self, language: str) -> str:
        return self.prompt.get(language) or self.prompt.get(DEFAULT_LANGUAGE, "")

    def choice_options(self, language: str) -> list[tuple[str, str]]:
        return [
            (c["value"], c["label"].get(language) or c["label"].get(DEFAULT_LANGUAGE, c["value"]))
            for c in self.choices
        ]

    def clean(self):
        if DEFAULT_LANGUAGE not in (self.prompt or {}):
            raise ValidationError({"prompt": "Every question needs its English wording."})
        if self.kind == self.Kind.SINGLE_CHOICE and not self.choices:
            raise ValidationError({"choices": "A single-choice question needs choices."})
        if self.kind != self.Kind.OPEN_TEXT and self.purpose != self.Purpose.OTHER:
            raise ValidationError(
                {"purpose": "Only open questions ask what goes well or what to improve."}
            )


class PulseProgramme(models.Model):
    class Cadence(models.TextChoices):
        MONTHLY = "monthly", "Monthly"
        QUARTERLY = "quarterly", "Quarterly"
        HALF_YEARLY = "half_yearly", "Half-yearly"

    MONTHS_BETWEEN = {Cadence.MONTHLY: 1, Cadence.QUARTERLY: 3, Cadence.HALF_YEARLY: 6}

    class Signer(models.TextChoices):
        RELATIONSHIP_OWNER = "relationship_owner", "The relationship owner"
        ACCOUNT_OWNER = "account_owner", "The account's key account manager"

    name = models.CharField(max_length=200)
    accounts = models.ManyToManyField(Account, blank=True, related_name="pulse_programmes")
    segment = models.ForeignKey(Segment, null=True, blank=True, on_delete=models.PROTECT)
    territory = models.ForeignKey(Territory, null=True, blank=True, on_delete=models.PROTECT)
    roles = models.ManyToManyField(
        BuyingRole, blank=True, help_text="Only people with one of these roles (empty: everyone)."
    )
    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.PROTECT, related_name="programmes"
    )
    cadence = models.CharField(max_length=20, choices=Cadence, default=Cadence.QUARTERLY)
    open_days = models.PositiveSmallIntegerField(
        default=14, validators=[MinValueValidator(1), MaxValueValidator(90)]
    )
    reminder_days = models.JSONField(
        default=list, blank=True, help_text="Days after sending, e.g. [4, 9]."
    )
    signer = models.CharField(max_length=30, choices=Signer, default=Signer.RELATIONSHIP_OWNER)
    next_wave_on = models.DateField(help_text="When the next wave opens.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        days = self.reminder_days or []
        if not isinstance(days, list) or any(
            not isinstance(d, int) or not 0 < d < self.open_days for d in days
        ):
            raise ValidationError(
                {"reminder_days": f"Reminders are whole days between 1 and {self.open_days - 1}."}
            )
        self.reminder_days = sorted(set(days))

    def following_wave_date(self, after):
        """The opening date one cadence after `after` (same day of month, clamped)."""
        months = self.MONTHS_BETWEEN[self.cadence]
        month_index = after.month - 1 + months
        year, month = after.year + month_index // 12, month_index % 12 + 1
        for day in (after.day, 30, 29, 28):
            try:
                return after.replace(year=year, month=month, day=day)
            except ValueError:
                continue
        raise AssertionError("unreachable")


class Wave(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    programme = models.ForeignKey(
        PulseProgramme,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="waves",
        help_text="Empty for waves imported from history.",
    )
    name = models.CharField(max_length=200)
    questionnaire_version = models.ForeignKey(
        QuestionnaireVersion, on_delete=models.PROTECT, related_name="waves"
    )
    opens_on = models.DateField()
    closes_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status, default=Status.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-opens_on", "name"]
        constraints = [
            # Two beat processes opening the same wave collide here instead of sending twice.
            models.UniqueConstraint(
                fields=["programme", "opens_on"], name="one_wave_per_programme_date"
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(programme__isnull=True),
                name="historic_wave_name_unique",
            ),
        ]
        indexes = [models.Index(fields=["status", "closes_at"])]

    def __str__(self):
        return self.name

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN and timezone.now() < self.closes_at


class InvitationQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(contact__account__in=Account.objects.visible_to(user))


class Invitation(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        BOUNCED = "bounced", "Bounced"
        SKIPPED = "skipped", "Not sent"

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="invitations")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="invitations")
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    token_nonce = models.CharField(max_length=32, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    last_reminded_at = models.DateTimeField(null=True, blank=True)
    first_opened_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["wave", "contact__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["wave", "contact"], name="one_invitation_per_wave_contact"
            )
        ]
        indexes = [models.Index(fields=["status"])]

    def __str__(self):
        return f"{self.contact} in {self.wave}"

    def issue_token(self) -> str:
        """Give this invitation its personal link (256 bits). Call before saving."""
        self.token_nonce = secrets.token_hex(16)
        token = self.link_token()
        self.token_hash = hash_token(token)
        return token

    def link_token(self) -> str:
        """The token of this invitation's personal link, the same for the invitation and reminders."""
        return derive_token("pulse", self.token_nonce)

    def get_survey_url(self) -> str:
        return settings.RAPPORT_SITE_URL.rstrip("/") + reverse(
            "pulses:survey", args=[self.link_token()]
        )

    @classmethod
    def from_token(cls, token: str) -> "Invitation | None":
        """The invitation a link token belongs to, or None (`find_by_token`)."""
        return find_by_token(
            # With its response, if any: a submit without one need not look it up again.
            cls.objects.select_related(
                "wave__questionnaire_version", "contact__account", "signer", "response"
            ),
            token,
        )

    @property
    def is_answerable(self) -> bool:
        return self.wave.is_open


class ResponseQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(contact__account__in=Account.objects.visible_to(user))


class Response(models.Model):
    class Source(models.TextChoices):
        SURVEY = "survey", "Answered by link"
        INTERVIEW = "interview", "Interview"
        CALL = "call", "Call"
        WORKSHOP = "workshop", "Workshop"
        IMPORT = "import", "Imported history"

    wave = models.ForeignKey(Wave, on_delete=models.PROTECT, related_name="responses")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="responses")
    invitation = models.OneToOneField(
        Invitation, null=True, blank=True, on_delete=models.SET_NULL, related_name="response"
    )
    source = models.CharField(max_length=10, choices=Source, default=Source.SURVEY)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    language = models.CharField(max_length=10, default=DEFAULT_LANGUAGE)
    # The relationship score, copied from its answer: change maps read millions of these.
    score = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(10)]
    )
    submitted_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ResponseQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["wave", "contact"], name="one_response_per_wave_contact"
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__lte=10), name="score_0_to_10"
            ),
        ]
        indexes = [models.Index(fields=["contact", "wave"])]

    def __str__(self):
        return f"{self.contact} in {self.wave}"

    def answer_for(self, purpose: str) -> str:
        for answer in self.answers.all():
            if answer.question.purpose == purpose:
                return answer.text
        return ""


class Answer(models.Model):
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    number = models.SmallIntegerField(null=True, blank=True)
    text = models.TextField(blank=True, max_length=MAX_ANSWER_LENGTH)
    choice = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["question__position"]
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="one_answer_per_question")
        ]

    def __str__(self):
        return f"{self.question.key}: {self.number if self.number is not None else self.text or self.choice}"


class Unsubscribe(models.Model):
    """A contact's one-click opt-out from an email, kept as evidence of when and how."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="unsubscribes")
    invitation = models.ForeignKey(
        Invitation, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    method = models.CharField(max_length=20, default="link")

    class Meta:
        ordering = ["-at"]

    def __str__(self):
        return f"{self.contact} unsubscribed {self.at:%Y-%m-%d}"


STALE_CLAIM = timedelta(minutes=10)
