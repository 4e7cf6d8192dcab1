"""
Polite HTTP to the networks: one session per channel, the same manners for every request.

- A User-Agent naming the service and its public URL (``INCIDENTS_SITE_URL``), so a
  network's admins know who calls and where to write.
- A timeout on every request (``INCIDENTS_LISTEN_TIMEOUT_S``, to connect and per read).
- 5xx answers, timeouts, broken connections and bodies that are not JSON are tried again
  after an exponential backoff with jitter (``INCIDENTS_LISTEN_BACKOFF_S`` doubling, at
  most ``INCIDENTS_LISTEN_BACKOFF_MAX_S``, ``INCIDENTS_LISTEN_RETRIES`` times).
- Rate limits: a 429 is waited out when it resets within ``INCIDENTS_LISTEN_MAX_WAIT_S``
  (``Retry-After``, X's ``x-rate-limit-reset``, Bluesky's ``ratelimit-reset``,
  Mastodon's ``X-RateLimit-Reset``); a later reset raises :class:`RateLimited` so the
  channel waits for it. A budget announced as spent (``…-remaining: 0``) is waited out
  before the next request, so the network need not say 429 at all.
- Other 4xx answers are :class:`Refused`: asking again would not help.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import random
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from django.utils.dateparse import parse_datetime

logger = logging.getLogger(__name__)

VERSION = "0.1"
# The headers that say when a rate limit resets, in the order they are trusted.
RESET_HEADERS = ("retry-after", "x-rate-limit-reset", "ratelimit-reset", "x-ratelimit-reset")
REMAINING_HEADERS = ("x-rate-limit-remaining", "ratelimit-remaining", "x-ratelimit-remaining")
_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")
# A number above this is a Unix time; below, a delay in seconds (Retry-After, IETF RateLimit).
EPOCH_THRESHOLD = 1_000_000_000


class NetworkError(Exception):
    """A request that failed: the message says which request and why.

    ``uncertain`` is true when the network may have acted on it all the same (a timeout,
    a broken connection, a 5xx after the request was sent): a write must then be looked
    up before it is sent again.
    """

    def __init__(self, message: str, *, status: int | None = None, uncertain: bool = False, body: Any = None):
        super().__init__(message)
        self.status = status
        self.uncertain = uncertain
        self.body = body


class Refused(NetworkError):
    """A 4xx answer other than 429: the request itself is wrong (bad token, unknown status, too long)."""


class RateLimited(NetworkError):
    """A rate limit that resets later than the poll may wait; ``reset_at`` is a Unix time."""

    def __init__(self, message: str, *, reset_at: float):
        super().__init__(message, status=429)
        self.reset_at = reset_at


@dataclass(slots=True)
class Answer:
    """A successful answer: its status, headers and JSON body."""

    status: int
    headers: Mapping[str, str]
    data: Any


def user_agent() -> str:
    return f"cityincidents/{VERSION} (+{settings.INCIDENTS_SITE_URL}/)"


def reset_time(headers: Mapping[str, str], now: float) -> float | None:
    """Return the Unix time a rate limit resets at, from the first header that says it; ``None`` without one."""
    for name in RESET_HEADERS:
        value = (headers.get(name) or "").strip()
        if not value:
            continue
        try:
            number = float(value)
        except ValueError:
            moment = parse_datetime(value)
            if moment is None:
                try:
                    moment = email.utils.parsedate_to_datetime(value)
                except (TypeError, ValueError):
                    continue
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=dt.UTC)
            return moment.timestamp()
        return number if number > EPOCH_THRESHOLD else now + max(number, 0.0)
    return None


def backoff_delay(attempt: int, base: float, cap: float) -> float:
    """Return an exponential backoff with jitter: between half and all of ``base * 2**attempt`` (at most ``cap``)."""
    delay = min(cap, base * 2**attempt)
    return random.uniform(delay / 2, delay)  # noqa: S311 (jitter, not a secret)


def _connection_reason(failure: Exception) -> str:
    """Return the system's reason ("Connection refused") out of the layers of a requests connection error."""
    text = str(failure)
    match = _ERRNO.search(text)
    return match.group(1).strip() if match else text.splitlines()[0][:200]


