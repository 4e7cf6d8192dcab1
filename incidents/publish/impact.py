"""
Works impact: incidents near a works zone during the works against the same length of
time just before, by category and by street segment; and the ranking of zones by impact.

"Near" is within ``radius`` metres (default ``INCIDENTS_WORKS_RADIUS_M``) of the zone's
impact area, measured on the spheroid (``incidents.geo``). An incident counts in the
period where its first post falls. The baseline ("before") is as long as the period
measured ("during"), so the two counts compare directly; ``excess`` is their difference.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from incidents.models import StreetSegment, WorksZone
from incidents.publish.layers import COORDINATE_DECIMALS, right_hand_rule
from incidents.publish.works_impact import near_sql, near_zone

# A planned zone, or one that ended instantly, is still measured over at least a day.
MIN_PERIOD = dt.timedelta(days=1)
TOP_SEGMENTS = 10


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


def zone_impact(zone: WorksZone, radius_m: float, categories: list[str] | None = None) -> dict:
    """Incidents near ``zone`` before and during its works, by category and top segments."""
    now = timezone.now()
    start = zone.starts_at
    ends = [moment for moment in (zone.ends_at, zone.withdrawn_at) if moment is not None]
    end = min([*ends, now]) if start <= now else start
    length = max(end - start, MIN_PERIOD)
    during_end = max(end, start + MIN_PERIOD) if start <= now else start
    before_start = start - length

    nearby = near_zone(zone, radius_m, before_start, during_end)
    if categories:
        nearby = nearby.filter(category__in=categories)
    before = Q(first_post_at__lt=start)
    during = Q(first_post_at__gte=start)

    periods = {
        "before": {"from": _iso(before_start), "to": _iso(start), "total": 0, "by_category": {}, "by_affects": {}},
        "during": {"from": _iso(start), "to": _iso(during_end), "total": 0, "by_category": {}, "by_affects": {}},
    }
    rows = nearby.values("category").annotate(before=Count("pk", filter=before), during=Count("pk", filter=during))
    for row in rows.order_by("category"):
        for period in ("before", "during"):
            if row[period]:
                periods[period]["by_category"][row["category"]] = row[period]
                periods[period]["total"] += row[period]

    # Who the posts say they harm, beside what the works announced they would take (below).
    for first_post_at, affects in nearby.values_list("first_post_at", "affects"):
        counts = periods["before" if first_post_at < start else "during"]["by_affects"]
        for code in affects:
            counts[code] = counts.get(code, 0) + 1
    for period in periods.values():
        period["by_affects"] = dict(sorted(period["by_affects"].items()))

    segments = (
        nearby.filter(segment__isnull=False)
        .values("segment_id")
        .annotate(before=Count("pk", filter=before), during=Count("pk", filter=during))
        .order_by("-during", "-before", "segment_id")[:TOP_SEGMENTS]
    )
    names = dict(StreetSegment.objects.filter(pk__in=[row["segment_id"] for row in segments]).values_list("pk", "name"))
    before_total, during_total = periods["before"]["total"], periods["during"]["total"]
    return {
        "works_zone": zone.pk,
        "title": zone.title,
        "status": zone.status_at(now),
        "radius_m": radius_m,
        "announced": {
            "pedestrians": zone.impact_pedestrian,
            "cyclists": zone.impact_cycle,
            "motor_vehicles": zone.impact_vehicle,
            "parking": zone.impact_parking,
            "closure": zone.impact_closure,
        },
        **periods,
        "excess": during_total - before_total,
        "ratio": round(during_total / before_total, 3) if before_total else None,
        "top_segments": [
            {
                "segment": row["segment_id"],
                "name": names.get(row["segment_id"], ""),
                "before": row["before"],
                "during": row["during"],
            }
            for row in segments
        ],
    }


def ranking_sql(with_categories: bool, with_bbox: bool, radius_m: float) -> str:
    zones = WorksZone._meta.db_table
    end = "LEAST(z.ends_at, z.withdrawn_at)"  # effective_end() in SQL
    category = "AND i.category = ANY(%(categories)s)" if with_categories else ""
    bbox = "AND z.geom && ST_MakeEnvelope(%(w)s, %(s)s, %(e)s, %(n)s, 4326)" if with_bbox else ""
    source = near_sql(radius_m, "m.id")  # the works impact table, or distances where it does not cover radius_m
    return f"""
        WITH measured AS (
            SELECT z.id, z.geom, z.title, z.starts_at, {end} AS ends,
                   GREATEST(z.starts_at, %(from)s) AS d_from,
                   LEAST(coalesce({end}, %(to)s), %(to)s) AS d_to
            FROM {zones} z
            WHERE z.starts_at <= %(to)s AND ({end} IS NULL OR {end} >= %(from)s) {bbox}
        ), counted AS (
            SELECT m.*,
                (SELECT count(*) FROM {source} {category}
                   AND i.first_post_at >= m.d_from AND i.first_post_at < m.d_to) AS during,
                (SELECT count(*) FROM {source} {category}
                   AND i.first_post_at >= m.starts_at - (m.d_to - m.d_from) AND i.first_post_at < m.starts_at)
                   AS before
            FROM measured m
        )
        SELECT json_build_object(
            'type', 'Feature', 'id', id,
            'geometry', ST_AsGeoJSON({right_hand_rule("geom")}, {COORDINATE_DECIMALS}, 0)::json,
            'properties', json_build_object(
                'rank', row_number() OVER (ORDER BY during - before DESC, during DESC, id),
                'title', title, 'starts_at', starts_at, 'ends_at', ends,
                'measured_from', d_from, 'measured_to', d_to,
                'incidents_before', before, 'incidents_during', during, 'excess', during - before,
                'ratio', CASE WHEN before > 0 THEN round(during::numeric / before, 3) END
            )
        )::text, count(*) OVER ()
        FROM counted
        ORDER BY during - before DESC, during DESC, id
        LIMIT %(limit)s OFFSET %(offset)s
    """


def rank_zones(
    start: dt.datetime,
    end: dt.datetime,
    radius_m: float,
    *,
    categories: list[str] | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[str], int]:
    """Zones active in ``[start, end]`` ranked by excess incidents; GeoJSON feature texts and the total."""
    params = {"from": start, "to": end, "radius": radius_m, "limit": limit, "offset": offset}
    if categories:
        params["categories"] = categories
    if bbox:
        params.update(zip(("w", "s", "e", "n"), bbox, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(ranking_sql(bool(categories), bool(bbox), radius_m), params)
        rows = cursor.fetchall()
    if not rows and offset:
        # The page is past the end: count without paging.
        with connection.cursor() as cursor:
            params.update(limit=1, offset=0)
            cursor.execute(ranking_sql(bool(categories), bool(bbox), radius_m), params)
            first = cursor.fetchone()
        return [], first[1] if first else 0
    return [row[0] for row in rows], rows[0][1] if rows else 0
