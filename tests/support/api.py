"""An API client per member or per API token, speaking JSON like a script would."""

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from organizations import services
from organizations.models import Membership


class ApiClient:
    """The test client acting as one member (session) or through one API token."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.headers: dict = {}

    def login(self, membership: Membership) -> "ApiClient":
        """Act as this member, signed in."""
        self.headers = {}
        self.client.force_login(membership.user)
        return self

    def use_token(self, raw: str) -> "ApiClient":
        """Act through this raw API token, signed out."""
        self.client.logout()
        self.headers = {"Authorization": f"Token {raw}"}
        return self

    def use_token_of(self, membership: Membership, name: str = "script") -> "ApiClient":
        """Act through a fresh API token of this member."""
        _token, raw = services.create_api_token(
            actor=membership, name=name, expires_on=timezone.localdate() + timedelta(days=30)
        )
        return self.use_token(raw)

    def get(self, url, data=None):
        return self.client.get(url, data, headers=self.headers)

    def post(self, url, data=None):
        return self.client.post(
            url, data or {}, content_type="application/json", headers=self.headers
        )

    def patch(self, url, data=None):
        return self.client.patch(
            url, data or {}, content_type="application/json", headers=self.headers
        )

    def delete(self, url, query: str = ""):
        return self.client.delete(f"{url}{query}", headers=self.headers)