def _summary(response: requests.Response) -> tuple[str, Any]:
    """Return a short reason from an error body (``error``/``message``/``detail``/``title``), and the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip(), None
    if isinstance(body, dict):
        parts = [str(body[key]) for key in ("error", "message", "detail", "title") if body.get(key)]
        errors = body.get("errors")
        if not parts and isinstance(errors, list) and errors and isinstance(errors[0], dict):
            parts = [str(errors[0].get("message") or errors[0].get("detail") or "")]
        return ": ".join(dict.fromkeys(parts))[:300], body
    return str(body)[:200], body


class PoliteSession:
    """Requests to one network for one channel, with the manners above; counts what it sends."""

    def __init__(self, base_url: str, label: str):
        self.base_url = base_url.rstrip("/")
        self.label = label
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": user_agent(), "Accept": "application/json"})
        self.requests = 0
        self._not_before = 0.0  # Unix time: the announced budget is spent until then

    def close(self) -> None:
        self.session.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        retries: int | None = None,
    ) -> Answer:
        """Send one request (``path`` is relative to the base URL, or a full URL); return its JSON answer.

        ``retries=0`` for a write that must not be repeated blindly: the caller looks it up first.
        """
        url = path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"
        retries = settings.INCIDENTS_LISTEN_RETRIES if retries is None else retries
        timeout = settings.INCIDENTS_LISTEN_TIMEOUT_S
        what = f"{method} {url}"
        error: NetworkError | None = None
        for attempt in range(retries + 1):
            if attempt:
                delay = backoff_delay(
                    attempt - 1, settings.INCIDENTS_LISTEN_BACKOFF_S, settings.INCIDENTS_LISTEN_BACKOFF_MAX_S
                )
                logger.info("%s: %s; trying again in %.2f s", self.label, error, delay)
                time.sleep(delay)
            self._wait_for_budget(what)
            self.requests += 1
            try:
                response = self.session.request(
                    method, url, params=params, json=json, headers=headers, timeout=(timeout, timeout)
                )
            except requests.Timeout:
                error = NetworkError(f"{what}: no answer within {timeout:g} s", uncertain=True)
                continue
            except requests.ConnectionError as failure:
                error = NetworkError(f"{what}: connection failed ({_connection_reason(failure)})", uncertain=True)
                continue
            except requests.RequestException as failure:  # an answer cut short, undecodable
                error = NetworkError(f"{what}: the answer was broken off ({type(failure).__name__})", uncertain=True)
                continue
            now = time.time()
            if response.status_code == 429:
                reset = reset_time(response.headers, now)
                if reset is None:  # no date given: back off as for a 5xx
                    error = NetworkError(f"{what}: rate limited (429)", status=429)
                    continue
                if reset - now > settings.INCIDENTS_LISTEN_MAX_WAIT_S or attempt == retries:
                    raise RateLimited(
                        f"{what}: rate limited until {dt.datetime.fromtimestamp(reset, dt.UTC):%H:%M:%S} UTC",
                        reset_at=reset,
                    )
                logger.info("%s: rate limited; waiting %.2f s", self.label, reset - now)
                time.sleep(max(0.0, reset - now))
                error = NetworkError(f"{what}: rate limited (429)", status=429)
                continue
            if response.status_code >= 500:
                reason, body = _summary(response)
                error = NetworkError(
                    f"{what}: server error {response.status_code} {reason}".strip(),
                    status=response.status_code,
                    uncertain=True,
                    body=body,
                )
                continue
            if response.status_code >= 400:
                reason, body = _summary(response)
                raise Refused(
                    f"{what}: refused ({response.status_code} {reason})", status=response.status_code, body=body
                )
            self._note_budget(response.headers, now)
            try:
                data = response.json() if response.content else None
            except ValueError as failure:
                error = NetworkError(f"{what}: the answer is not JSON ({failure})", status=response.status_code)
                continue
            return Answer(response.status_code, response.headers, data)
        assert error is not None
        raise error

    def _note_budget(self, headers: Mapping[str, str], now: float) -> None:
        for name in REMAINING_HEADERS:
            if (headers.get(name) or "").strip() == "0":
                reset = reset_time(headers, now)
                if reset is not None:
                    self._not_before = reset
                return

    def _wait_for_budget(self, what: str) -> None:
        wait = self._not_before - time.time()
        if wait <= 0:
            return
        if wait > settings.INCIDENTS_LISTEN_MAX_WAIT_S:
            raise RateLimited(
                f"{what}: the request budget is spent until "
                f"{dt.datetime.fromtimestamp(self._not_before, dt.UTC):%H:%M:%S} UTC",
                reset_at=self._not_before,
            )
        time.sleep(wait)
