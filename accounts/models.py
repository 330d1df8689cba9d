"""Users, roles and strategic accounts: who may see which account is decided here, once."""

import calendar
import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone


class Role(models.TextChoices):
    ADMINISTRATOR = "admin", "Administrator"
    EXECUTIVE = "executive", "Executive"
    ACCOUNT_MANAGER = "account_manager", "Account manager"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        # Logins are e-mail addresses, which people type in any case.
        return self.get(email__iexact=username)

    def create_user(self, email, password=None, **fields):
        if not email:
            raise ValueError("Users need an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.setdefault("role", Role.ADMINISTRATOR)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser):
    """A person on the supplier's side. What they may do follows from their role alone."""

    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150)
    job_title = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    role = models.CharField(max_length=20, choices=Role, default=Role.ACCOUNT_MANAGER)
    is_active = models.BooleanField(
        default=True, help_text="Deactivate people who leave instead of deleting them."
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self):
        return self.full_name or self.email

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def is_administrator(self) -> bool:
        return self.role == Role.ADMINISTRATOR

    @property
    def is_executive(self) -> bool:
        return self.role == Role.EXECUTIVE

    @property
    def sees_all_accounts(self) -> bool:
        return self.role in (Role.ADMINISTRATOR, Role.EXECUTIVE)

    # Django admin and permission checks: administrators may do everything, nobody else anything.
    @property
    def is_staff(self) -> bool:
        return self.is_active and self.is_administrator

    @property
    def is_superuser(self) -> bool:
        return self.is_staff

    def has_perm(self, perm, obj=None) -> bool:
        return self.is_staff

    def has_perms(self, perm_list, obj=None) -> bool:
        return self.is_staff

    def has_module_perms(self, app_label) -> bool:
        return self.is_staff


class Segment(models.Model):
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Territory(models.Model):
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "territories"

    def __str__(self):
        return self.name


class AccountQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The one gate: the accounts `user` may see. Everything else filters through it."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.sees_all_accounts:
            return self.all()
        on_team = AccountMembership.objects.filter(account=OuterRef("pk"), user=user)
        return self.filter(Q(owner=user) | Q(Exists(on_team)))


class Account(models.Model):
    class Tier(models.TextChoices):
        STRATEGIC = "strategic", "Strategic"
        KEY = "key", "Key"
        GROWTH = "growth", "Growth"

    class Status(models.TextChoices):
        PROSPECT = "prospect", "Prospect"
        ACTIVE = "active", "Active"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    MONTHS = [(m, calendar.month_name[m]) for m in range(1, 13)]

    name = models.CharField(max_length=200)
    tier = models.CharField(max_length=20, choices=Tier, default=Tier.KEY)
    segment = models.ForeignKey(
        Segment, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts"
    )
    territory = models.ForeignKey(
        Territory, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts"
    )
    industry = models.CharField(max_length=100, blank=True)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="For a regional account: the global account it belongs to.",
    )
    status = models.CharField(max_length=20, choices=Status, default=Status.ACTIVE)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_accounts",
        help_text="The key account manager.",
    )
    team = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="AccountMembership",
        related_name="team_accounts",
        blank=True,
    )
    # What makes this account unique.
    seasonal_peak_months = models.JSONField(
        default=list, blank=True, help_text="Months (1–12) when the client is at its busiest."
    )
    international_presence = models.CharField(
        max_length=500, blank=True, help_text="Countries or regions where the client operates."
    )
    markets_entering = models.CharField(
        max_length=500, blank=True, help_text="Markets the client is entering."
    )
    notes = models.TextField(blank=True, max_length=10_000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AccountQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="account_name_ci_unique"),
            models.CheckConstraint(
                condition=~Q(parent=models.F("pk")), name="account_not_its_own_parent"
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("accounts:detail", args=[self.pk])

    def clean(self):
        months = self.seasonal_peak_months or []
        if not isinstance(months, list) or any(
            not isinstance(m, int) or not 1 <= m <= 12 for m in months
        ):
            raise ValidationError({"seasonal_peak_months": "Months must be numbers from 1 to 12."})
        self.seasonal_peak_months = sorted(set(months))
        if self.parent_id and self.pk:
            ancestor, seen = self.parent, set()
            while ancestor is not None and ancestor.pk not in seen:
                if ancestor.pk == self.pk:
                    raise ValidationError(
                        {"parent": "An account cannot sit below itself or one of its children."}
                    )
                seen.add(ancestor.pk)
                ancestor = ancestor.parent

    @property
    def seasonal_peak_month_names(self) -> list[str]:
        names = dict(self.MONTHS)
        return [names[m] for m in self.seasonal_peak_months if m in names]

    def can_edit(self, user) -> bool:
        """Administrators and the account's owner edit an account; the team only reads it."""
        return bool(user.is_active and (user.is_administrator or self.owner_id == user.pk))

    def can_contribute(self, user) -> bool:
        """Anyone who may see an account who works on it may add to its log."""
        return bool(
            user.is_active
            and (
                user.is_administrator
                or self.owner_id == user.pk
                or self.memberships.filter(user=user).exists()
            )
        )


class AccountMembership(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_memberships"
    )
    responsibility = models.CharField(
        max_length=100, blank=True, help_text="What they do for this account, e.g. delivery lead."
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user__full_name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "user"], name="membership_unique"),
        ]

    def __str__(self):
        return f"{self.user} on {self.account}"


class AccountLogEntry(models.Model):
    class Kind(models.TextChoices):
        SUCCESS_STORY = "success_story", "Success story"
        CHALLENGE = "challenge", "Challenge"
        MEETING = "meeting", "Meeting"
        NOTE = "note", "Note"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="log_entries")
    kind = models.CharField(max_length=20, choices=Kind, default=Kind.NOTE)
    occurred_on = models.DateField(default=timezone.localdate)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, max_length=10_000)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="account_log_entries",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_on", "-created_at", "-pk"]
        verbose_name = "account log entry"
        verbose_name_plural = "account log entries"
        indexes = [models.Index(fields=["account", "-occurred_on"])]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.title}"


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True, user__is_active=True)

    def authenticate(self, raw: str) -> "ApiToken | None":
        """The live token `raw` belongs to, or None (unknown, revoked, or its user deactivated).

        Looked up by SHA-256 and compared in constant time; the token itself is never stored.
        """
        if not raw or len(raw) > 100 or not raw.startswith(ApiToken.PREFIX):
            return None
        digest = ApiToken.hash(raw)
        token = self.active().select_related("user").filter(key_hash=digest).first()
        if token is None or not hmac.compare_digest(token.key_hash, digest):
            return None
        return token


class ApiToken(models.Model):
    """A personal API token: it acts as its user, with exactly the user's visibility.

    Shown once when created (`rap_` + 43 URL-safe characters, 256 random bits); only its
    SHA-256 is kept, with the first characters to recognise it by in the list.
    """

    PREFIX = "rap_"
    # A busy integration would otherwise write on every request.
    TOUCH_EVERY = timedelta(minutes=1)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What it is for, e.g. “CRM sync”.")
    key_prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "API token"
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self):
        return f"{self.name} ({self.key_prefix}…)"

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @classmethod
    def generate(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def touch(self) -> None:
        """Note that the token was used now, at most once a minute (a conditional UPDATE)."""
        now = timezone.now()
        if self.last_used_at and now - self.last_used_at < self.TOUCH_EVERY:
            return
        ApiToken.objects.filter(pk=self.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - self.TOUCH_EVERY)
        ).update(last_used_at=now)
        self.last_used_at = now
