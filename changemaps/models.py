"""Change-map snapshots: what `changemaps.rules` said about every person and group, per wave.

Snapshots are derived data, global (not per user) and written by
`changemaps.services.changemaps_compute`; pages read them through the account gate
(`changemaps.selectors.*_visible_to`). The natural keys are (wave, contact) and
(wave, dimension, key). A recompute gives new ids to every group row and to the person rows
that changed; a person row that did not change keeps its id.
"""

from django.db import models
from django.db.models import Q

from accounts.models import Account
from changemaps.categories import Category
from contacts.models import Contact
from pulses.models import Wave


class ContactSnapshot(models.Model):
    """One person's category and reason as of one wave (CHANGE_MAP_RULES.md)."""

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="contact_snapshots")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="snapshots")
    # The contact's account when computed, copied so that account pages filter without a join.
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=20, choices=Category)
    previous_category = models.CharField(
        max_length=20,
        choices=Category,
        blank=True,
        help_text="As of the wave before; empty: not on that map.",
    )
    reason = models.CharField(max_length=300)
    last = models.PositiveSmallIntegerField(null=True, blank=True)
    prev = models.PositiveSmallIntegerField(null=True, blank=True)
    delta = models.SmallIntegerField(null=True, blank=True)
    n = models.PositiveSmallIntegerField(help_text="Scores given so far.")
    silent_streak = models.PositiveSmallIntegerField()
    key_person = models.BooleanField()

    class Meta:
        ordering = ["wave", "contact"]
        constraints = [
            models.UniqueConstraint(
                fields=["wave", "contact"], name="one_snapshot_per_wave_contact"
            ),
            models.CheckConstraint(
                condition=Q(last__isnull=True) | Q(last__lte=10), name="snapshot_last_0_to_10"
            ),
        ]
        indexes = [
            # Account pages: one account's people in one wave, by category.
            models.Index(fields=["wave", "account", "category"], name="snapshot_wave_account_cat"),
            # Portfolio pages: everyone in a category in one wave (call lists, counts).
            models.Index(fields=["wave", "category"], name="snapshot_wave_category"),
            # A person's journey over the waves.
            models.Index(fields=["contact", "wave"], name="snapshot_contact_wave"),
        ]

    def __str__(self):
        return f"{self.contact_id} in {self.wave_id}: {self.category}"


class GroupSnapshot(models.Model):
    """The aggregates of one account, territory, segment or owner as of one wave, or of the
    whole portfolio (key 0: every account, for those who see every account)."""

    class Dimension(models.TextChoices):
        ACCOUNT = "account", "Account"
        TERRITORY = "territory", "Territory"
        SEGMENT = "segment", "Segment"
        OWNER = "owner", "Owner"
        PORTFOLIO = "portfolio", "Portfolio"

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="group_snapshots")
    dimension = models.CharField(max_length=10, choices=Dimension)
    key = models.PositiveBigIntegerField(
        help_text="The account, territory, segment or user id; 0: none (the portfolio: 0)."
    )
    label = models.CharField(max_length=200)
    people = models.PositiveIntegerField()
    counts = models.JSONField(help_text="People per category.")
    previous_counts = models.JSONField(help_text="The same people's categories at the wave before.")
    weighted_score = models.FloatField(null=True, blank=True)
    weight = models.FloatField(help_text="Sum of the weights behind weighted_score.")
    participation = models.FloatField(null=True, blank=True, help_text="answered / invited.")
    answered = models.PositiveIntegerField()
    invited = models.PositiveIntegerField()
    pockets = models.JSONField(default=list, blank=True)
    supports = models.JSONField(default=list, blank=True)
    call_list = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["wave", "dimension", "label"]
        constraints = [
            models.UniqueConstraint(
                fields=["wave", "dimension", "key"], name="one_group_snapshot_per_wave_key"
            ),
        ]
        indexes = [
            # A group's trend over the waves.
            models.Index(fields=["dimension", "key", "wave"], name="group_snapshot_trend"),
        ]

    def __str__(self):
        return f"{self.get_dimension_display()} {self.label} in {self.wave_id}"


class ChangeMapState(models.Model):
    """The one row that says whether the snapshots are up to date (see changemaps.services).

    `generation` counts changes to the inputs (responses, waves); the snapshots reflect
    `computed_generation`. A recompute claims the row with a conditional UPDATE of
    `claimed_at`, so two workers never compute at once.
    """

    SINGLETON = 1

    generation = models.PositiveBigIntegerField(default=0)
    computed_generation = models.PositiveBigIntegerField(default=0)
    dirty_since = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    computed_wave = models.ForeignKey(
        Wave, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    duration_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        verbose_name = "change-map state"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="changemap_state_singleton"),
        ]

    def __str__(self):
        return f"Change maps at generation {self.computed_generation} of {self.generation}"

    @property
    def is_dirty(self) -> bool:
        return self.generation > self.computed_generation
