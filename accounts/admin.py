from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group

from accounts import services
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

    def save_model(self, request, obj, form, change):
        previous = User.objects.filter(pk=obj.pk).values("role", "is_active").first()
        super().save_model(request, obj, form, change)
        if previous is not None:
            # Role changes are audited; deactivating someone ends their sessions and tokens.
            services.user_access_change_record(
                user=obj,
                previous_role=previous["role"],
                previous_active=previous["is_active"],
                actor=request.user,
                request=request,
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

    def save_model(self, request, obj, form, change):
        previous_owner = Account.objects.filter(pk=obj.pk).values_list("owner", flat=True).first()
        super().save_model(request, obj, form, change)
        if previous_owner is not None and previous_owner != obj.owner_id:
            services.account_owner_change_record(
                account=obj, previous_owner_id=previous_owner, actor=request.user, request=request
            )


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
