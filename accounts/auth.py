"""How people sign in: django-allauth adapters, the lockout key and what each sign-in records.

Administrators create every user and give them a role, so nobody can sign up: a password login
needs an existing local account, and single sign-on (OpenID Connect) only reaches a user whose
address the identity provider says it verified and who already exists here.
"""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import SignupClosedException
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import timezone

from accounts.models import User
from core.models import AuditEvent
from core.services.audit import audit_record

# Session keys of the idle and absolute timeouts (accounts.middleware).
SESSION_AUTH_AT = "rapport_auth_at"
SESSION_SEEN_AT = "rapport_seen_at"


def axes_username(request, credentials=None) -> str | None:
    """The login that axes counts failures for: allauth sends it as `email`, forms as `login`."""
    credentials = credentials or {}
    value = credentials.get("email") or credentials.get("username") or credentials.get("login")
    if not value and request is not None:
        data = getattr(request, "data", None) or request.POST
        value = data.get("login") or data.get("username")
    return value.strip().lower() if value else None


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin) -> bool:
        return False

    def pre_social_login(self, request, sociallogin) -> None:
        """Connect a first SSO login to the existing user with the same, verified address.

        allauth's own "email authentication" would wipe the local password of users whose
        address it has not verified itself; ours were all entered by an administrator, so we
        connect instead. Unknown, unverified or deactivated addresses end on "signup closed".
        """
        if sociallogin.is_existing:
            return
        verified = [a.email for a in sociallogin.email_addresses if a.verified]
        for email in verified:
            user = User.objects.filter(email__iexact=email, is_active=True).first()
            if user is not None:
                sociallogin.connect(request, user)
                return
        raise SignupClosedException


def session_login_methods(request) -> set[str]:
    """How this session was authenticated, as allauth recorded it: "password", "mfa",
    "socialaccount"… Empty for sessions made without allauth (e.g. a test's force_login)."""
    records = request.session.get("account_authentication_methods") or []
    return {record.get("method", "") for record in records}


@receiver(user_logged_in, dispatch_uid="rapport_sign_in")
def _on_sign_in(sender, request, user, **kwargs):
    """Start the session clocks and record the sign-in (every login, whatever its method)."""
    if request is None or not hasattr(request, "session"):
        return
    now = timezone.now().timestamp()
    request.session[SESSION_AUTH_AT] = now
    request.session[SESSION_SEEN_AT] = now
    methods = session_login_methods(request)
    detail = {
        "method": "sso" if "socialaccount" in methods else "password",
        "second_factor": "mfa" in methods,
    }
    audit_record(
        actor=user,
        verb=AuditEvent.Verb.SIGNED_IN,
        target_type="user",
        target_id=user.pk,
        target=user.email,
        detail=detail,
        request=request,
    )
