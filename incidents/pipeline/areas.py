"""Whether points lie in the service area: the territory the city answers for."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from django.contrib.gis.geos import GEOSGeometry
from django.db import connection

from incidents.cache import StampedCache
from incidents.models import ServiceArea


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
