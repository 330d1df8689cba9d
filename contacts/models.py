"""The people in each account: who's who, how they connect, and who on our side owns them.

Contacts are attributed, never anonymous, and never deleted: someone who leaves is marked as
left so their story remains. Every change is kept (django-simple-history) with who and when.
"""

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from accounts.models import Account, AccountLogEntry

ONE_TO_FIVE = [MinValueValidator(1), MaxValueValidator(5)]
TIME_ZONES = sorted(zoneinfo.available_timezones())


class BuyingRole(models.Model):
    """The part a person plays in buying decisions. A fixed list, created by a migration."""

    class Code(models.TextChoices):
        DECISION_MAKER = "decision_maker", "Decision maker"
        BUDGET_HOLDER = "budget_holder", "Budget holder"
        CHAMPION = "champion", "Champion"
        INFLUENCER = "influencer", "Influencer"
        GATEKEEPER = "gatekeeper", "Gatekeeper"
        DETRACTOR = "detractor", "Detractor"
        USER = "user", "User"
        TECHNICAL_EVALUATOR = "technical_evaluator", "Technical evaluator"

    # Key people: the change maps watch them more closely (see shared CHANGE_MAP_RULES.md).
    KEY_CODES = frozenset({Code.DECISION_MAKER, Code.BUDGET_HOLDER, Code.CHAMPION})

    code = models.CharField(max_length=30, primary_key=True, choices=Code)
    label = models.CharField(max_length=50)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]

    def __str__(self):
        return self.label


class ContactQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Contacts of the accounts `user` may see: the account gate, applied through the account."""
        return self.filter(account__in=Account.objects.visible_to(user))

    def active(self):
        return self.exclude(status=Contact.Status.LEFT)


class Contact(models.Model):
    class Seniority(models.TextChoices):
        C_LEVEL = "c_level", "C-level"
        VP = "vp", "VP / Head of"
        DIRECTOR = "director", "Director"
        MANAGER = "manager", "Manager"
        SPECIALIST = "specialist", "Specialist"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        CHANGED_ROLE = "changed_role", "Changed role"
        LEFT = "left", "Left the company"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone"
        VIDEO = "video", "Video call"
        IN_PERSON = "in_person", "In person"

    class Frequency(models.TextChoices):
        WEEKLY = "weekly", "Weekly"
        MONTHLY = "monthly", "Monthly"
        QUARTERLY = "quarterly", "Quarterly"
        HALF_YEARLY = "half_yearly", "Half-yearly"

    class Consent(models.TextChoices):
        OPTED_IN = "opted_in", "Opted in"
        OPTED_OUT = "opted_out", "Opted out"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField(max_length=254)
    phone = models.CharField(max_length=50, blank=True)
    job_title = models.CharField("job title", max_length=200, blank=True)
    department = models.CharField(max_length=100, blank=True)
    seniority = models.CharField(max_length=20, choices=Seniority, blank=True)
    location = models.CharField(max_length=200, blank=True)
    time_zone = models.CharField(max_length=64, blank=True, choices=[(tz, tz) for tz in TIME_ZONES])
    preferred_language = models.CharField(max_length=10, choices=settings.LANGUAGES, default="en")
    buying_roles = models.ManyToManyField(BuyingRole, blank=True, related_name="contacts")
    budget_amount = models.DecimalField(
        "budget they control",
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    budget_currency = models.CharField(max_length=3, blank=True, help_text="ISO code, e.g. EUR.")
    influence = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=ONE_TO_FIVE, help_text="1 (little) to 5 (decisive)."
    )
    status = models.CharField(max_length=20, choices=Status, default=Status.ACTIVE)
    left_on = models.DateField(null=True, blank=True)
    reports_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="direct_reports"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_contacts",
        help_text="Who on our side owns this relationship.",
    )
    preferred_channel = models.CharField(max_length=20, choices=Channel, blank=True)
    contact_frequency = models.CharField(max_length=20, choices=Frequency, blank=True)
    pulse_consent = models.CharField(max_length=20, choices=Consent, default=Consent.OPTED_IN)
    pulse_consent_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True, max_length=10_000)
    log_mentions = models.ManyToManyField(
        AccountLogEntry, blank=True, related_name="mentioned_contacts"
    )
    erased_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When their personal data was erased (contacts.privacy.contact_erase).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # What erasure blanks (contacts.privacy.erasure) and nobody may fill in again afterwards:
    # re-entering an erased person's details would undo their request. Consent stays "opted out".
    PERSONAL_FIELDS = ("name", "email", "phone", "job_title", "location", "time_zone", "notes")
    LOCKED_AFTER_ERASURE = (*PERSONAL_FIELDS, "pulse_consent")

    # erased_at: the erasure itself is one history entry ("Personal data erased"), with its reason.
    history = HistoricalRecords(
        m2m_fields=[buying_roles], excluded_fields=["updated_at", "erased_at"]
    )
    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "account", Lower("email"), name="contact_email_unique_in_account"
            ),
            models.CheckConstraint(
                condition=Q(influence__isnull=True) | Q(influence__gte=1, influence__lte=5),
                name="contact_influence_1_to_5",
            ),
            models.CheckConstraint(
                condition=~Q(reports_to=F("pk")), name="contact_not_reporting_to_self"
            ),
        ]
        indexes = [models.Index(fields=["account", "status"])]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("contacts:detail", args=[self.pk])

    @property
    def has_left(self) -> bool:
        return self.status == self.Status.LEFT

    @property
    def role_codes(self) -> set[str]:
        return {role.code for role in self.buying_roles.all()}

    def is_key_person(self, role_codes: set[str] | None = None) -> bool:
        """Decision maker, budget holder or champion, or influence 4–5 (CHANGE_MAP_RULES.md)."""
        codes = self.role_codes if role_codes is None else role_codes
        return bool(codes & BuyingRole.KEY_CODES) or (self.influence or 0) >= 4

    def clean(self):
        errors = {}
        if self.email:
            self.email = self.email.strip().lower()
        if self.reports_to_id:
            try:
                errors.update(self.reports_to_errors(self.reports_to))
            except ValidationError as error:
                errors["reports_to"] = error.messages
        if self.budget_currency:
            self.budget_currency = self.budget_currency.upper()
            if len(self.budget_currency) != 3 or not self.budget_currency.isalpha():
                errors["budget_currency"] = "Use a three-letter currency code, e.g. EUR."
        if self.status == self.Status.LEFT and self.left_on is None:
            self.left_on = timezone.localdate()
        if self.status != self.Status.LEFT:
            self.left_on = None
        if errors:
            raise ValidationError(errors)

    def reports_to_errors(self, manager: "Contact | None") -> dict:
        """Why `manager` cannot be this contact's manager, or {} when they can."""
        if manager is None:
            return {}
        if self.pk and manager.pk == self.pk:
            return {"reports_to": "A person cannot report to themselves."}
        if manager.account_id != self.account_id:
            return {"reports_to": "They must be in the same account."}
        seen = {self.pk}
        current = manager
        while current is not None:
            if current.pk in seen:
                return {
                    "reports_to": f"That would make a reporting loop: {manager.name} already "
                    f"reports (directly or indirectly) to {self.name}."
                }
            seen.add(current.pk)
            current = current.reports_to
        return {}


