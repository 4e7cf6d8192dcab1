"""Triage metrics: how fast the city reacts, as medians per category and per week.

Time to acknowledge runs from the incident's creation (when the city could first know of
it) to its first status change out of *new*, whatever it was (acknowledged, dispatched,
resolved, rejected, duplicate): the first human reaction. Time to resolve runs to its
first *resolved*. Medians, not means: one incident forgotten for a month must not hide
how the other hundred were handled. Incidents not yet acknowledged (resolved) count in
``incidents`` but not in the median, and ``open`` says how many wait.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Aggregate, Count, F, FloatField, Func, Q
from django.db.models.functions import TruncWeek

from incidents.models.incidents import OPEN_STATUSES, IncidentQuerySet


class Median(Aggregate):
    """The median of a numeric expression (PostgreSQL ``percentile_cont(0.5)``)."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


class Seconds(Func):
    """An interval in seconds."""

    template = "EXTRACT(EPOCH FROM %(expressions)s)"
    output_field = FloatField()


def _measures() -> dict:
    return {
        "incidents": Count("pk"),
        "open": Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        "acknowledged": Count("acknowledged_at"),
        "resolved": Count("resolved_at"),
        "median_acknowledge_s": Median(Seconds(F("acknowledged_at") - F("created_at"))),
        "median_resolve_s": Median(Seconds(F("resolved_at") - F("created_at"))),
    }


def _clean(row: dict) -> dict:
    for key in ("median_acknowledge_s", "median_resolve_s"):
        if row[key] is not None:
            row[key] = round(float(row[key]), 1)
    return row


def triage_metrics(incidents: IncidentQuerySet, start: dt.datetime, end: dt.datetime) -> dict:
    """Medians of the incidents created in ``[start, end]``: overall, per category and per week (Monday)."""
    measured = incidents.filter(created_at__gte=start, created_at__lte=end).with_response_times().order_by()
    overall = _clean(measured.aggregate(**_measures()))
    by_category = [_clean(row) for row in measured.values("category").annotate(**_measures()).order_by("category")]
    by_week = []
    for row in measured.annotate(week=TruncWeek("created_at")).values("week").annotate(**_measures()).order_by("week"):
        row["week"] = row["week"].date().isoformat()
        by_week.append(_clean(row))
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "overall": overall,
        "by_category": by_category,
        "by_week": by_week,
    }
