"""Which subscriptions an incident event reaches, and the daily digest."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.gis.geos import Polygon
from django.utils import timezone

from incidents.models import DeliveryChannel, DeliveryState, IncidentWorksZone, SubscriptionDelivery
from incidents.notify.deliver import deliver_due
from incidents.notify.outbox import enqueue_incident_events, next_digest_at
from incidents.services.subscriptions import SubscriptionData, save_subscription
from tests.conftest import CAPITOLE, offset, paris

pytestmark = pytest.mark.django_db


def queued() -> set[tuple[int, str]]:
    return set(SubscriptionDelivery.objects.values_list("subscription_id", "channel"))


def test_an_event_reaches_the_subscriptions_it_matches(planner, make_incident, make_works_zone, make_district):
    district = make_district("3155501", "Capitole", (1.43, 43.60, 1.45, 43.61))
    zone = make_works_zone()
    incident = make_incident(location=CAPITOLE, category="lighting", district=district, affects=["cyclists"])
    IncidentWorksZone.objects.create(incident=incident, works_zone=zone, distance_m=3)
    area = Polygon.from_bbox((1.443, 43.604, 1.445, 43.605))
    far = Polygon.from_bbox((1.30, 43.50, 1.31, 43.51))

    def sub(**fields):
        return save_subscription(planner, SubscriptionData(**fields)).pk

    matching = {
        sub(), sub(works_zone=zone), sub(district=district), sub(area=area), sub(categories=["lighting"]),
        sub(affected=["cyclists", "pedestrians"]),
    }  # fmt: skip
    sub(works_zone=make_works_zone(offset(CAPITOLE, east_m=2000)))
    sub(area=far)
    sub(categories=["vegetation"])
    sub(affected=["pedestrians", "motor_vehicles"])
    paused = sub()
    from incidents.models import Subscription

    Subscription.objects.filter(pk=paused).update(paused_at=timezone.now())

    assert enqueue_incident_events(created=[incident.pk]) == len(matching)
    assert queued() == {(pk, DeliveryChannel.EMAIL) for pk in matching}


def test_nothing_is_written_without_an_active_subscription(make_incident):
    assert enqueue_incident_events(created=[make_incident().pk]) == 0
    assert not SubscriptionDelivery.objects.exists()


def test_daily_digest_gathers_the_day_in_one_email(planner, make_incident, smtp):
    save_subscription(planner, SubscriptionData(email_mode="daily"))
    incidents = [make_incident(location=offset(CAPITOLE, east_m=n * 100)) for n in range(3)]
    enqueue_incident_events(created=[i.pk for i in incidents])
    assert deliver_due().sent == 0  # not yet: they leave at INCIDENTS_DIGEST_HOUR
    due = SubscriptionDelivery.objects.first().next_attempt_at
    assert due == next_digest_at()
    assert deliver_due(now=due + dt.timedelta(seconds=1)).sent == 3
    (message,) = smtp.messages
    assert "3 incidents" in message["Subject"]
    body = message.get_payload(decode=True).decode()
    assert all(f"#{i.pk}" in body for i in incidents)
    assert set(SubscriptionDelivery.objects.values_list("state", flat=True)) == {DeliveryState.SENT}


def test_next_digest_is_at_the_digest_hour_today_or_tomorrow(settings):
    settings.INCIDENTS_DIGEST_HOUR = 7
    assert next_digest_at(paris(2014, 9, 8, 6, 30)) == paris(2014, 9, 8, 7, 0)
    assert next_digest_at(paris(2014, 9, 8, 7, 0)) == paris(2014, 9, 9, 7, 0)


def test_webhooks_to_private_addresses_are_refused_unless_allowed(planner, make_incident, receiver, settings):
    hook = receiver()
    settings.INCIDENTS_WEBHOOK_ALLOW_PRIVATE = False
    save_subscription(planner, SubscriptionData(email=False, webhook_url=hook.url))
    enqueue_incident_events(created=[make_incident().pk])
    deliver_due()
    assert hook.received == []
    assert "non-public address" in SubscriptionDelivery.objects.get().last_error
