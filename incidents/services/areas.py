"""Set the service area: the territory the city answers for (tested by :mod:`incidents.pipeline.areas`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.db import connection, transaction
from django.utils.translation import gettext as _

from incidents.geo import geog
from incidents.importers import geometry
from incidents.importers.geojson import iter_features
from incidents.inputs import InputError, InputFile, RecordError
from incidents.models import District, ServiceArea, StreetSegment
from incidents.models.areas import ServiceAreaSource


def _save_area(name: str, source: ServiceAreaSource, union_sql: str, params: dict, buffer_m: float) -> ServiceArea:
    """Store the multipolygon ``union_sql`` computes, grown by ``buffer_m`` metres, as the service area ``name``."""
    area = f"ST_Multi(ST_CollectionExtract(ST_MakeValid(({union_sql})), 3))"
    if buffer_m:
        area = f"ST_Multi(ST_Buffer({geog(area)}, %(buffer_m)s)::geometry)"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ST_AsEWKB({area})", {**params, "buffer_m": float(buffer_m)})
        (ewkb,) = cursor.fetchone()
    service_area, _created = ServiceArea.objects.update_or_create(
        name=name, defaults={"source": source, "geom": GEOSGeometry(memoryview(ewkb))}
    )
    return service_area


@transaction.atomic
def set_service_area_from_districts(name: str = "city", buffer_m: float = 0) -> ServiceArea | None:
    """Make the union of all districts, grown by ``buffer_m`` metres, the service area ``name``.

    ``None`` if no district is loaded.
    """
    if not District.objects.exists():
        return None
    union = f"SELECT ST_Union(geom) FROM {District._meta.db_table}"
    return _save_area(name, ServiceAreaSource.DISTRICTS, union, {}, buffer_m)


@transaction.atomic
def set_service_area_from_streets(name: str = "streets", buffer_m: float | None = None) -> ServiceArea | None:
    """Make the current streets (retired ones left out), grown by ``buffer_m`` metres, the service area ``name``.

    The streets are first dissolved on a coarse grid so that buffering 100k segments
    stays fast; the result covers every street and its surroundings. ``None`` if no
    street is loaded.
    """
    if not StreetSegment.objects.current().exists():
        return None
    if buffer_m is None:
        buffer_m = settings.INCIDENTS_SERVICE_AREA_BUFFER_M
    cells = f"""
        SELECT ST_Union(ST_Buffer({geog("cell")}, %(cell_buffer_m)s)::geometry)
        FROM (
            SELECT ST_Envelope(ST_Collect(geom)) AS cell
            FROM {StreetSegment._meta.db_table}
            WHERE retired_at IS NULL
            GROUP BY ST_SnapToGrid(ST_Centroid(geom), 0.005)
        ) AS cells
    """
    # Each cell is grown before the union (fast); the whole is not grown a second time.
    return _save_area(name, ServiceAreaSource.STREETS, cells, {"cell_buffer_m": float(buffer_m)}, 0)


@transaction.atomic
def set_service_area_from_file(inputs: Sequence[InputFile], name: str = "city", buffer_m: float = 0) -> ServiceArea:
    """Make the polygons of GeoJSON ``inputs``, united and grown by ``buffer_m`` metres, the service area ``name``.

    Each input may be a FeatureCollection, a Feature or a bare Polygon/MultiPolygon.
    Raise :class:`InputError` when an input cannot be read, holds something other than
    polygons, or holds none.
    """
    polygons: list[str] = []
    for input_file in inputs:
        if input_file.is_empty:
            raise InputError(_("%(name)s: the file is empty.") % {"name": input_file.name})
        document = input_file.json()
        if isinstance(document, Mapping) and document.get("type") in geometry.POLYGONS:
            located = [("", document)]
        else:
            located = [
                (feature.position, feature.geometry) for feature in iter_features(document, input_file.name).features
            ]
        for position, shape in located:
            try:
                polygons.append(geometry.geojson_to_ewkt(shape, geometry.POLYGONS))
            except RecordError as error:
                where = f"{input_file.name}: {position}" if position else input_file.name
                raise InputError(
                    _("%(where)s: %(error)s; a service area is made of polygons only.")
                    % {"where": where, "error": error}
                ) from None
    if not polygons:
        raise InputError(
            _("%(names)s: no polygon; give a GeoJSON Polygon, MultiPolygon or features with such geometries.")
            % {"names": ", ".join(input_file.name for input_file in inputs) or "-"}
        )
    union = "SELECT ST_Union(ST_GeomFromEWKT(polygon)) FROM unnest(%(polygons)s::text[]) AS polygon"
    return _save_area(name, ServiceAreaSource.MANUAL, union, {"polygons": polygons}, buffer_m)
