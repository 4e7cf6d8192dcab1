"""
Where distances in metres are decided.

All geometries are stored in WGS84 (SRID 4326) longitude/latitude. Every metric
computation (distance, "within N metres", buffer, length) casts to PostGIS
``geography``, which measures on the spheroid, so the same code is right for any city
without choosing a projection. Each spatial table has a GiST index on
``(geom)::geography`` next to the plain geometry index, so metric filters and
nearest-neighbour ordering (``<->``) stay indexed.

Use the expressions below in the ORM and :func:`geog` in hand-written SQL; never
compare raw degree distances.
"""

from django.contrib.gis.db.models import GeometryField, MultiPolygonField
from django.contrib.gis.geos import GEOSGeometry, Polygon
from django.db.models import BooleanField, FloatField, Func, Value

WGS84 = 4326


def geog(sql: str) -> str:
    """Return the SQL that casts the geometry expression ``sql`` to geography."""
    return f"({sql})::geography"


class Geography(Func):
    """Cast a geometry expression to geography (the form the functional GiST indexes use)."""

    template = "(%(expressions)s)::geography"
    output_field = GeometryField(geography=True, srid=WGS84)


class DistanceMetres(Func):
    """Distance in metres between two geometries, on the spheroid."""

    function = "ST_Distance"
    output_field = FloatField()

    def __init__(self, a, b, **extra):
        super().__init__(Geography(a), Geography(b), **extra)


class WithinMetres(Func):
    """True where two geometries lie within ``metres`` of each other (index-assisted)."""

    function = "ST_DWithin"
    output_field = BooleanField()

    def __init__(self, a, b, metres: float, **extra):
        super().__init__(Geography(a), Geography(b), Value(float(metres)), **extra)


class LengthMetres(Func):
    """Length of a linear geometry in metres."""

    function = "ST_Length"
    output_field = FloatField()

    def __init__(self, expression, **extra):
        super().__init__(Geography(expression), **extra)


class BufferMetres(Func):
    """The geometry grown by ``metres`` on every side, as a WGS84 MultiPolygon."""

    template = "ST_Multi(ST_Buffer(%(expressions)s)::geometry)"
    output_field = MultiPolygonField(srid=WGS84)

    def __init__(self, expression, metres: float, **extra):
        super().__init__(Geography(expression), Value(float(metres)), **extra)


def point_value(point: GEOSGeometry) -> Value:
    """Wrap a GEOS point as an SQL value with its SRID (4326 assumed when unset)."""
    if point.srid is None:
        point = point.clone()
        point.srid = WGS84
    return Value(point, output_field=GeometryField(srid=WGS84))


def bbox_polygon(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> Polygon:
    """Return the WGS84 polygon of a ``minlon,minlat,maxlon,maxlat`` box."""
    polygon = Polygon.from_bbox((min_lon, min_lat, max_lon, max_lat))
    polygon.srid = WGS84
    return polygon
