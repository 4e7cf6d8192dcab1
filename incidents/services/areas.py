"""Set the service area: the territory the city answers for (tested by :mod:`incidents.pipeline.areas`)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.db import connection, transaction

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
