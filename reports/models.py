"""Reports: balanced-view PDFs generated in the background, and the quotes they may carry.

A `Quote` is a contact's own sentence (from a "what goes well" or "what to improve" answer) that
may appear in a client-facing report only once its author approved it through a personal link
(same token scheme as pulse links: an HMAC of a random nonce, only the hash stored). Internal
reports show every answer; client-facing ones only approved quotes, in the approved wording and
with the credit the author chose.

A `ReportJob` is one request for a PDF: a Celery task claims it, renders it and stores the file in
private storage; downloads go through a view that checks visibility and writes the audit log.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Segment, Territory
from contacts.models import Contact
from pulses.models import Answer, Question, derive_token, find_by_token, hash_token


class QuoteQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(contact__account__in=Account.objects.visible_to(user))

    def approved(self):
        return self.filter(status=Quote.Status.APPROVED)


class Quote(models.Model):
    class Status(models.TextChoices):
        PROPOSED = "proposed", "Not asked yet"
        REQUESTED = "requested", "Waiting for approval"
        APPROVED = "approved", "Approved"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Credit(models.TextChoices):
        NAME_AND_ROLE = "name_and_role", "Name and role"
        ROLE_ONLY = "role_only", "Role only"

    class Side(models.TextChoices):
        GOES_WELL = Question.Purpose.KEEP_DOING.value, "What goes well"
        TO_IMPROVE = Question.Purpose.IMPROVE.value, "What to improve"

    answer = models.OneToOneField(Answer, on_delete=models.CASCADE, related_name="quote")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="quotes")
    side = models.CharField(max_length=20, choices=Side)
    original_text = models.TextField(help_text="The answer as the person wrote it.")
    text = models.TextField(help_text="The wording a client-facing report shows.")
    credit = models.CharField(max_length=20, choices=Credit, default=Credit.NAME_AND_ROLE)
    status = models.CharField(max_length=10, choices=Status, default=Status.PROPOSED)
    token_nonce = models.CharField(max_length=32, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    link_expires_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = QuoteQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status"])]

    def __str__(self):
        return f"{self.contact}: {self.text[:60]}"

    def issue_token(self, *, valid_for: timedelta | None = None) -> str:
        """A fresh personal approval link (256 bits); any earlier link stops working."""
        days = settings.RAPPORT_QUOTE_LINK_DAYS
        self.token_nonce = secrets.token_hex(16)
        token = self.link_token()
        self.token_hash = hash_token(token)
        self.link_expires_at = timezone.now() + (valid_for or timedelta(days=days))
        return token

    def link_token(self) -> str:
        return derive_token("quote", self.token_nonce)

    def get_approval_url(self) -> str:
        return settings.RAPPORT_SITE_URL.rstrip("/") + reverse(
            "reports:quote_approval", args=[self.link_token()]
        )

    @property
    def link_is_live(self) -> bool:
        return bool(
            self.token_hash and self.link_expires_at and self.link_expires_at > timezone.now()
        )

    @classmethod
    def from_token(cls, token: str) -> "Quote | None":
        """The quote a link token belongs to, or None (`find_by_token`)."""
        return find_by_token(
            cls.objects.select_related("contact", "contact__account", "answer__response"), token
        )

    @property
    def credit_line(self) -> str:
        """How the quote is attributed in a client-facing report."""
        role = self.contact.job_title or ""
        if self.credit == self.Credit.ROLE_ONLY:
            return role or "A member of the team"
        return f"{self.contact.name}, {role}" if role else self.contact.name


class ReportJobQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Jobs the user may see: their own, and account reports for accounts they can see."""
        return self.filter(
            models.Q(requested_by=user) | models.Q(account__in=Account.objects.visible_to(user))
        )


def report_storage() -> FileSystemStorage:
    # Private: never under MEDIA_URL. Files only leave through the audited download view.
    return FileSystemStorage(location=settings.RAPPORT_REPORTS_DIR, base_url=None)


class ReportJob(models.Model):
    class Kind(models.TextChoices):
        ACCOUNT = "account", "Account report"
        PORTFOLIO = "portfolio", "Portfolio report"

    class Audience(models.TextChoices):
        CLIENT = "client", "Client-facing (approved quotes only)"
        INTERNAL = "internal", "Internal (everything, with reviews and the call list)"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Generating"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=10, choices=Kind)
    audience = models.CharField(max_length=10, choices=Audience, default=Audience.INTERNAL)
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.CASCADE, related_name="report_jobs"
    )
    segment = models.ForeignKey(Segment, null=True, blank=True, on_delete=models.CASCADE)
    territory = models.ForeignKey(Territory, null=True, blank=True, on_delete=models.CASCADE)
    prepared_for = models.CharField(max_length=200, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_jobs"
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=100, blank=True)
    file = models.FileField(storage=report_storage, upload_to="%Y/%m/", blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True)
    size_bytes = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ReportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="portfolio") | models.Q(account__isnull=False),
                name="account_report_has_account",
            ),
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="progress_max_100"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}: {self.scope_label}"

    def get_absolute_url(self) -> str:
        return reverse("reports:job", args=[self.pk])

    @property
    def scope_label(self) -> str:
        if self.account_id:
            return self.account.name
        if self.segment_id:
            return f"Segment: {self.segment.name}"
        if self.territory_id:
            return f"Territory: {self.territory.name}"
        return "All accounts"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED}

    @property
    def filename(self) -> str:
        label = "client" if self.audience == self.Audience.CLIENT else "internal"
        stem = "".join(c if c.isalnum() else "-" for c in self.scope_label.lower()).strip("-")
        return f"rapport-{stem or 'report'}-{label}-{self.pk}.pdf"
