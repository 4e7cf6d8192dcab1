"""Celery tasks: the pipeline's processing step, run by workers when CELERY_BROKER_URL is set.

A task carries the ids of stored posts, never the posts themselves: they are already
safe in the database before the task is sent. Tasks are acknowledged late and
rejected when their worker dies, so a batch is redelivered rather than lost; running
one twice is harmless because :func:`incidents.pipeline.process.process` only takes posts that
are still pending.
"""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from incidents.pipeline.process import process


@shared_task(
    name="incidents.process_posts",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=8,
)
def process_posts(post_ids: list[int], incident_ids: list[int] | None = None) -> dict[str, int]:
    """Process the stored posts ``post_ids`` and refresh ``incident_ids``; return the counts."""
    return process(post_ids, incident_ids or ()).as_dict()
