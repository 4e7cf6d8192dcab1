"""The Celery task that delivers the outbox, where ``CELERY_BROKER_URL`` is set (``manage.py deliver`` elsewhere).

Sent when a transaction that queued deliveries commits; after a run that leaves
deliveries waiting for a retry, it sends itself again for the earliest one. The
cache (Redis in production, ``DJANGO_CACHE_URL``) keeps several runs from planning the
same wake-up.
"""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from incidents.notify.deliver import deliver_due


@shared_task(
    name="incidents.deliver",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=8,
)
def deliver() -> dict[str, int]:
    """Send what is due; plan the next run for the earliest delivery left waiting."""
    report = deliver_due()
    if report.next_due is not None:
        wait = max(0.0, (report.next_due - timezone.now()).total_seconds())
        if cache.add(f"incidents:deliver:wake:{int(report.next_due.timestamp())}", 1, timeout=int(wait) + 60):
            deliver.apply_async(countdown=wait)
    return {"sent": report.sent, "failed": report.failed, "given_up": report.given_up}
