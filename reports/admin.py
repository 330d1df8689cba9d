from django.contrib import admin

from reports.models import Quote


@admin.register(Quote)
class QuoteAdmin(admin.ModelAdmin):
    """Read-only: only the person approves, rewords or withdraws a quote, through their link;
    the account team asks from the account's Quotes tab."""

    list_display = ("contact", "side", "status", "credit", "requested_at", "decided_at")
    list_filter = ("status", "side", "credit")
    search_fields = ("contact__name", "contact__account__name", "text")
    list_select_related = ("contact",)
    # The nonce and hash stay out: with the server's key the nonce rebuilds a working link.
    fields = (
        "contact",
        "answer",
        "side",
        "status",
        "original_text",
        "text",
        "credit",
        "requested_by",
        "requested_at",
        "link_expires_at",
        "decided_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False
