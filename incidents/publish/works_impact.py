"""
The works impact table: which incidents lie near which works zone, kept as rows.

Counting the incidents near a zone before and during its works used to measure spheroid
distances from the zone's impact area to every incident around it, for every zone of a
ranking: about two seconds at a million incidents. :class:`WorksZoneNeighbour` keeps, for
each incident within a radius (``INCIDENTS_WORKS_RADIUS_M`` when it was built, kept in the
schema as the function ``incidents_works_impact_radius()``) of a zone's impact area, the
incident's first report, category and distance; a count for any time window is then a
range of one zone's index. The counts are those of the distance queries (:mod:`incidents.publish.impact`):

- the rows are chosen with the same predicate, ``ST_DWithin(location, impact_area, radius)``
  on geography, so at the table's radius the same incidents are counted;
- for a smaller radius, rows are kept by their stored distance, and those within a
  millimetre of the radius are tested again with ``ST_DWithin`` (two ways of measuring
  on the spheroid may disagree in the last digits);
- a larger radius than the table's is answered by the distance queries.

Kept current by the database itself, from the statement that changes what the rows copy
(triggers of migration ``0011``, once per statement over its transition tables, whatever
writes: the pipeline, an import, the admin, a bulk load): an incident inserted or moved
is queued (:class:`~incidents.models.WorksImpactPending`, one id) and measured by the next
read (:func:`catch_up`) — measuring cost the pipeline a tenth of its database time; a
changed first report or category is copied at once; zones inserted or whose impact area
changed are measured at once. An incident that gains a post and stays put costs nothing.
:func:`rebuild` fills the table again for another radius (``manage.py
rebuild_works_impact``, after a change of ``INCIDENTS_WORKS_RADIUS_M``).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from incidents.geo import geog
from incidents.models import Incident, WorksImpactPending, WorksZone, WorksZoneNeighbour

NEIGHBOUR = WorksZoneNeighbour._meta.db_table
PENDING = WorksImpactPending._meta.db_table
INCIDENT = Incident._meta.db_table
WORKS = WorksZone._meta.db_table

# Incident i within %(radius)s metres of zone z: the predicate the table is built with.
_NEAR = f"ST_DWithin({geog('i.location')}, {geog('z.impact_area')}, %(radius)s)"
# Rows whose stored distance is this close to the radius asked for are measured again (metres).
BOUNDARY_M = 1e-3
# Database functions (migration 0011): the radius the table is built for (NULL: not built), and
# the one that measures incidents against the zones (their rows replaced), as rebuilding does.
RADIUS = "incidents_works_impact_radius"
MEASURE = "incidents_works_impact_measure"


def table_radius() -> float | None:
    """The radius the table was built for, or None when it was never built."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {RADIUS}()")
        return cursor.fetchone()[0]


def set_table_radius(cursor, radius_m: float | None) -> None:
    """Declare the radius the table holds (None: the table is off, distances are measured)."""
    value = "NULL" if radius_m is None else repr(float(radius_m))
    cursor.execute(
        f"CREATE OR REPLACE FUNCTION {RADIUS}() RETURNS float8 LANGUAGE sql STABLE AS 'SELECT {value}::float8'"
    )


def within_sql(alias: str, radius: str) -> str:
    """SQL: whether the neighbour row ``alias`` lies within ``radius`` metres (an SQL expression).

    Only for a radius the table covers (:func:`covers`); at the table's own radius every
    row does, and the caller may leave the condition out.
    """
    return f"""CASE WHEN {alias}.distance_m <= {radius} - {BOUNDARY_M} THEN true
        WHEN {alias}.distance_m > {radius} + {BOUNDARY_M} THEN false
        ELSE (SELECT ST_DWithin({geog("x.location")}, {geog("y.impact_area")}, {radius})
              FROM {INCIDENT} x, {WORKS} y WHERE x.id = {alias}.incident_id AND y.id = {alias}.works_zone_id)
        END"""


