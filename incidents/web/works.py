"""One works site's page (``/works/<id>/``): what the works announced beside what people reported.

Readable without JavaScript: the timeline of reports before, during and after the works
is drawn here as SVG (by category, and by who is affected), each chart followed by its
table; the incidents link to the map and, for staff, to the triage. The same incidents
are exported as CSV and GeoJSON as the open-data API writes them (:mod:`incidents.api.http`).
Counts come from the works impact table (:mod:`incidents.publish.works_impact`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from incidents.api.http import collection_response
from incidents.api.pagination import Page
from incidents.api.renderers import GEOJSON
from incidents.categories import Affected, Category
from incidents.models import WorksZone
from incidents.publish.impact import zone_impact
from incidents.publish.layers import INCIDENTS
from incidents.publish.privacy import sees_personal_data
from incidents.publish.works_impact import near_zone, reports_by_period
from incidents.web.charts import Series, stacked_bars

INCIDENTS_PAGE_SIZE = 100
# The series of incidents whose posts say nothing of whom the problem harms.
UNSAID = "unsaid"
# Before and after the works, the timeline shows as long as the works lasted, within these bounds.
MIN_MARGIN = dt.timedelta(days=14)
MAX_MARGIN = dt.timedelta(days=90)
# Longer timelines are counted per week rather than per day.
MAX_DAILY_PERIODS = 120


class Timeline:
    """The periods shown for ``zone``: from before its start to after its end (or now), per day or week."""

    def __init__(self, zone: WorksZone, now: dt.datetime):
        ends = [moment for moment in (zone.ends_at, zone.withdrawn_at) if moment is not None]
        self.start = zone.starts_at
        self.end = min([*ends, now]) if ends else now
        self.end = max(self.end, self.start)
        margin = min(max(self.end - self.start, MIN_MARGIN), MAX_MARGIN)
        self.first = self.start - margin
        self.last = min(self.end + margin, max(now, self.start))
        tz = timezone.get_current_timezone()
        first_day, last_day = timezone.localdate(self.first, tz), timezone.localdate(self.last, tz)
        self.step = "day" if (last_day - first_day).days < MAX_DAILY_PERIODS else "week"
        day = first_day if self.step == "day" else first_day - dt.timedelta(days=first_day.weekday())
        delta = dt.timedelta(days=1 if self.step == "day" else 7)
        self.periods: list[dt.date] = []
        while day <= last_day:
            self.periods.append(day)
            day += delta
        start_day, end_day = timezone.localdate(self.start, tz), timezone.localdate(self.end, tz)
        self.phases = [
            "before" if period + delta <= start_day else "after" if period > end_day else "during"
            for period in self.periods
        ]
        self.window = (dt.datetime.combine(self.periods[0], dt.time.min, tz), self.last)

    def period_of(self, day: dt.date) -> dt.date:
        """The first day of the period (day or week) holding ``day``."""
        return day if self.step == "day" else day - dt.timedelta(days=day.weekday())

    def period_label(self, day: dt.date) -> str:
        if self.step == "day":
            return formats.date_format(day, "SHORT_DATE_FORMAT")
        return _("week of %(day)s") % {"day": formats.date_format(day, "SHORT_DATE_FORMAT")}

    def tick_label(self, day: dt.date) -> str:
        return formats.date_format(day, "j M" if self.step == "day" else "M Y")


def _charts(zone: WorksZone, timeline: Timeline, radius_m: float) -> list:
    index = {period: i for i, period in enumerate(timeline.periods)}
    by_category: dict[str, list[int]] = defaultdict(lambda: [0] * len(timeline.periods))
    start, end = timeline.window
    for period, category, count in reports_by_period(zone, radius_m, start, end, timeline.step):
        day = timezone.localdate(period)
        if day in index:
            by_category[category][index[day]] += count
    categories = [
        Series(code, str(label), by_category[code]) for code, label in Category.choices if any(by_category[code])
    ]
    # Who the posts say each incident harms (an incident may harm several; some say nobody).
    by_affected: dict[str, list[int]] = defaultdict(lambda: [0] * len(timeline.periods))
    for first_post_at, affects in _nearby(zone, timeline, radius_m).values_list("first_post_at", "affects"):
        day = timeline.period_of(timezone.localdate(first_post_at))
        if day in index:
            for code in affects or [UNSAID]:
                by_affected[code][index[day]] += 1
    groups = [
        Series(code, str(label), by_affected[code])
        for code, label in [*Affected.choices, (UNSAID, _("Not said"))]
        if any(by_affected[code])
    ]
    kwargs = {"period_label": timeline.period_label, "tick_label": timeline.tick_label}
    per = _("day") if timeline.step == "day" else _("week")
    description = _(
        "Incidents first reported within %(radius)s m of the works, per %(per)s, from %(first)s to %(last)s; "
        "the shaded band is the works. The table after the chart gives the same numbers."
    ) % {
        "radius": f"{radius_m:g}",
        "per": per,
        "first": formats.date_format(timeline.periods[0], "DATE_FORMAT"),
        "last": formats.date_format(timeline.periods[-1], "DATE_FORMAT"),
    }
    affected_description = _(
        "%(description)s An incident whose posts say it harms several groups counts in each; "
        "'Not said' counts those whose posts name nobody."
    ) % {"description": description}
    return [
        stacked_bars(_("Reports by category"), description, timeline.periods, categories, timeline.phases, **kwargs),
        stacked_bars(
            _("Reports by who is affected"), affected_description, timeline.periods, groups, timeline.phases, **kwargs
        ),
    ]


def _nearby(zone: WorksZone, timeline: Timeline, radius_m: float):
    return near_zone(zone, radius_m, *timeline.window)


@require_GET
def works_view(request, pk: int):
    zone = get_object_or_404(WorksZone, pk=pk)
    radius_m = settings.INCIDENTS_WORKS_RADIUS_M
    timeline = Timeline(zone, timezone.now())
    incidents = _nearby(zone, timeline, radius_m).select_related("segment").order_by("-first_post_at", "-id")
    page = Paginator(incidents, INCIDENTS_PAGE_SIZE).get_page(request.GET.get("page"))
    permalink = request.build_absolute_uri(reverse("web:works", args=[zone.pk]))
    impact = zone_impact(zone, radius_m)
    impact_rows = [
        (label, impact["before"]["by_category"].get(code, 0), impact["during"]["by_category"].get(code, 0))
        for code, label in Category.choices
        if code in impact["before"]["by_category"] or code in impact["during"]["by_category"]
    ]
    return render(
        request,
        "incidents/web/works.html",
        {
            "zone": zone,
            "status": zone.status_at(),
            "impact": impact,
            "impact_rows": impact_rows,
            "radius_m": radius_m,
            "charts": _charts(zone, timeline, radius_m),
            "timeline": timeline,
            "page": page,
            "permalink": permalink,
            "staff": sees_personal_data(request),
            "impact_flags": [
                label
                for flag, label in (
                    ("impact_pedestrian", _("pedestrians or pavement")),
                    ("impact_closure", _("full closure")),
                    ("impact_vehicle", _("vehicle lanes")),
                    ("impact_cycle", _("cycle lanes")),
                    ("impact_parking", _("parking")),
                )
                if getattr(zone, flag)
            ],
        },
    )


@require_GET
def works_export_view(request, pk: int, format: str):
    """The incidents of the page, whole, as the incidents layer publishes them (GeoJSON or CSV)."""
    if format not in ("csv", "geojson"):
        raise Http404
    zone = get_object_or_404(WorksZone, pk=pk)
    radius_m = settings.INCIDENTS_WORKS_RADIUS_M
    timeline = Timeline(zone, timezone.now())
    incidents = _nearby(zone, timeline, radius_m).order_by("first_post_at", "id")
    start, end = timeline.window
    members = {"works_zone": zone.pk, "radius_m": radius_m, "from": start.isoformat(), "to": end.isoformat()}
    return collection_response(
        request,
        INCIDENTS,
        incidents,
        Page(limit=None, offset=0),
        lambda matched, returned: {**members, "total": matched.total},
        output=format,
        content_type=GEOJSON,
    )
