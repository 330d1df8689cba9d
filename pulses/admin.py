from django.contrib import admin

from pulses.models import (
    Answer,
    Invitation,
    PulseProgramme,
    Question,
    Questionnaire,
    QuestionnaireVersion,
    Response,
    Wave,
)


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 0
    fields = ("position", "key", "kind", "purpose", "required", "prompt", "choices")

    def has_change_permission(self, request, obj=None):
        # Frozen versions are history: answers point at their exact wording.
        return super().has_change_permission(request, obj) and not (obj and obj.is_frozen)

    has_add_permission = has_change_permission
    has_delete_permission = has_change_permission


@admin.register(QuestionnaireVersion)
class QuestionnaireVersionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "created_at", "frozen_at")
    readonly_fields = ("frozen_at",)
    inlines = [QuestionInline]


@admin.register(Questionnaire)
class QuestionnaireAdmin(admin.ModelAdmin):
    list_display = ("name", "is_default", "created_at")


@admin.register(PulseProgramme)
class PulseProgrammeAdmin(admin.ModelAdmin):
    list_display = ("name", "cadence", "questionnaire", "next_wave_on", "is_active")
    list_filter = ("cadence", "is_active")
    filter_horizontal = ("accounts", "roles")


@admin.register(Wave)
class WaveAdmin(admin.ModelAdmin):
    list_display = ("name", "programme", "opens_on", "closes_at", "status")
    list_filter = ("status",)
    date_hierarchy = "opens_on"


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("contact", "wave", "status", "sent_at", "reminders_sent", "last_error")
    list_filter = ("status",)
    search_fields = ("contact__name", "contact__email")
    raw_id_fields = ("contact", "wave", "signer")
    readonly_fields = ("token_hash", "token_nonce", "message_id")


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0
    readonly_fields = ("question", "number", "text", "choice")
    can_delete = False


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ("contact", "wave", "score", "source", "submitted_at")
    list_filter = ("source",)
    search_fields = ("contact__name", "contact__email")
    raw_id_fields = ("contact", "wave", "invitation", "recorded_by")
    inlines = [AnswerInline]
