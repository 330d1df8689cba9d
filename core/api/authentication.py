"""Personal API tokens: `Authorization: Bearer rap_…`, looked up by hash, carrying the user's
visibility (every endpoint still asks `Account.objects.visible_to(user)`)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.models import ApiToken


class PersonalTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None  # not ours: the session (or nobody) may still authenticate
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the token as `Authorization: Bearer <token>`."
            )
        try:
            raw = header[1].decode()
        except UnicodeError as error:
            raise exceptions.AuthenticationFailed("That token is not valid.") from error
        token = ApiToken.objects.authenticate(raw)
        if token is None:
            # One answer for unknown, revoked and deactivated: nothing to learn by guessing.
            raise exceptions.AuthenticationFailed("That token is not valid, or it was revoked.")
        token.touch()
        return token.user, token

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) to requests without credentials.
        return f'{self.keyword} realm="api"'


class PersonalTokenScheme(OpenApiAuthenticationExtension):
    target_class = PersonalTokenAuthentication
    name = "personalToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token from your profile (API tokens), e.g. "
            "`Authorization: Bearer rap_…`. It sees exactly what you see.",
        }
