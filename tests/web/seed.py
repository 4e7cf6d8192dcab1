"""Incidents on the demo streets, until the pipeline makes them from the demo posts.

``seed_incidents`` puts incidents at the middle of demo street segments, reported in
September 2014 (when the demo's works run), links each to the works zones active within
``INCIDENTS_WORKS_RADIUS_M`` when it was reported, and notes the change for the map's
cluster index. Real rows through the ORM and PostGIS, as the pipeline would write them.
"""

from __future__ import annotations

import datetime as dt
import itertools

from django.conf import settings
from django.contrib.gis.db.models.functions import PointOnSurface
from django.db import connection

from incidents.categories import Category
from incidents.geo import geog
from incidents.models import Incident, IncidentWorksZone, StreetSegment, WorksZone
from incidents.services.clusters import mark_incidents_changed
from tests.conftest import paris

CATEGORIES = [code for code, _label in Category.choices]


def seed_incidents(count: int = 300, *, start: dt.datetime | None = None, days: int = 30) -> list[Incident]:
    """``count`` incidents on evenly picked street segments, spread over ``days`` from ``start``."""
    start = start or paris(2014, 9, 1, 8)
    segments = list(StreetSegment.objects.order_by("id").annotate(mid=PointOnSurface("geom"))[: count * 3 : 3])
    incidents = []
    for number, (segment, category) in enumerate(zip(segments, itertools.cycle(CATEGORIES), strict=False)):
        reported = start + dt.timedelta(hours=(number * 7) % (days * 24))
        incidents.append(
            Incident(
                location=segment.mid,
                category=category,
                segment=segment,
                segment_distance_m=0,
                first_post_at=reported,
                last_post_at=reported + dt.timedelta(hours=number % 5),
                post_count=1 + number % 4,
                priority=float(number % 10),
            )
        )
    Incident.objects.bulk_create(incidents)
    link_to_active_works([incident.pk for incident in incidents])
    mark_incidents_changed([incident.pk for incident in incidents])
    return incidents


def link_to_active_works(incident_ids: list[int]) -> None:
    """Link incidents to the works zones active nearby when they were first reported."""
    radius = settings.INCIDENTS_WORKS_RADIUS_M
    sql = f"""
        INSERT INTO {IncidentWorksZone._meta.db_table} (incident_id, works_zone_id, distance_m)
        SELECT i.id, z.id, ST_Distance({geog("i.location")}, {geog("z.impact_area")})
        FROM {Incident._meta.db_table} i JOIN {WorksZone._meta.db_table} z
          ON ST_DWithin({geog("i.location")}, {geog("z.impact_area")}, %s)
         AND z.starts_at <= i.first_post_at
         AND (LEAST(z.ends_at, z.withdrawn_at) IS NULL OR LEAST(z.ends_at, z.withdrawn_at) >= i.first_post_at)
        WHERE i.id = ANY(%s)
        ON CONFLICT DO NOTHING
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [radius, incident_ids])
