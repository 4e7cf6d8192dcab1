"""Triage metrics: how fast the city reacts, as medians per category and per week.

Time to acknowledge runs from the incident's creation (when the city could first know of
it) to its first status change out of *new*, whatever it was (acknowledged, dispatched,
resolved, rejected, duplicate): the first human reaction. Time to resolve runs to its
first *resolved*. Medians, not means: one incident forgotten for a month must not hide
how the other hundred were handled. Incidents not yet acknowledged (resolved) count in
``incidents`` but not in the median, and ``open`` says how many still wait.

One SQL statement: the first reaction and resolution of each incident come from one
aggregate over the events (a hash join, not a subquery per incident), and the three
groupings (overall, per category, per week) from one ``GROUPING SETS`` scan.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import connection

from incidents.models import Incident, IncidentEvent, IncidentStatus
from incidents.models.incidents import OPEN_STATUSES

MEASURES = ("incidents", "open", "acknowledged", "resolved", "median_acknowledge_s", "median_resolve_s")


def metrics_sql(with_categories: bool, with_district: bool) -> str:
    incidents, events = Incident._meta.db_table, IncidentEvent._meta.db_table
    category = "AND i.category = ANY(%(categories)s)" if with_categories else ""
    district = "AND i.district_id = %(district)s" if with_district else ""
    return f"""
        WITH firsts AS (
            SELECT incident_id,
                   min(created_at) FILTER (WHERE from_status = %(new)s) AS acknowledged_at,
                   min(created_at) FILTER (WHERE to_status = %(resolved)s) AS resolved_at
            FROM {events} GROUP BY incident_id
        ), measured AS (
            SELECT i.category, i.status, f.acknowledged_at, f.resolved_at, i.created_at,
                   date_trunc('week', i.created_at AT TIME ZONE %(tz)s)::date AS week
            FROM {incidents} i LEFT JOIN firsts f ON f.incident_id = i.id
            WHERE i.created_at >= %(start)s AND i.created_at <= %(end)s {category} {district}
        )
        SELECT GROUPING(category) AS by_category, GROUPING(week) AS by_week, category, week,
               count(*), count(*) FILTER (WHERE status = ANY(%(open)s)),
               count(acknowledged_at), count(resolved_at),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM acknowledged_at - created_at)),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - created_at))
        FROM measured
        GROUP BY GROUPING SETS ((), (category), (week))
        ORDER BY by_category DESC, by_week DESC, category, week
    """


def _row(values) -> dict:
    row = dict(zip(MEASURES, values, strict=True))
    for key in ("median_acknowledge_s", "median_resolve_s"):
        if row[key] is not None:
            row[key] = round(float(row[key]), 1)
    return row


def triage_metrics(
    start: dt.datetime, end: dt.datetime, *, categories: list[str] | None = None, district: int | None = None
) -> dict:
    """Medians of the incidents created in ``[start, end]``: overall, per category and per week (Monday, local)."""
    params = {
        "start": start,
        "end": end,
        "tz": settings.TIME_ZONE,
        "new": IncidentStatus.NEW,
        "resolved": IncidentStatus.RESOLVED,
        "open": [str(status) for status in OPEN_STATUSES],
        "categories": categories,
        "district": district,
    }
    with connection.cursor() as cursor:
        cursor.execute(metrics_sql(bool(categories), district is not None), params)
        rows = cursor.fetchall()
    empty = (0, 0, 0, 0, None, None)
    overall = next((_row(row[4:]) for row in rows if row[0] and row[1]), _row(empty))
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "overall": overall,
        "by_category": [{"category": row[2], **_row(row[4:])} for row in rows if not row[0]],
        "by_week": [{"week": row[3].isoformat(), **_row(row[4:])} for row in rows if row[0] and not row[1]],
    }
