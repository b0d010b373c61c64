"""API authentication with organization-scoped tokens: `Authorization: Token <raw token>`."""

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from organizations import services
from organizations.models import ApiToken


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """Authenticate a member's API token; `request.auth` is the ApiToken, `request.user` its person.

    The token's membership is loaded fresh on every request, so a role or grant change (or a
    removal, an archive, a revocation) applies to the very next call.
    """

    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[object, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Invalid token header: send “Authorization: Token <token>”.")
            )
        try:
            raw_token = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not raw_token.isprintable():
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        token = services.authenticate_api_token(raw_token)
        if token is None:
            raise exceptions.AuthenticationFailed(
                _("Invalid, expired or revoked token, or the organization is archived.")
            )
        return token.membership.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