class InternalRelationship(models.Model):
    """Someone on our side who knows this contact, and how well: coverage beyond the owner."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="relationships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_relationships"
    )
    strength = models.PositiveSmallIntegerField(default=3, validators=ONE_TO_FIVE)
    notes = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-strength", "user__full_name"]
        constraints = [
            models.UniqueConstraint(fields=["contact", "user"], name="relationship_unique"),
            models.CheckConstraint(
                condition=Q(strength__gte=1, strength__lte=5), name="relationship_strength_1_to_5"
            ),
        ]

    def __str__(self):
        return f"{self.user} ↔ {self.contact} ({self.strength}/5)"


class InfluenceLink(models.Model):
    """How two people in the same account affect each other: the second layer of the map."""

    class Kind(models.TextChoices):
        INFLUENCES = "influences", "Influences"
        ALLIES_WITH = "allies_with", "Allies with"
        IN_CONFLICT_WITH = "in_conflict_with", "In conflict with"

    source = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(max_length=20, choices=Kind, default=Kind.INFLUENCES)
    strength = models.PositiveSmallIntegerField(default=3, validators=ONE_TO_FIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "target", "kind"], name="link_unique"),
            models.CheckConstraint(condition=~Q(source=F("target")), name="link_not_to_self"),
            models.CheckConstraint(
                condition=Q(strength__gte=1, strength__lte=5), name="link_strength_1_to_5"
            ),
        ]

    def __str__(self):
        return f"{self.source} {self.get_kind_display().lower()} {self.target}"

    def clean(self):
        if self.source_id and self.source_id == self.target_id:
            raise ValidationError({"target": "A person cannot be linked to themselves."})
        if self.source_id and self.target_id and self.source.account_id != self.target.account_id:
            raise ValidationError({"target": "Both people must be in the same account."})


class Handover(models.Model):
    """A record of one person's relationships moving to another (staff leaving, new territory)."""

    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="handovers_given"
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="handovers_received"
    )
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="handovers_performed"
    )
    performed_at = models.DateTimeField(default=timezone.now)
    contacts_moved = models.PositiveIntegerField(default=0)
    relationships_moved = models.PositiveIntegerField(default=0)
    accounts_moved = models.PositiveIntegerField(default=0)
    memberships_moved = models.PositiveIntegerField(default=0)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-performed_at"]

    def __str__(self):
        return f"{self.from_user} → {self.to_user} on {self.performed_at:%Y-%m-%d}"
