from django.contrib import admin

from actions.models import (
    AccountPlan,
    Acknowledgement,
    AcknowledgementEmail,
    Action,
    ActionUpdate,
    AdvocacyCandidate,
    FeedbackReview,
    PlanObjective,
    SummaryMailing,
)


class AcknowledgementEmailInline(admin.TabularInline):
    model = AcknowledgementEmail
    extra = 0
    can_delete = False
    fields = ("kind", "status", "attempts", "queued_at", "claimed_at", "sent_at", "last_error")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Acknowledgement)
class AcknowledgementAdmin(admin.ModelAdmin):
    list_display = ("contact", "account", "owner", "status", "urgent", "received_at", "due_at")
    list_filter = ("status", "urgent")
    search_fields = ("contact__name", "account__name")
    raw_id_fields = ("response", "contact", "account", "owner", "acknowledged_by")
    inlines = [AcknowledgementEmailInline]


class ActionUpdateInline(admin.TabularInline):
    model = ActionUpdate
    extra = 0
    fields = ("at", "author", "status", "text")
    readonly_fields = fields


@admin.register(Action)
class ActionAdmin(admin.ModelAdmin):
    list_display = ("title", "account", "owner", "status", "is_focus", "cycle_start", "due_on")
    list_filter = ("status", "is_focus", "priority")
    search_fields = ("title", "account__name")
    raw_id_fields = ("account", "owner", "source_response", "source_contact", "source_wave")
    inlines = [ActionUpdateInline]


@admin.register(FeedbackReview)
class FeedbackReviewAdmin(admin.ModelAdmin):
    list_display = ("__str__", "account", "fairness", "nature", "author", "updated_at")
    list_filter = ("fairness", "nature")
    raw_id_fields = ("account", "wave", "response", "author")


@admin.register(AdvocacyCandidate)
class AdvocacyCandidateAdmin(admin.ModelAdmin):
    list_display = ("contact", "account", "kind", "consent", "consent_recorded_at")
    list_filter = ("kind", "consent")
    raw_id_fields = ("account", "contact", "response", "consent_recorded_by", "created_by")


class PlanObjectiveInline(admin.TabularInline):
    model = PlanObjective
    extra = 0
    raw_id_fields = ("owner",)


@admin.register(AccountPlan)
class AccountPlanAdmin(admin.ModelAdmin):
    list_display = ("title", "account", "horizon_years", "starts_on")
    raw_id_fields = ("account", "created_by")
    inlines = [PlanObjectiveInline]


@admin.register(SummaryMailing)
class SummaryMailingAdmin(admin.ModelAdmin):
    list_display = ("account", "sent_on", "sent_by")
    raw_id_fields = ("account", "sent_by")
