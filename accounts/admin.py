from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group

from accounts.models import Account, AccountLogEntry, AccountMembership, Segment, Territory, User


class RapportUserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "role")


class RapportUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "job_title", "phone", "role", "is_active")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = RapportUserChangeForm
    add_form = RapportUserCreationForm
    list_display = ("full_name", "email", "role", "is_active", "last_login")
    list_filter = ("role", "is_active")
    search_fields = ("full_name", "email")
    ordering = ("full_name",)
    filter_horizontal = ()
    readonly_fields = ("last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("full_name", "job_title", "phone")}),
        ("Access", {"fields": ("role", "is_active")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "email",
                    "full_name",
                    "role",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )


class AccountMembershipInline(admin.TabularInline):
    model = AccountMembership
    extra = 1
    autocomplete_fields = ("user",)


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("name", "tier", "status", "segment", "territory", "owner")
    list_filter = ("tier", "status", "segment", "territory")
    search_fields = ("name", "industry")
    autocomplete_fields = ("owner", "parent")
    inlines = [AccountMembershipInline]


@admin.register(AccountLogEntry)
class AccountLogEntryAdmin(admin.ModelAdmin):
    list_display = ("title", "account", "kind", "occurred_on", "author")
    list_filter = ("kind",)
    search_fields = ("title", "body", "account__name")
    autocomplete_fields = ("account", "author")


admin.site.register(Segment, search_fields=("name",))
admin.site.register(Territory, search_fields=("name",))

# Rapport's roles live on the user; Django's groups would be a second, confusing source of truth.
admin.site.unregister(Group)
