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

import math

from django.contrib.gis.db.models import GeometryField, MultiPolygonField
from django.contrib.gis.geos import GEOSGeometry, Polygon
from django.db.models import BooleanField, FloatField, Func, Value

WGS84 = 4326


def geog(sql: str) -> str:
    """Return the SQL that casts the geometry expression ``sql`` to geography."""
    return f"({sql})::geography"


# Metres in a degree of latitude, and in a degree of longitude at the equator, rounded down
# (WGS84: at least 110,574 and 111,319): a box of d / these degrees holds everything within d.
METRES_PER_DEGREE_AT_LEAST = 110_000.0
# Where planar_box() holds: away from the poles and the antimeridian.
PLANAR_BOX_MAX_LON = 179.0
PLANAR_BOX_MAX_LAT = 80.0


def planar_box(point: str, metres: str) -> str:
    """SQL: a lon/lat box around the point expression ``point`` holding everything within ``metres`` of it.

    For a probe of a table's plain geometry GiST index (``geom && box``), followed by the
    exact test on the spheroid (``_ST_DWithin``: ``ST_DWithin`` without its index support,
    so the planner does not also walk the geography index). A planar index walk is about
    three times cheaper than a geography one and finds the same rows. The longitude span
    is taken at the box's highest latitude, where a degree is shortest. Only valid where
    :func:`planar_box_holds` says so.
    """
    dlat = f"({metres} / {METRES_PER_DEGREE_AT_LEAST})"
    return f"ST_Expand({point}, {dlat} / cos(radians(abs(ST_Y({point})) + {dlat})), {dlat})"


def planar_box_holds(max_abs_lon: float, max_abs_lat: float) -> bool:
    """Whether :func:`planar_box` is right for points no farther out than these (no wrap, no pole)."""
    return max_abs_lon <= PLANAR_BOX_MAX_LON and max_abs_lat <= PLANAR_BOX_MAX_LAT


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


class AreaSquareMetres(Func):
    """Area of a surface in square metres."""

    function = "ST_Area"
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


# Metres per degree of latitude (and of longitude at the equator), mean Earth radius.
METRES_PER_DEGREE = 111_320.0


class LocalFrame:
    """An equirectangular projection to metres around a reference point, for in-memory work.

    Stored distances are always measured by PostGIS ``geography`` (above). Only a stage
    that must decide thousands of times per second without a query (the locator's
    gazetteer: street extents, crossing points, accuracies it reports) projects into
    this frame instead: across a metropolitan area (< 100 km) the error stays well below
    1 %, far under the accuracies it estimates.
    """

    __slots__ = ("kx", "ky", "lat0", "lon0")

    def __init__(self, lon0: float, lat0: float) -> None:
        self.lon0 = lon0
        self.lat0 = lat0
        self.kx = METRES_PER_DEGREE * math.cos(math.radians(lat0))
        self.ky = METRES_PER_DEGREE

    def to_xy(self, lon: float, lat: float) -> tuple[float, float]:
        return (lon - self.lon0) * self.kx, (lat - self.lat0) * self.ky

    def to_lonlat(self, x: float, y: float) -> tuple[float, float]:
        return self.lon0 + x / self.kx, self.lat0 + y / self.ky

    def project_array(self, coords):
        """Project an ``(n, 2)`` numpy array of lon/lat to metres (for ``shapely.transform``)."""
        return (coords - (self.lon0, self.lat0)) * (self.kx, self.ky)


def bbox_half_diagonal_m(bbox: tuple[float, float, float, float]) -> float:
    """Half the diagonal of a ``minlon,minlat,maxlon,maxlat`` box in metres (its covering radius)."""
    min_lon, min_lat, max_lon, max_lat = bbox
    frame = LocalFrame((min_lon + max_lon) / 2, (min_lat + max_lat) / 2)
    x0, y0 = frame.to_xy(min_lon, min_lat)
    x1, y1 = frame.to_xy(max_lon, max_lat)
    return math.hypot(x1 - x0, y1 - y0) / 2


# Within this many degrees of (0, 0) (about a metre) a position is "null island": what broken
# clients and exports write for a missing position, zeros or float noise around them. PostGIS'
# geography index also misorders nearest-neighbour probes among thousands of points packed
# there (docs/reliability.md), so such positions never reach the database as locations.
NULL_ISLAND_DEGREES = 1e-5


def is_null_island(lon: float, lat: float) -> bool:
    """Return whether (``lon``, ``lat``) is the missing-position placeholder (0, 0), give or take a metre."""
    return abs(lon) < NULL_ISLAND_DEGREES and abs(lat) < NULL_ISLAND_DEGREES
