"""
Mapbox vector tiles of the published layers, built by PostGIS (``ST_AsMVT``).

A tile of the WebMercatorQuad tiling scheme holds the layer's features whose geometry
meets the tile (with a margin of 64 of its 4,096 units, so lines and symbols crossing an
edge join up), clipped and snapped to the tile grid by ``ST_AsMVTGeom``. One layer per
tile, named like the collection; each feature keeps its id and the properties that are
columns of its table (per-row subqueries such as an incident's street name would cost
seconds at low zoom, where a tile holds most of the city).
"""

from __future__ import annotations

import math

from django.db import connection
from django.db.models import F, Func, QuerySet

from incidents.api.layers import Layer
from incidents.geo import bbox_polygon

# Tile grid and margin, in tile units (MVT's usual 4,096 and a 64-unit buffer).
EXTENT = 4096
BUFFER = 64
# Zoom levels served: WebMercatorQuad goes to 24; 22 is finer than a street's width.
MAX_ZOOM = 22
MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
# Web Mercator's latitude limit, degrees.
MAX_LATITUDE = 85.0511287798066


def is_valid_tile(z: int, x: int, y: int) -> bool:
    return 0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z


def tile_bounds(z: int, x: int, y: int, margin: float = BUFFER / EXTENT) -> tuple[float, float, float, float]:
    """The lon/lat box of tile (z, x, y), widened by ``margin`` tiles on every side."""
    size = 2**z

    def lon(column: float) -> float:
        return max(-180.0, min(180.0, column / size * 360.0 - 180.0))

    def lat(row: float) -> float:
        return max(-MAX_LATITUDE, min(MAX_LATITUDE, math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / size))))))

    return lon(x - margin), lat(y + 1 + margin), lon(x + 1 + margin), lat(y - margin)


def _of_the_row(expression) -> bool:
    """Whether ``expression`` reads only the row's own columns (no subquery)."""
    if isinstance(expression, F):
        return True
    return isinstance(expression, Func) and all(map(_of_the_row, expression.get_source_expressions()))


def tile_properties(layer: Layer) -> list[str]:
    """The properties a tile carries: those computed from the row alone (no per-row subquery)."""
    return [prop.name for prop in layer.properties if _of_the_row(prop.expression)]


def tile_features(layer: Layer, z: int, x: int, y: int) -> QuerySet:
    """The features of ``layer`` that may show on tile (z, x, y): an index probe on the stored geometry."""
    box = bbox_polygon(*tile_bounds(z, x, y))
    return layer.queryset().filter(**{f"{layer.geometry}__bboverlaps": box}).order_by()


def tile_sql(layer: Layer, z: int, x: int, y: int) -> tuple[str, tuple]:
    """The ``ST_AsMVT`` query of tile (z, x, y) and its parameters."""
    names = tile_properties(layer)
    values = {}
    for prop in layer.properties:
        if prop.name not in names:
            continue
        if prop.schema.get("format") == "date-time":
            # RFC 3339 text, as in the GeoJSON (ST_AsMVT would write PostgreSQL's own format).
            values[f"p_{prop.name}"] = Func(
                prop.expression, template="to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SSZ')"
            )
        else:
            values[f"p_{prop.name}"] = prop.expression
    envelope = f"ST_TileEnvelope({int(z)}, {int(x)}, {int(y)})"
    geometry = Func(
        layer.geometry_expression(),
        template=f"ST_AsMVTGeom(ST_Transform(%(expressions)s, 3857), {envelope}, {EXTENT}, {BUFFER}, true)",
    )
    inner = tile_features(layer, z, x, y).annotate(feature_id=F("pk"), mvt_geom=geometry, **values)
    inner = inner.values("feature_id", "mvt_geom", *values)
    inner_sql, params = inner.query.sql_with_params()
    columns = ", ".join(f'q."p_{name}" AS "{name}"' for name in names)
    sql = (
        f"SELECT ST_AsMVT(t.*, %s, {EXTENT}, 'geom', 'id') FROM ("
        f'SELECT q."feature_id" AS "id", q."mvt_geom" AS "geom", {columns} FROM ({inner_sql}) AS q '
        'WHERE q."mvt_geom" IS NOT NULL) AS t'
    )
    return sql, (layer.name, *params)


def render_tile(layer: Layer, z: int, x: int, y: int) -> bytes:
    """Tile (z, x, y) of ``layer`` as MVT bytes (empty when no feature shows on it)."""
    sql, params = tile_sql(layer, z, x, y)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""