def catch_up() -> int:
    """Measure the incidents inserted or moved since the table was last read; return how many.

    Each read of the table calls it first (in its own transaction): the pipeline only
    queued their ids. Concurrent readers take turns on the queue's rows, so a reader never
    counts from a table another is still filling.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {PENDING} RETURNING incident_id")
        ids = sorted(incident_id for (incident_id,) in cursor.fetchall())
        if ids:
            cursor.execute(f"SELECT {MEASURE}(%s)", [ids])
    return len(ids)


@transaction.atomic
def rebuild(radius_m: float | None = None) -> int:
    """Fill the table again for ``radius_m`` (default ``INCIDENTS_WORKS_RADIUS_M``); return its rows."""
    radius_m = settings.INCIDENTS_WORKS_RADIUS_M if radius_m is None else float(radius_m)
    with connection.cursor() as cursor:
        set_table_radius(cursor, radius_m)
        # Not TRUNCATE: the caller may hold deferred checks on these tables.
        cursor.execute(f"DELETE FROM {PENDING}")
        cursor.execute(f"DELETE FROM {NEIGHBOUR}")
        cursor.execute(f"SELECT {MEASURE}(array(SELECT id FROM {INCIDENT} ORDER BY id))")
        cursor.execute(f"ANALYZE {NEIGHBOUR}")
        cursor.execute(f"SELECT count(*) FROM {NEIGHBOUR}")
        return cursor.fetchone()[0]


# --- reads ------------------------------------------------------------------------------


def _from_table(radius_m: float, zone: str, radius: str = "%(radius)s") -> str | None:
    built = table_radius()
    if built is None or radius_m > built:
        return None
    catch_up()
    within = "true" if radius_m == built else within_sql("i", radius)
    return f"{NEIGHBOUR} i WHERE i.works_zone_id = {zone} AND {within}"


def near_sql(radius_m: float, zone: str) -> str:
    """SQL after ``FROM``: the incidents within ``radius_m`` of zone ``zone`` (an SQL expression of the query).

    The rows (alias ``i``) have ``first_post_at`` and ``category``; the radius is the
    query's ``%(radius)s`` parameter. Read from the table when it covers the radius,
    else measured (the distance queries of before the table).
    """
    measured = f"{INCIDENT} i, {WORKS} z WHERE z.id = {zone} AND {_NEAR}"
    return _from_table(radius_m, zone) or measured


def near_zone(zone: WorksZone, radius_m: float, start: dt.datetime | None = None, end: dt.datetime | None = None):
    """The incidents within ``radius_m`` of ``zone``'s impact area first reported in ``[start, end)`` (None: open).

    An unordered queryset: from the table, one range of the zone's index and a look-up
    per incident; else measured.
    """
    window = {
        name: moment
        for name, moment in (("first_post_at__gte", start), ("first_post_at__lt", end))
        if moment is not None
    }
    # The zone's id and the radius are numbers: written into the subquery, which then takes
    # Django's positional parameters (the window) alone.
    source = _from_table(radius_m, str(int(zone.pk)), repr(float(radius_m)))
    if source is None:
        return Incident.objects.near(zone.impact_area, radius_m).order_by().filter(**window)
    bounds = "".join(
        f" AND i.first_post_at {operator} %s"
        for name, operator in (("first_post_at__gte", ">="), ("first_post_at__lt", "<"))
        if name in window
    )
    rows = RawSQL(f"SELECT i.incident_id FROM {source}{bounds}", list(window.values()))  # noqa: S611 (numbers)
    return Incident.objects.filter(pk__in=rows, **window)


def reports_by_period(
    zone: WorksZone, radius_m: float, start: dt.datetime, end: dt.datetime, step: str
) -> list[tuple[dt.datetime, str, int]]:
    """Incidents first reported within ``radius_m`` of ``zone`` in ``[start, end)``, counted per local day
    or week (``step``: ``day`` or ``week``) and category: ``(period start, category, count)`` rows."""
    if step not in ("day", "week"):
        raise ValueError(step)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT date_trunc(%(step)s, i.first_post_at, %(tz)s) AS period, i.category, count(*)
            FROM {near_sql(radius_m, "%(zone)s")} AND i.first_post_at >= %(start)s AND i.first_post_at < %(end)s
            GROUP BY 1, 2 ORDER BY 1, 2""",
            {"step": step, "tz": timezone.get_current_timezone_name(), "zone": zone.pk, "radius": radius_m,
             "start": start, "end": end},
        )  # fmt: skip
        return cursor.fetchall()
