"""With CELERY_BROKER_URL set, the transaction that queues deliveries sends the task, and a real worker delivers."""

from __future__ import annotations

import time

import pytest

from incidents.models import DeliveryState, SubscriptionDelivery
from incidents.services.subscriptions import SubscriptionData, save_subscription
from tests.conftest import CAPITOLE, offset, paris
from tests.pipeline.conftest import post

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery, pytest.mark.slow]


@pytest.fixture
def worker_settings(monkeypatch):
    """What the worker process reads from its environment: a receiver on 127.0.0.1, short retries."""
    monkeypatch.setenv("INCIDENTS_WEBHOOK_ALLOW_PRIVATE", "1")
    monkeypatch.setenv("INCIDENTS_DELIVERY_RETRY_SECONDS", "0.05")


@pytest.mark.parametrize("celery_worker", [1], indirect=True)
def test_a_celery_worker_delivers_once_the_change_commits(
    worker_settings, celery_worker, push, planner, receiver, make_works_zone
):
    zone = make_works_zone(offset(CAPITOLE, east_m=60), starts_at=paris(2014, 9, 1), ends_at=paris(2014, 9, 30))
    hook = receiver(statuses=[500])
    save_subscription(planner, SubscriptionData(works_zone=zone, email=False, webhook_url=hook.url))
    push(post("Chantier : barrière de travaux en travers du trottoir", CAPITOLE, id="p1"))
    calls = hook.wait_for(2, timeout=30, deliver=False)  # the worker alone: the task and its retry
    assert len(calls) == 2
    assert calls[0].delivery_id == calls[1].delivery_id
    deadline = time.monotonic() + 10
    while SubscriptionDelivery.objects.get().state != DeliveryState.SENT and time.monotonic() < deadline:
        time.sleep(0.1)
    assert SubscriptionDelivery.objects.get().state == DeliveryState.SENT
