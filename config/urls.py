from allauth.account import views as allauth_views
from allauth.socialaccount import views as socialaccount_views
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

admin.site.site_header = "Rapport administration"
admin.site.site_title = "Rapport"
admin.site.index_title = "Users, accounts and schedules"

urlpatterns = [
    path("", include("core.urls")),
    # Login is django-allauth's (password + TOTP, and the SSO button when OIDC is configured);
    # the pages around it (two-factor, SSO callbacks, re-authentication) live under /auth/.
    # Only the allauth pages Rapport uses are routed: addresses are set by administrators (they
    # are what SSO matches on), nobody signs up, and passwords change and reset through
    # Django's pages below, with our emails.
    path("login/", allauth_views.login, name="login"),
    # The admin's own password form would skip two-factor and the SSO rules: it sends people here.
    path(
        "admin/login/",
        RedirectView.as_view(pattern_name="login", query_string=True),
        name="admin_login_redirect",
    ),
    path("login/", allauth_views.login, name="account_login"),  # the same page, allauth's name
    path("auth/logout/", allauth_views.logout, name="account_logout"),
    path("auth/inactive/", allauth_views.account_inactive, name="account_inactive"),
    path("auth/reauthenticate/", allauth_views.reauthenticate, name="account_reauthenticate"),
    path("auth/2fa/", include("allauth.mfa.urls")),
    path(
        "auth/sso/cancelled/",
        socialaccount_views.login_cancelled,
        name="socialaccount_login_cancelled",
    ),
    path("auth/sso/error/", socialaccount_views.login_error, name="socialaccount_login_error"),
    path("auth/", include("allauth.socialaccount.providers.openid_connect.urls")),
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

# A database outage answers 503 with a friendly page (or problem detail), any other error 500.
handler500 = "core.unavailable.server_error"
