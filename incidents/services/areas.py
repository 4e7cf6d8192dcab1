"""Set and query the service area: the territory the city answers for."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.db import connection, transaction

from incidents.cache import StampedCache
from incidents.geo import geog
from incidents.models import District, ServiceArea, StreetSegment
from incidents.models.areas import ServiceAreaSource


@transaction.atomic
def set_service_area_from_districts(name: str = "city") -> ServiceArea | None:
    """Make the union of all districts the service area ``name``; ``None`` if there are no districts."""
    if not District.objects.exists():
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ST_AsEWKB(ST_Multi(ST_Union(geom))) FROM {District._meta.db_table}")
        (ewkb,) = cursor.fetchone()
    area, _ = ServiceArea.objects.update_or_create(
        name=name, defaults={"source": ServiceAreaSource.DISTRICTS, "geom": GEOSGeometry(memoryview(ewkb))}
    )
    return area


@transaction.atomic
def set_service_area_from_streets(name: str = "streets", buffer_m: float | None = None) -> ServiceArea | None:
    """Make the loaded streets, grown by ``buffer_m`` metres, the service area ``name``.

    The streets are first dissolved on a coarse grid so that buffering 100k segments
    stays fast; the result covers every street and its surroundings.
    """
    if not StreetSegment.objects.exists():
        return None
    if buffer_m is None:
        buffer_m = settings.INCIDENTS_SERVICE_AREA_BUFFER_M
    table = StreetSegment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT ST_AsEWKB(ST_Multi(ST_Union(ST_Buffer({geog("cell")}, %s)::geometry)))
            FROM (
                SELECT ST_Envelope(ST_Collect(geom)) AS cell
                FROM {table}
                GROUP BY ST_SnapToGrid(ST_Centroid(geom), 0.005)
            ) AS cells
            """,
            [buffer_m],
        )
        (ewkb,) = cursor.fetchone()
    area, _ = ServiceArea.objects.update_or_create(
        name=name, defaults={"source": ServiceAreaSource.STREETS, "geom": GEOSGeometry(memoryview(ewkb))}
    )
    return area


def is_in_service_area(point: GEOSGeometry) -> bool:
    """True when any service area covers ``point``, or when no service area is defined."""
    if point.srid not in (None, 4326):
        point = point.transform(4326, clone=True)
    return in_service_area([(point.x, point.y)])[0]


# The service areas, prepared for point-in-polygon tests, read again only when they change.
# Testing points in Python (GEOS, prepared, vectorised) costs microseconds; in SQL each point
# was a test against a large multipolygon that PostgreSQL had to deserialise again and again
# (13 s of a 78 s pipeline run over 100k posts).
_prepared: StampedCache[list] = StampedCache()


def _service_areas(cursor) -> list:
    table = ServiceArea._meta.db_table
    # xmin changes whenever a row is written; a deleted or added row changes the ids.
    cursor.execute(f"SELECT id, xmin::text FROM {table} ORDER BY id")
    stamp = tuple(cursor.fetchall())

    def build() -> list:
        cursor.execute(f"SELECT ST_AsBinary(geom) FROM {table} ORDER BY id")
        areas = [shapely.from_wkb(bytes(wkb)) for (wkb,) in cursor.fetchall()]
        for area in areas:
            shapely.prepare(area)
        return areas

    return _prepared.get(stamp, build)


def in_service_area(points: Sequence[tuple[float, float]]) -> list[bool]:
    """Whether any service area covers each ``(lon, lat)``, as ``ST_Intersects`` says (no area at all: all are)."""
    if not points:
        return []
    with connection.cursor() as cursor:
        areas = _service_areas(cursor)
    if not areas:
        return [True] * len(points)
    lon = np.fromiter((point[0] for point in points), dtype=float, count=len(points))
    lat = np.fromiter((point[1] for point in points), dtype=float, count=len(points))
    inside = np.zeros(len(points), dtype=bool)
    for area in areas:
        inside |= shapely.intersects_xy(area, lon, lat)
    return inside.tolist()
