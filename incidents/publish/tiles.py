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

from django.db import connection, transaction
from django.db.models import Count, F, FloatField, Func, Min, QuerySet
from django.db.models.expressions import RawSQL

from incidents.geo import bbox_polygon
from incidents.publish.layers import Layer

# Tile grid and margin, in tile units (MVT's usual 4,096 and a 64-unit buffer).
EXTENT = 4096
BUFFER = 64
# Up to zoom 14, points sharing a cell of 4×4 pixels of a 256-pixel tile (64 of its 4,096
# units) are one feature with a ``count``, at most 4,096 per tile: a tile at zoom 8 would
# otherwise hold every incident of the city (76 MB and 16 s at 1M incidents), one at zoom 12
# most of a district. From zoom 15 (a cell under 20 m) grouping costs more than it saves
# (bench/bench_tiles.py: 80 ms against 15 ms per tile at zoom 16) and every feature is drawn.
CELL = EXTENT // 64
GROUPED_UP_TO_ZOOM = 14
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


def groups_points(layer: Layer, z: int = 0) -> bool:
    """Whether the tiles of ``layer`` at zoom ``z`` draw one feature per cell (point layers, low zooms)."""
    return layer.geometry_types[0] in ("Point", "MultiPoint") and z <= GROUPED_UP_TO_ZOOM


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
    features = tile_features(layer, z, x, y)
    columns = ", ".join(f'q."p_{name}" AS "{name}"' for name in names)
    if not groups_points(layer, z):
        inner = features.annotate(feature_id=F("pk"), mvt_geom=geometry, **values)
        inner_sql, params = inner.values("feature_id", "mvt_geom", *values).query.sql_with_params()
        rows = (
            f'SELECT q."feature_id" AS "id", q."mvt_geom" AS "geom", {columns} '
            f'FROM ({inner_sql}) AS q WHERE q."mvt_geom" IS NOT NULL'
        )
        return f"SELECT ST_AsMVT(t.*, %s, {EXTENT}, 'geom', 'id') FROM ({rows}) AS t", (layer.name, *params)
    # Points: group the tile's rows by cell with arithmetic on lon/lat (cheap for a million rows),
    # then build the MVT geometry and properties of one feature per cell only: its lowest id.
    cells = (
        features.annotate(px=_cell(layer, "x", z, x), py=_cell(layer, "y", z, y))
        .values("px", "py")
        .annotate(first_id=Min("pk"), shared=Count("pk"))
    )
    cells_sql, cells_params = cells.query.sql_with_params()
    # Materialised once: the features to draw are probed by id, only they get an MVT geometry.
    chosen = features.filter(pk__in=RawSQL('SELECT "first_id" FROM cells', []))
    inner = chosen.annotate(feature_id=F("pk"), mvt_geom=geometry, **values)
    inner_sql, params = inner.values("feature_id", "mvt_geom", *values).query.sql_with_params()
    rows = (
        f'SELECT q."feature_id" AS "id", q."mvt_geom" AS "geom", c."shared" AS "count", {columns} '
        f'FROM ({inner_sql}) AS q JOIN cells AS c ON c."first_id" = q."feature_id" WHERE q."mvt_geom" IS NOT NULL'
    )
    sql = (
        f"WITH cells AS MATERIALIZED ({cells_sql}) SELECT ST_AsMVT(t.*, %s, {EXTENT}, 'geom', 'id') FROM ({rows}) AS t"
    )
    return sql, (*cells_params, layer.name, *params)


def _cell(layer: Layer, axis: str, z: int, tile: int) -> Func:
    """The cell column (``x``) or row (``y``) of each feature in tile ``tile`` at zoom ``z`` (64 per tile)."""
    if axis == "x":
        position = "(ST_XMin(%(expressions)s) + 180) / 360"
    else:
        latitude = f"radians(least(greatest(ST_YMin(%(expressions)s), -{MAX_LATITUDE}), {MAX_LATITUDE}))"
        position = f"(1 - ln(tan({latitude}) + 1 / cos({latitude})) / pi()) / 2"
    template = f"floor(({position} * {2**z} - {int(tile)}) * {EXTENT // CELL})"
    return Func(F(layer.geometry), template=template, output_field=FloatField())


def render_tile(layer: Layer, z: int, x: int, y: int) -> bytes:
    """Tile (z, x, y) of ``layer`` as MVT bytes (empty when no feature shows on it)."""
    sql, params = tile_sql(layer, z, x, y)
    with transaction.atomic(), connection.cursor() as cursor:
        # Compiling the query (JIT, PostgreSQL's choice for a million rows) costs more than it saves.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""
