"""API representations of acknowledgements (read-only) and actions (with their log)."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import ActiveUserField, VisibleAccountField
from actions.models import Acknowledgement, Action, ActionUpdate
from contacts.serializers import VisibleContactField
from core.api.serializers import StrictFieldsMixin, UserRefSerializer
from pulses.models import Response


@extend_schema_field(OpenApiTypes.INT)
class VisibleResponseField(serializers.PrimaryKeyRelatedField):
    """A response id, among the responses of the accounts the requesting user may see."""

    def get_queryset(self):
        return Response.objects.visible_to(self.context["request"].user)


class AcknowledgementSerializer(serializers.ModelSerializer):
    """The relationship owner's task to acknowledge one response within 48 hours."""

    owner = UserRefSerializer(read_only=True, allow_null=True)
    acknowledged_by = UserRefSerializer(read_only=True, allow_null=True)
    overdue = serializers.SerializerMethodField(help_text="Still open after its due time.")

    class Meta:
        model = Acknowledgement
        fields = [
            "id",
            "response",
            "account",
            "contact",
            "owner",
            "received_at",
            "due_at",
            "overdue",
            "urgent",
            "urgent_reason",
            "status",
            "method",
            "acknowledged_at",
            "acknowledged_by",
            "note",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_overdue(self, acknowledgement) -> bool:
        return acknowledgement.is_overdue(timezone.now())


class ActionUpdateSerializer(serializers.ModelSerializer):
    author = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ActionUpdate
        fields = ["at", "author", "text", "status"]
        read_only_fields = fields


SET_ON_CREATION = ("account", "source_response", "source_contact")


class ActionSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """Something the account team does about feedback. `account` and the sources are set on
    creation only; `is_focus` is the one thing to fix in the account's current pulse cycle."""

    account = VisibleAccountField(help_text="The account's id (set on creation only).")
    source_response = VisibleResponseField(
        allow_null=True, required=False, help_text="The response that raised it (on creation)."
    )
    source_contact = VisibleContactField(
        allow_null=True, required=False, help_text="The person who raised it (on creation)."
    )
    owner = UserRefSerializer(read_only=True, allow_null=True)
    owner_id = ActiveUserField(
        source="owner",
        write_only=True,
        allow_null=True,
        required=False,
        help_text="Who on our side does it (a user id).",
    )
    created_by = UserRefSerializer(read_only=True, allow_null=True)
    updates = ActionUpdateSerializer(many=True, read_only=True, help_text="The log, newest first.")

    class Meta:
        model = Action
        fields = [
            "id",
            "account",
            "title",
            "description",
            "owner",
            "owner_id",
            "due_on",
            "status",
            "priority",
            "is_focus",
            "cycle_start",
            "you_said_we_did",
            "done_at",
            "source_response",
            "source_contact",
            "source_wave",
            "created_by",
            "created_at",
            "updated_at",
            "updates",
        ]
        read_only_fields = [
            "id",
            "cycle_start",
            "done_at",
            "source_wave",
            "created_at",
            "updated_at",
        ]
        # The focus rule and the statement are checked by the services (a 400 naming the field).
        validators = []

    def validate(self, attrs):
        if self.instance is not None:
            moved = {
                name: "Set on creation only."
                for name in SET_ON_CREATION
                if name in attrs and attrs[name] != getattr(self.instance, name)
            }
            if moved:
                raise serializers.ValidationError(moved)
        return attrs
