"""Celery task of the channels: with ``CELERY_BROKER_URL`` set, beat sends it every ``INCIDENTS_LISTEN_TICK_S``."""

from __future__ import annotations

from celery import shared_task

from .listen import tick


@shared_task(name="incidents.listen_tick", ignore_result=True)
def listen_tick() -> dict[str, int]:
    """Deliver the due replies and poll the due channels, as one tick of ``manage.py listen``."""
    report = tick()
    return {"polls": len(report.polls), "replies": len(report.replies)}
