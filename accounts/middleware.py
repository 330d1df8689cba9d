"""Session timeouts and required two-factor setup, checked on every request after authentication."""

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from accounts.auth import SESSION_AUTH_AT, SESSION_SEEN_AT, session_login_methods

# The idle clock is written to the session at most this often, not on every request: a busy
# page with htmx fragments would otherwise save its session many times a second.
SEEN_RESOLUTION_SECONDS = 60


class SessionTimeoutMiddleware:
    """Sign out a session idle for SESSION_IDLE_TIMEOUT or older than SESSION_ABSOLUTE_TIMEOUT.

    Both clocks start at login (accounts.auth); a session from before this middleware existed
    starts them on its next request. The request then carries on as anonymous, so pages send it
    to the login page and the API answers 401/403.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            self._check(request)
        return self.get_response(request)

    def _check(self, request) -> None:
        session = request.session
        now = timezone.now().timestamp()
        auth_at = session.get(SESSION_AUTH_AT)
        seen_at = session.get(SESSION_SEEN_AT)
        if auth_at is None or seen_at is None:
            session[SESSION_AUTH_AT] = auth_at or now
            session[SESSION_SEEN_AT] = now
            return
        idle = settings.SESSION_IDLE_TIMEOUT
        absolute = settings.SESSION_ABSOLUTE_TIMEOUT
        if idle and now - seen_at > idle:
            self._end(request, f"You were signed out after {_duration(idle)} without activity.")
        elif absolute and now - auth_at > absolute:
            self._end(request, f"You were signed out {_duration(absolute)} after logging in.")
        elif now - seen_at >= SEEN_RESOLUTION_SECONDS:
            session[SESSION_SEEN_AT] = now

    @staticmethod
    def _end(request, message: str) -> None:
        logout(request)  # flushes the session: a fresh key, nothing of the old one left
        messages.info(request, f"{message} Please log in again.")


def _duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour{'s' if hours != 1 else ''}"
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


class MfaRequiredMiddleware:
    """Users whose role is in MFA_REQUIRED_ROLES set up TOTP before anything else.

    Only password sessions are held to it: a single-sign-on session got its second factor (or
    not) from the identity provider, which is where that policy belongs. Until then every page
    but the two-factor pages, re-authentication and logout redirects to the TOTP setup page.
    """

    ALLOWED_PREFIXES = ("/auth/", "/logout/", "/login/", "/static/", "/healthz")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._must_set_up(request):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"title": "Two-factor authentication required", "status": 403}, status=403
                )
            messages.warning(
                request, "Your role requires two-factor authentication: set it up to continue."
            )
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)

    @staticmethod
    def _must_set_up(request) -> bool:
        user = getattr(request, "user", None)
        roles = settings.MFA_REQUIRED_ROLES
        if not roles or user is None or not user.is_authenticated or user.role not in roles:
            return False
        if request.path.startswith(MfaRequiredMiddleware.ALLOWED_PREFIXES):
            return False
        if "socialaccount" in session_login_methods(request):
            return False
        return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
