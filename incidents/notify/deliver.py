"""
Delivering the outbox: e-mails through Django's mail framework and signed webhook calls.

:func:`deliver_due` sends every delivery that is due, the earliest waiting event of each
subscription, incident and channel first (an incident's events arrive in order: a later
one waits while an earlier one is retried). A webhook is a ``POST`` of
``{"event": …, "incident": <the incident as /api/incidents/<id>/ answers anonymous
callers>}`` with the headers ``X-Cityincidents-Event``, ``X-Cityincidents-Delivery`` (the
delivery's UUID, the same on every attempt) and ``X-Cityincidents-Signature:
sha256=<hex HMAC-SHA256 of the raw body with the subscription's secret>``; any 2xx
answer delivers it. The body is fixed at the first attempt, so every retry sends the
same bytes. E-mails carry the same public view of the incident: nothing a subscriber
could not read on the open-data API.

A failed attempt is tried again after ``INCIDENTS_DELIVERY_RETRY_SECONDS``, then twice as
long each time, for ``INCIDENTS_DELIVERY_RETRY_FOR_SECONDS`` after the event (a day);
then it is given up and its subscription paused, and the owner is told
(:func:`incidents.services.subscriptions.pause_subscription`). Daily digests gather a
subscription's events of the day into one e-mail. One process sends at a time (an
advisory lock): ``manage.py deliver`` or the Celery task, never both at once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import urllib.error
import urllib.request
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection
from django.db.models import Min
from django.utils import timezone

from incidents.models import DeliveryChannel, DeliveryState, SubscriptionDelivery
from incidents.notify.messages import digest_email, incident_email
from incidents.publish.features import incident_detail
from incidents.services.subscriptions import pause_subscription

logger = logging.getLogger(__name__)

LOCK_NAMESPACE = 0x43495459  # "CITY", shared with incidents.pipeline
DELIVER_LOCK = 3
# Deliveries read per pass; a pass repeats while it finds some.
PASS_SIZE = 500
USER_AGENT = "cityincidents-webhook/1"


class DeliveryError(Exception):
    """An attempt that did not deliver; the message says why."""


@dataclass(slots=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    given_up: int = 0
    next_due: dt.datetime | None = None


@contextlib.contextmanager
def _one_sender():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_NAMESPACE, DELIVER_LOCK])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, DELIVER_LOCK])


def _pending():
    return SubscriptionDelivery.objects.filter(state=DeliveryState.PENDING, subscription__paused_at__isnull=True)


def _due_heads(now: dt.datetime) -> list[SubscriptionDelivery]:
    """The first waiting delivery of each subscription, incident and channel, when it is due."""
    heads = (
        _pending()
        .exclude(channel=DeliveryChannel.DIGEST)
        .order_by("subscription_id", "incident_id", "channel", "id")
        .distinct("subscription_id", "incident_id", "channel")
        .values("id")
    )
    return list(
        SubscriptionDelivery.objects.filter(pk__in=heads, next_attempt_at__lte=now)
        .select_related("subscription__owner")
        .order_by("id")[:PASS_SIZE]
    )


def deliver_due(now: dt.datetime | None = None) -> DeliveryReport:
    """Send every delivery due now (see the module docstring); return the counts and the next due time."""
    report = DeliveryReport()
    with _one_sender():
        while True:
            now = timezone.now() if now is None else now
            digests = _due_digests(now)
            heads = _due_heads(now)
            if not digests and not heads:
                break
            for rows in digests:
                _attempt(rows, report, now)
            for row in heads:
                _attempt([row], report, now)
            now = None  # a pass may make later events of the same incidents due: look again
        report.next_due = _pending().aggregate(first=Min("next_attempt_at"))["first"]
    return report


def _due_digests(now: dt.datetime) -> list[list[SubscriptionDelivery]]:
    rows = (
        _pending()
        .filter(channel=DeliveryChannel.DIGEST, next_attempt_at__lte=now)
        .select_related("subscription__owner")
        .order_by("subscription_id", "id")[:PASS_SIZE]
    )
    by_subscription: dict[int, list[SubscriptionDelivery]] = defaultdict(list)
    for row in rows:
        by_subscription[row.subscription_id].append(row)
    return list(by_subscription.values())


def _attempt(rows: list[SubscriptionDelivery], report: DeliveryReport, now: dt.datetime) -> None:
    first = rows[0]
    try:
        if first.channel == DeliveryChannel.WEBHOOK:
            _post_webhook(first)
        elif first.channel == DeliveryChannel.DIGEST:
            _send(digest_email(first.subscription, [(row.event, _public_incident(row)) for row in rows]))
        else:
            _send(incident_email(first, _public_incident(first)))
    except DeliveryError as error:
        _failed(rows, str(error), report)
        return
    except Exception as error:  # a bug must not stop the other deliveries: logged, retried, then paused
        logger.exception("delivery %s failed unexpectedly", first.delivery_id)
        _failed(rows, f"{error.__class__.__name__}: {error}", report)
        return
    sent_at = timezone.now()
    for row in rows:
        row.state, row.sent_at, row.attempts, row.last_error = DeliveryState.SENT, sent_at, row.attempts + 1, ""
        row.save(update_fields=["state", "sent_at", "attempts", "last_error", "body"])
    report.sent += len(rows)


def _public_incident(row: SubscriptionDelivery) -> dict:
    """The incident as ``/api/incidents/<id>/`` answers anonymous callers."""
    incident = incident_detail(row.incident_id, staff=False)
    if incident is None:
        raise DeliveryError(f"incident {row.incident_id} no longer exists")
    return incident


def body_of(row: SubscriptionDelivery) -> bytes:
    """The webhook body of ``row``: made at its first attempt, then the same bytes every time."""
    if not row.body:
        payload = {"event": row.event, "incident": _public_incident(row)}
        row.body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        row.save(update_fields=["body"])
    return row.body.encode()


def signature(secret: str, body: bytes) -> str:
    """``X-Cityincidents-Signature``: ``sha256=`` and the hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect is an answer, not a delivery: following it would send the body elsewhere.
    def redirect_request(self, *args, **kwargs):
        return None


