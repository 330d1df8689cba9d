"""API representations of users, accounts (with their team) and account log entries."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Account, AccountLogEntry, AccountMembership, Segment, Territory, User
from core.api.serializers import StrictFieldsMixin, UserRefSerializer


@extend_schema_field(OpenApiTypes.INT)
class VisibleAccountField(serializers.PrimaryKeyRelatedField):
    """An account id, among those the requesting user may see (others "do not exist")."""

    def get_queryset(self):
        return Account.objects.visible_to(self.context["request"].user)


@extend_schema_field(OpenApiTypes.INT)
class ActiveUserField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return User.objects.filter(is_active=True)


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "full_name", "job_title", "role", "is_active"]
        read_only_fields = fields


class MembershipSerializer(serializers.ModelSerializer):
    user = UserRefSerializer(read_only=True)

    class Meta:
        model = AccountMembership
        fields = ["user", "responsibility", "added_at"]
        read_only_fields = fields


class AccountSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    owner = UserRefSerializer(read_only=True)
    owner_id = ActiveUserField(
        source="owner", write_only=True, help_text="The key account manager (a user id)."
    )
    team = MembershipSerializer(source="memberships", many=True, read_only=True)
    team_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        write_only=True,
        required=False,
        max_length=200,
        help_text="User ids of the team (replaces the whole team; the owner is never listed).",
    )
    segment = serializers.SlugRelatedField(
        slug_field="name", queryset=Segment.objects.all(), allow_null=True, required=False
    )
    territory = serializers.SlugRelatedField(
        slug_field="name", queryset=Territory.objects.all(), allow_null=True, required=False
    )
    parent = VisibleAccountField(allow_null=True, required=False)
    seasonal_peak_months = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=12),
        required=False,
        max_length=12,
        help_text="Months (1–12) when the client is at its busiest.",
    )

    class Meta:
        model = Account
        fields = [
            "id",
            "name",
            "tier",
            "status",
            "segment",
            "territory",
            "industry",
            "parent",
            "owner",
            "owner_id",
            "team",
            "team_ids",
            "seasonal_peak_months",
            "international_presence",
            "markets_entering",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate_name(self, value):
        name = value.strip()
        clash = Account.objects.filter(name__iexact=name)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError("Another account already has this name.")
        return name

    def validate_team_ids(self, value):
        users = list(User.objects.filter(pk__in=set(value), is_active=True))
        missing = sorted(set(value) - {user.pk for user in users})
        if missing:
            raise serializers.ValidationError(f"No active users with ids {missing}.")
        return users


class AccountLogEntrySerializer(StrictFieldsMixin, serializers.ModelSerializer):
    author = UserRefSerializer(read_only=True)
    mentioned_contacts = serializers.SerializerMethodField()
    mentioned_contact_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        write_only=True,
        required=False,
        max_length=100,
        help_text="Ids of people of this account the entry is about.",
    )

    class Meta:
        model = AccountLogEntry
        fields = [
            "id",
            "account",
            "kind",
            "occurred_on",
            "title",
            "body",
            "author",
            "mentioned_contacts",
            "mentioned_contact_ids",
            "created_at",
        ]
        read_only_fields = ["id", "account", "created_at"]

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_mentioned_contacts(self, entry) -> list[int]:
        return sorted(contact.pk for contact in entry.mentioned_contacts.all())

    def validate_mentioned_contact_ids(self, value):
        account = self.context["account"]
        contacts = list(account.contacts.filter(pk__in=set(value)))
        missing = sorted(set(value) - {contact.pk for contact in contacts})
        if missing:
            raise serializers.ValidationError(f"No people with ids {missing} in this account.")
        return contacts
