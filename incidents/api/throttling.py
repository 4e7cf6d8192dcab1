"""Rate limits of anonymous callers (429 with Retry-After)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle


class AnonymousThrottle(AnonRateThrottle):
    """Throttle anonymous callers at ``INCIDENTS_API_ANON_RATE`` (e.g. ``600/min``); tokens are not throttled.

    The rate is read on each request (not once at import, as DRF does), so it follows
    the settings; the counts live in Django's cache (``DJANGO_CACHE_URL``), shared by
    all workers when that is Redis.
    """

    def get_rate(self) -> str | None:
        return settings.INCIDENTS_API_ANON_RATE or None

    def allow_request(self, request, view) -> bool:
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)