def _check_address(url: str) -> None:
    """Refuse schemes other than http(s) and, unless allowed, hosts that resolve to non-public addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryError(f"not an http(s) URL: {url!r}")
    if settings.INCIDENTS_WEBHOOK_ALLOW_PRIVATE:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except OSError as error:
        raise DeliveryError(f"cannot resolve {parts.hostname}: {error}") from None
    for *_, address in infos:
        if not ipaddress.ip_address(address[0]).is_global:
            raise DeliveryError(f"{parts.hostname} resolves to a non-public address ({address[0]})")


def _post_webhook(row: SubscriptionDelivery) -> None:
    subscription = row.subscription
    _check_address(subscription.webhook_url)
    body = body_of(row)
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        subscription.webhook_url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "X-Cityincidents-Event": row.event,
            "X-Cityincidents-Delivery": str(row.delivery_id),
            "X-Cityincidents-Signature": signature(subscription.webhook_secret, body),
        },
    )
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=settings.INCIDENTS_WEBHOOK_TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        raise DeliveryError(f"HTTP {error.code} from the receiver") from None
    except (urllib.error.URLError, OSError) as error:
        raise DeliveryError(f"cannot reach the receiver: {getattr(error, 'reason', error)}") from None
    if not 200 <= status < 300:
        raise DeliveryError(f"HTTP {status} from the receiver")


def _send(message: EmailMessage) -> None:
    if not message.to:
        raise DeliveryError("the owner has no e-mail address")
    try:
        message.send()
    except Exception as error:  # whatever the mail backend raises is a failed attempt, retried
        raise DeliveryError(f"e-mail not sent: {error}") from None


def retry_delay(attempts: int) -> dt.timedelta:
    """How long to wait after the ``attempts``-th failed attempt: the first delay, doubled each time."""
    return dt.timedelta(seconds=settings.INCIDENTS_DELIVERY_RETRY_SECONDS * 2 ** (attempts - 1))


def _failed(rows: list[SubscriptionDelivery], error: str, report: DeliveryReport) -> None:
    now = timezone.now()
    give_up = False
    for row in rows:
        row.attempts += 1
        row.last_error = error[:2000]
        retry_at = now + retry_delay(row.attempts)
        if retry_at > row.created_at + dt.timedelta(seconds=settings.INCIDENTS_DELIVERY_RETRY_FOR_SECONDS):
            row.state = DeliveryState.FAILED
            give_up = True
        else:
            row.next_attempt_at = retry_at
        row.save(update_fields=["attempts", "last_error", "state", "next_attempt_at", "body"])
    logger.warning("delivery %s (%s) failed: %s", rows[0].delivery_id, rows[0].channel, error)
    if give_up:
        report.given_up += len(rows)
        pause_subscription(rows[0].subscription, error)
    else:
        report.failed += len(rows)
