"""/api/v1/reports/: ask for a PDF report, poll its progress, download it (audited)."""

from django.core.exceptions import ValidationError
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer

from core.api.filters import UpdatedSinceFilterSet
from core.api.routers import router
from core.api.viewsets import ReadCreateViewSet
from reports.models import ReportJob
from reports.serializers import ReportJobSerializer
from reports.services.jobs import report_job_download, report_job_request
from reports.views.jobs import report_file_response


class ReportNotReady(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This report is not ready: poll it until `status` is `done`."
    default_code = "report_not_ready"


class PDFRenderer(JSONRenderer):
    """Lets a client ask for `application/pdf`: the download answers with the file itself (a
    Django FileResponse, never rendered); errors still come as problem details in JSON."""

    media_type = "application/pdf"
    format = "pdf"


class ReportJobFilter(UpdatedSinceFilterSet):
    class Meta:
        model = ReportJob
        fields = ["kind", "audience", "status", "account"]

    def filter_updated_since(self, queryset, name, value):
        # A job changes when it is asked for and when it finishes.
        return queryset.filter(Q(created_at__gte=value) | Q(finished_at__gte=value))


REPORT_EXAMPLE = OpenApiExample(
    "A finished account report",
    response_only=True,
    value={
        "id": 17,
        "kind": "account",
        "audience": "client",
        "account": 12,
        "segment": None,
        "territory": None,
        "prepared_for": "Greta Lindqvist, COO",
        "status": "done",
        "progress": 100,
        "stage": "Ready",
        "pages": 7,
        "size_bytes": 181234,
        "error": "",
        "requested_by": {"id": 2, "full_name": "Eve Executive", "email": "exec@example.com"},
        "created_at": "2026-11-20T09:00:00Z",
        "finished_at": "2026-11-20T09:00:12Z",
        "download_url": "https://rapport.example/api/v1/reports/17/download/",
    },
)
REPORT_REQUEST_EXAMPLE = OpenApiExample(
    "Ask for a client-facing account report",
    request_only=True,
    value={
        "kind": "account",
        "audience": "client",
        "account": 12,
        "prepared_for": "Greta Lindqvist, COO",
    },
)


@extend_schema_view(
    list=extend_schema(
        summary="Reports you asked for, and reports on accounts you may see",
        examples=[REPORT_EXAMPLE],
    ),
    retrieve=extend_schema(
        summary="One report job: poll it for progress", examples=[REPORT_EXAMPLE]
    ),
    create=extend_schema(
        summary="Ask for a report (generated in the background)",
        examples=[REPORT_REQUEST_EXAMPLE, REPORT_EXAMPLE],
        responses={201: ReportJobSerializer},
    ),
)
class ReportJobViewSet(ReadCreateViewSet):
    serializer_class = ReportJobSerializer
    permission_classes = [IsAuthenticated]
    filterset_class = ReportJobFilter
    ordering_fields = ["created_at", "finished_at", "id"]
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return ReportJob.objects.none()
        return (
            ReportJob.objects.visible_to(self.request.user)
            .select_related("requested_by", "account", "segment", "territory")
            .order_by("-created_at", "-pk")
        )

    def perform_create(self, serializer):
        data = serializer.validated_data
        job = report_job_request(
            user=self.request.user,
            kind=data["kind"],
            audience=data.get("audience", ReportJob.Audience.INTERNAL),
            account=data.get("account"),
            segment=data.get("segment"),
            territory=data.get("territory"),
            prepared_for=data.get("prepared_for", ""),
            request=self.request,
        )
        serializer.instance = self.get_queryset().get(pk=job.pk)

    @extend_schema(
        summary="The report's PDF (audited); 409 until it is ready",
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF."),
            409: OpenApiResponse(description="Not ready yet (problem details)."),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="download",
        url_name="download",
        renderer_classes=[JSONRenderer, PDFRenderer],
    )
    def download(self, request, pk=None):
        job = self.get_object()
        try:
            report_job_download(job=job, user=request.user, request=request)
        except ValidationError as error:
            raise ReportNotReady from error
        return report_file_response(job)


router.register("reports", ReportJobViewSet, basename="report")
