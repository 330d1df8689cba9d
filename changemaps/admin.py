from django.contrib import admin

from changemaps.models import ChangeMapState, ContactSnapshot, GroupSnapshot


class ReadOnlyAdmin(admin.ModelAdmin):
    """Snapshots are computed (manage.py compute_changemaps), never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ContactSnapshot)
class ContactSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["contact", "account", "wave", "category", "reason", "last", "delta"]
    list_filter = ["category", "key_person", "wave"]
    list_select_related = ["contact", "account", "wave"]
    search_fields = ["contact__name", "contact__email", "account__name"]
    raw_id_fields = ["contact", "account", "wave"]


@admin.register(GroupSnapshot)
class GroupSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["label", "dimension", "wave", "people", "weighted_score", "participation"]
    list_filter = ["dimension", "wave"]
    list_select_related = ["wave"]
    search_fields = ["label"]


@admin.register(ChangeMapState)
class ChangeMapStateAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "dirty_since", "claimed_at", "computed_at", "duration_seconds"]
