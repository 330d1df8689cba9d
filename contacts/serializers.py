"""API representations of contacts (roles, owner, reports-to, relationships, influence links)."""

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import ActiveUserField, VisibleAccountField
from contacts.models import TIME_ZONES, BuyingRole, Contact, InfluenceLink, InternalRelationship
from core.api.serializers import StrictFieldsMixin, UserRefSerializer


@extend_schema_field(OpenApiTypes.INT)
class VisibleContactField(serializers.PrimaryKeyRelatedField):
    """A contact id, among the people of the accounts the requesting user may see."""

    def get_queryset(self):
        return Contact.objects.visible_to(self.context["request"].user)


class RelationshipSerializer(serializers.ModelSerializer):
    user = UserRefSerializer(read_only=True)

    class Meta:
        model = InternalRelationship
        fields = ["user", "strength", "notes"]
        read_only_fields = fields


class InfluenceLinkSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """How two people of the same account affect each other."""

    source = VisibleContactField()
    target = VisibleContactField()

    class Meta:
        model = InfluenceLink
        fields = ["id", "source", "target", "kind", "strength", "created_at"]
        read_only_fields = ["id", "created_at"]
        # Duplicates are refused by the model's constraint (a 400 from full_clean).
        validators = []

    def validate_strength(self, value):
        if not 1 <= value <= 5:
            raise serializers.ValidationError("Choose a strength from 1 to 5.")
        return value


class ContactSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A person in a client account. `account` is set on creation and never changes."""

    account = VisibleAccountField(help_text="The account's id (set on creation only).")
    roles = serializers.SlugRelatedField(
        source="buying_roles",
        slug_field="code",
        many=True,
        queryset=BuyingRole.objects.all(),
        required=False,
        help_text="Buying role codes, e.g. decision_maker, champion.",
    )
    owner = UserRefSerializer(read_only=True, allow_null=True)
    owner_id = ActiveUserField(
        source="owner",
        write_only=True,
        allow_null=True,
        required=False,
        help_text="Who on our side owns the relationship (a user id).",
    )
    reports_to = VisibleContactField(
        allow_null=True, required=False, help_text="Their manager: a person of the same account."
    )
    influence = serializers.IntegerField(
        min_value=1, max_value=5, allow_null=True, required=False, help_text="1 (little) to 5."
    )
    time_zone = serializers.ChoiceField(
        choices=TIME_ZONES, allow_blank=True, required=False, help_text="e.g. Europe/Berlin."
    )
    preferred_language = serializers.ChoiceField(
        choices=[code for code, _name in settings.LANGUAGES], required=False
    )
    relationships = RelationshipSerializer(many=True, read_only=True)
    links_out = InfluenceLinkSerializer(many=True, read_only=True)
    links_in = InfluenceLinkSerializer(many=True, read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id",
            "account",
            "name",
            "email",
            "phone",
            "job_title",
            "department",
            "seniority",
            "location",
            "time_zone",
            "preferred_language",
            "roles",
            "budget_amount",
            "budget_currency",
            "influence",
            "status",
            "left_on",
            "reports_to",
            "owner",
            "owner_id",
            "preferred_channel",
            "contact_frequency",
            "pulse_consent",
            "pulse_consent_at",
            "notes",
            "relationships",
            "links_out",
            "links_in",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "pulse_consent", "pulse_consent_at", "created_at", "updated_at"]
        # One address per account: checked by the model (Contact.full_clean in the services).
        validators = []

    def validate_account(self, account):
        if self.instance is not None and account.pk != self.instance.account_id:
            raise serializers.ValidationError("People do not move between accounts.")
        return account

    def validate(self, attrs):
        account = attrs.get("account") or getattr(self.instance, "account", None)
        email = attrs.get("email")
        if account is not None and email:
            clash = Contact.objects.filter(account=account, email__iexact=email.strip())
            if self.instance is not None:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                raise serializers.ValidationError(
                    {"email": "Someone in this account already has this address."}
                )
        return attrs
