from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

admin.site.site_header = "Rapport administration"
admin.site.site_title = "Rapport"
admin.site.index_title = "Users, accounts and schedules"

urlpatterns = [
    path("", include("core.urls")),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path(
        "password_reset/",
        auth_views.PasswordResetView.as_view(
            subject_template_name="emails/password_reset_subject.txt",
            email_template_name="emails/password_reset_body.txt",
            html_email_template_name="emails/password_reset_body.html",
        ),
        name="password_reset",
    ),
    path("", include("django.contrib.auth.urls")),
    path("accounts/", include("accounts.urls")),
    path("", include("contacts.urls")),
    path("", include("pulses.urls")),
    path("", include("actions.urls")),
    path("", include("changemaps.urls")),
    path("", include("reports.urls")),
    path("admin/", admin.site.urls),
    # The REST API (every app's api.py), its OpenAPI schema and interactive docs (no CDN).
    path("api/v1/", include("core.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
