"""Subscriptions end to end: a post ingested next to works reaches the planner by e-mail and by a signed webhook."""

from __future__ import annotations

import itertools
import json
import time

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from incidents.models import (
    DeliveryState,
    Incident,
    Post,
    Subscription,
    SubscriptionDelivery,
)
from incidents.notify.deliver import deliver_due
from incidents.services.incidents import change_incident_status
from incidents.services.subscriptions import SubscriptionData, save_subscription
from tests.conftest import CAPITOLE, offset, paris
from tests.notify.conftest import RETRY_SECONDS
from tests.pipeline.conftest import post

pytestmark = pytest.mark.django_db

WORKS = "Chantier : barrière de travaux en travers du trottoir"
POTHOLE = "Énorme nid de poule sur la chaussée"


@pytest.fixture
def works(make_works_zone):
    return make_works_zone(offset(CAPITOLE, east_m=60), starts_at=paris(2014, 9, 1), ends_at=paris(2014, 9, 30))


def subscribe(owner, **fields) -> Subscription:
    return save_subscription(owner, SubscriptionData(**fields))


def anonymous_detail(incident_id: int) -> dict:
    response = Client().get(f"/api/incidents/{incident_id}/")
    assert response.status_code == 200
    return json.loads(response.content)


def test_a_post_next_to_works_reaches_the_planner_by_one_email_and_one_signed_webhook(
    push, works, planner, smtp, receiver
):
    hook = receiver()
    subscribe(planner, works_zone=works, webhook_url=hook.url, webhook_secret=hook.secret)
    push(post(WORKS, CAPITOLE, id="p1", author_handle="zq_author_7731"))
    incident = Incident.objects.get()

    received = hook.wait_for(1)
    time.sleep(0.2)
    call_command("deliver", "--once", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert len(received) == 1
    assert hook.bad_signatures == 0
    call = received[0]
    assert call.headers["X-Cityincidents-Event"] == "incident.created"
    assert call.payload == {"event": "incident.created", "incident": anonymous_detail(incident.pk)}
    assert "zq_author_7731" not in call.body.decode()

    assert len(smtp.messages) == 1
    assert smtp.recipients == [["planner@example.org"]]
    email = smtp.messages[0]
    assert f"#{incident.pk}" in email["Subject"]
    text = email.get_payload(decode=True).decode()
    assert "sel=incident:" in text
    assert "zq_author_7731" not in text
    assert set(SubscriptionDelivery.objects.values_list("state", flat=True)) == {DeliveryState.SENT}


def test_a_receiver_failing_twice_gets_the_same_delivery_id_three_times_then_nothing_more(
    push, works, planner, receiver
):
    hook = receiver(statuses=[500, 500])
    subscribe(planner, works_zone=works, email=False, webhook_url=hook.url, webhook_secret=hook.secret)
    push(post(WORKS, CAPITOLE, id="p1"))

    calls = hook.wait_for(3)
    assert len(calls) == 3
    assert len({call.delivery_id for call in calls}) == 1
    assert len({call.body for call in calls}) == 1
    assert hook.bad_signatures == 0
    for _ in range(5):
        time.sleep(RETRY_SECONDS * 4)
        call_command("deliver", "--once", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert len(hook.received) == 3
    row = SubscriptionDelivery.objects.get()
    assert (row.state, row.attempts, str(row.delivery_id)) == (DeliveryState.SENT, 3, calls[0].delivery_id)


def test_retries_wait_longer_each_time(push, works, planner, receiver):
    hook = receiver(statuses=[500, 500, 500])
    subscribe(planner, works_zone=works, email=False, webhook_url=hook.url, webhook_secret=hook.secret)
    push(post(WORKS, CAPITOLE, id="p1"))
    deadline = time.monotonic() + 5
    while len(hook.received) < 4 and time.monotonic() < deadline:
        deliver_due()
        time.sleep(0.005)
    # An attempt's failure is recorded after its call arrived: the next call comes the delay after that.
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(hook.received)]
    assert len(gaps) == 3
    assert gaps[0] >= RETRY_SECONDS
    assert gaps[1] >= 2 * RETRY_SECONDS
    assert gaps[2] >= 4 * RETRY_SECONDS


def test_a_subscription_that_keeps_failing_is_paused_and_its_owner_told(
    push, works, planner, smtp, receiver, settings, django_capture_on_commit_callbacks
):
    settings.INCIDENTS_DELIVERY_RETRY_FOR_SECONDS = 0.3
    hook = receiver(statuses=[500] * 100)
    subscription = subscribe(planner, works_zone=works, email=False, webhook_url=hook.url, webhook_secret=hook.secret)
    push(post(WORKS, CAPITOLE, id="p1"))
    # The day of retries counts from the event: start it now, not when the test's ingest began.
    SubscriptionDelivery.objects.update(created_at=timezone.now())
    deadline = time.monotonic() + 5
    while not Subscription.objects.get().is_paused and time.monotonic() < deadline:
        with django_capture_on_commit_callbacks(execute=True):  # the owner is told once the pause commits
            deliver_due()
        time.sleep(0.01)
    subscription.refresh_from_db()
    assert subscription.is_paused
    assert "HTTP 500" in subscription.pause_reason
    assert SubscriptionDelivery.objects.get().state == DeliveryState.FAILED
    attempts = len(hook.received)
    assert attempts == 3  # at 0, 50 and 150 ms; the next, at 350 ms, would be past the 300 ms given
    (notice,) = smtp.messages
    assert f"#{subscription.pk}" in notice["Subject"]
    assert "HTTP 500" in notice.get_payload(decode=True).decode()

    # Paused: nothing more is queued nor sent.
    push(post(WORKS, offset(CAPITOLE, north_m=5), id="p2", posted_at=paris(2014, 9, 8, 11).isoformat()))
    deliver_due()
    assert len(hook.received) == attempts
    assert SubscriptionDelivery.objects.count() == 1


def test_events_of_an_incident_arrive_in_order(push, works, planner, receiver, staff_user):
    hook = receiver(statuses=[503])
    subscribe(planner, works_zone=works, email=False, webhook_url=hook.url, webhook_secret=hook.secret)
    push(post(WORKS, CAPITOLE, id="p1"))
    deliver_due()  # the creation fails once
    incident = Incident.objects.get()
    change_incident_status(incident, "acknowledged", actor=staff_user)
    calls = hook.wait_for(3)
    assert [call.payload["event"] for call in calls] == ["incident.created", "incident.created", "incident.updated"]
    assert calls[2].payload["incident"]["properties"]["status"] == "acknowledged"


def test_an_update_waiting_for_its_first_attempt_is_not_queued_twice(push, works, planner, receiver):
    hook = receiver()
    subscribe(planner, works_zone=works, email=False, webhook_url=hook.url, webhook_secret=hook.secret)
    push(post(WORKS, CAPITOLE, id="p1"))
    push(post(WORKS, offset(CAPITOLE, east_m=3), id="p2"))  # joins the same incident
    assert Post.objects.filter(incident__isnull=False).values("incident").distinct().count() == 1
    assert SubscriptionDelivery.objects.count() == 1
    (call,) = hook.wait_for(1)
    assert call.payload["incident"]["properties"]["post_count"] == 2
