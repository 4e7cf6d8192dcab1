"""
The outbox: what each incident change means for the subscriptions, written with the change.

:func:`enqueue_incident_events` is called in the transaction that creates or changes
incidents — the pipeline after grouping a batch (``incident.created`` for the incidents
it started, ``incident.updated`` for those that gained posts), the triage service after
a status change. It is one ``INSERT … SELECT`` matching the events against the active
subscriptions, so it costs one statement per batch whatever the batch — and when no
subscription is active, one look at the subscription table and nothing else. An event is
delivered if and only if the change commits.

A subscription matches an incident in its place (linked to its works zone, in its
district, inside its area, or anywhere for the whole city) and of its categories and
affected people. An update is not queued again while an earlier event of the same
incident waits for its first attempt: that one is sent with the incident as it is then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from incidents.models import (
    DeliveryChannel,
    DeliveryEvent,
    DeliveryState,
    EmailMode,
    Incident,
    IncidentWorksZone,
    Subscription,
    SubscriptionDelivery,
)

DELIVERY = SubscriptionDelivery._meta.db_table
SUBSCRIPTION = Subscription._meta.db_table
INCIDENT = Incident._meta.db_table
INCIDENT_WORKS = IncidentWorksZone._meta.db_table


def next_digest_at(now: dt.datetime | None = None) -> dt.datetime:
    """The next time daily digests leave: ``INCIDENTS_DIGEST_HOUR`` local time, today or tomorrow."""
    local = timezone.localtime(now or timezone.now())
    hour = settings.INCIDENTS_DIGEST_HOUR
    day = local.date() if local.hour < hour else local.date() + dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def _enqueue_sql() -> str:
    user = get_user_model()._meta.db_table
    return f"""
        INSERT INTO {DELIVERY} (delivery_id, subscription_id, incident_id, event, channel, state, created_at,
                                next_attempt_at, attempts, body, last_error)
        SELECT gen_random_uuid(), s.id, i.id, e.event, c.channel, %(pending)s, now(),
               CASE WHEN c.channel = %(digest)s THEN %(digest_at)s ELSE now() END, 0, '', ''
        FROM unnest(%(ids)s::bigint[], %(events)s::varchar[]) WITH ORDINALITY AS e(incident_id, event, n)
        JOIN {INCIDENT} i ON i.id = e.incident_id
        JOIN {SUBSCRIPTION} s ON s.paused_at IS NULL
            AND (s.works_zone_id IS NULL OR EXISTS (
                SELECT 1 FROM {INCIDENT_WORKS} l WHERE l.incident_id = i.id AND l.works_zone_id = s.works_zone_id))
            AND (s.district_id IS NULL OR s.district_id = i.district_id)
            AND (s.area IS NULL OR ST_Intersects(s.area, i.location))
            AND (cardinality(s.categories) = 0 OR i.category = ANY(s.categories))
            AND (cardinality(s.affected) = 0 OR i.affects && s.affected)
        JOIN {user} u ON u.id = s.owner_id AND u.is_active
        CROSS JOIN LATERAL unnest(array_remove(ARRAY[
            CASE WHEN s.email AND s.email_mode = %(immediate)s THEN %(email)s END,
            CASE WHEN s.email AND s.email_mode = %(daily)s THEN %(digest)s END,
            CASE WHEN s.webhook_url <> '' THEN %(webhook)s END
        ]::varchar[], NULL)) AS c(channel)
        WHERE NOT (e.event = %(updated)s AND EXISTS (
            SELECT 1 FROM {DELIVERY} d
            WHERE d.subscription_id = s.id AND d.incident_id = i.id AND d.channel = c.channel
              AND d.state = %(pending)s AND d.attempts = 0))
        ORDER BY e.n, s.id, c.channel
    """


def enqueue_incident_events(created: Iterable[int] = (), updated: Iterable[int] = ()) -> int:
    """Queue ``incident.created`` / ``incident.updated`` for the subscriptions they match; return the rows.

    Runs in the caller's transaction. When Celery is configured, a delivery task is
    sent once the transaction commits (never before: it would not see the rows).
    """
    created = sorted(set(created))
    updated = sorted(set(updated) - set(created))
    if not created and not updated:
        return 0
    with connection.cursor() as cursor:
        # Most cities most of the time: nobody subscribed, and one look at a tiny table says so.
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {SUBSCRIPTION} WHERE paused_at IS NULL)")
        if not cursor.fetchone()[0]:
            return 0
        cursor.execute(
            _enqueue_sql(),
            {
                "ids": created + updated,
                "events": [DeliveryEvent.CREATED] * len(created) + [DeliveryEvent.UPDATED] * len(updated),
                "pending": DeliveryState.PENDING,
                "updated": DeliveryEvent.UPDATED,
                "immediate": EmailMode.IMMEDIATE,
                "daily": EmailMode.DAILY,
                "email": DeliveryChannel.EMAIL,
                "digest": DeliveryChannel.DIGEST,
                "webhook": DeliveryChannel.WEBHOOK,
                "digest_at": next_digest_at(),
            },
        )
        queued = cursor.rowcount
    if queued and settings.CELERY_BROKER_URL:
        from incidents.notify.tasks import deliver

        transaction.on_commit(deliver.delay)
    return queued
