"""API throttles that know callers by the same client address as everything else."""

from rest_framework import throttling
from rest_framework.request import Request

from common.http import client_address


class UserRateThrottle(throttling.UserRateThrottle):
    """DRF's per-user rate; callers without an account count by their client address."""

    def get_ident(self, request: Request) -> str:
        # DRF's own reading trusts the whole X-Forwarded-For when NUM_PROXIES is unset.
        return client_address(request._request) or ""
