from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Account, Segment, Territory
from accounts.serializers import VisibleAccountField
from core.api.serializers import StrictFieldsMixin, UserRefSerializer
from reports.models import ReportJob


class _VisibleGroupField(serializers.PrimaryKeyRelatedField):
    """A segment or territory that has at least one account the requesting user may see."""

    model = None
    via = ""

    def get_queryset(self):
        visible = Account.objects.visible_to(self.context["request"].user)
        return self.model.objects.filter(pk__in=visible.values(self.via))


@extend_schema_field(OpenApiTypes.INT)
class VisibleSegmentField(_VisibleGroupField):
    model, via = Segment, "segment"


@extend_schema_field(OpenApiTypes.INT)
class VisibleTerritoryField(_VisibleGroupField):
    model, via = Territory, "territory"


class ReportJobSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A report: ask with `kind`, `audience` and its scope, then poll `status` and `progress`
    until `download_url` appears."""

    account = VisibleAccountField(
        required=False, allow_null=True, help_text="The account (account reports only)."
    )
    segment = VisibleSegmentField(
        required=False, allow_null=True, help_text="Narrows a portfolio report to one segment."
    )
    territory = VisibleTerritoryField(
        required=False, allow_null=True, help_text="Narrows a portfolio report to one territory."
    )
    requested_by = UserRefSerializer(read_only=True)
    download_url = serializers.SerializerMethodField(
        help_text="Where the PDF is, once `status` is `done` (every download is audited)."
    )

    class Meta:
        model = ReportJob
        fields = [
            "id",
            "kind",
            "audience",
            "account",
            "segment",
            "territory",
            "prepared_for",
            "status",
            "progress",
            "stage",
            "pages",
            "size_bytes",
            "error",
            "requested_by",
            "created_at",
            "finished_at",
            "download_url",
        ]
        read_only_fields = [
            "status",
            "progress",
            "stage",
            "pages",
            "size_bytes",
            "error",
            "created_at",
            "finished_at",
        ]

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, job) -> str | None:
        if job.status != ReportJob.Status.DONE:
            return None
        return self.context["request"].build_absolute_uri(
            reverse("api:report-download", args=[job.pk])
        )

    def validate(self, attrs):
        if attrs.get("kind") == ReportJob.Kind.ACCOUNT and not attrs.get("account"):
            raise serializers.ValidationError(
                {"account": "An account report needs the account."}, code="required"
            )
        if attrs.get("kind") == ReportJob.Kind.PORTFOLIO and attrs.get("account"):
            raise serializers.ValidationError(
                {"account": "A portfolio report is narrowed by segment or territory, not account."}
            )
        if attrs.get("segment") and attrs.get("territory"):
            raise serializers.ValidationError(
                {"territory": "Choose a segment or a territory, not both."}
            )
        return attrs
