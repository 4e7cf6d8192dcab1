"""Check GeoJSON geometries and write them as WGS84 EWKT for the bulk loader.

Each position is checked here (numbers, WGS84 range, latitude/longitude swapped), so a
bad record is rejected with its reason instead of failing the whole COPY. Validity in
the OGC sense (self-intersections...) is repaired later in PostGIS with ST_MakeValid.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from incidents.inputs import RecordError

LINES = frozenset({"LineString", "MultiLineString"})
POLYGONS = frozenset({"Polygon", "MultiPolygon"})
ANY = frozenset({"Point", "MultiPoint", *LINES, *POLYGONS})
# WZDx road events: a line along the road, or points where the event starts and ends.
LINE_OR_POINTS = frozenset({"LineString", "MultiPoint"})

_EXPECTED = {
    LINES: gettext_lazy("a line"),
    POLYGONS: gettext_lazy("a polygon"),
    ANY: gettext_lazy("a point, line or polygon"),
    LINE_OR_POINTS: gettext_lazy("a line or points"),
}


def _position(position: Any) -> str:
    try:
        x, y = position[0], position[1]
    except (TypeError, IndexError, KeyError):
        raise RecordError(_("malformed position %(position)r") % {"position": position}) from None
    if isinstance(x, bool) or isinstance(y, bool) or not isinstance(x, int | float) or not isinstance(y, int | float):
        raise RecordError(_("position %(position)r is not two numbers") % {"position": position})
    x, y = float(x), float(y)
    if not (math.isfinite(x) and math.isfinite(y)):
        raise RecordError(_("position %(position)r is not finite") % {"position": position})
    if not (-180.0 <= x <= 180.0 and -90.0 <= y <= 90.0):
        if -90.0 <= x <= 90.0 and -180.0 <= y <= 180.0:
            raise RecordError(
                _("coordinates (%(x)s, %(y)s) look swapped: GeoJSON positions are longitude, latitude")
                % {"x": x, "y": y}
            )
        raise RecordError(
            _("coordinates (%(x)s, %(y)s) are outside the WGS84 longitude/latitude range") % {"x": x, "y": y}
        )
    # repr() is the shortest text that reads back as the same double: re-imports compare equal.
    return f"{x!r} {y!r}"


def _points(positions: Any) -> str:
    if not isinstance(positions, list) or not positions:
        raise RecordError(_("empty geometry"))
    return "(" + ",".join(f"({_position(p)})" for p in positions) + ")"


def _line(positions: Any) -> str:
    if not isinstance(positions, list) or len(positions) < 2:
        raise RecordError(_("a line needs at least 2 positions"))
    return "(" + ",".join([_position(p) for p in positions]) + ")"


def _ring(positions: Any) -> str:
    if not isinstance(positions, list) or len(positions) < 4:
        raise RecordError(_("a polygon ring needs at least 4 positions"))
    if positions[0] != positions[-1]:
        raise RecordError(_("a polygon ring is not closed (its last position must repeat the first)"))
    return _line(positions)


def _polygon(rings: Any) -> str:
    if not isinstance(rings, list) or not rings:
        raise RecordError(_("empty geometry"))
    return "(" + ",".join([_ring(ring) for ring in rings]) + ")"


def _multi(parts: Any, write) -> str:
    if not isinstance(parts, list) or not parts:
        raise RecordError(_("empty geometry"))
    return "(" + ",".join([write(part) for part in parts]) + ")"


_WRITERS = {
    "Point": lambda c: f"({_position(c)})",
    "MultiPoint": _points,
    "LineString": _line,
    "MultiLineString": lambda c: _multi(c, _line),
    "Polygon": _polygon,
    "MultiPolygon": lambda c: _multi(c, _polygon),
}


def geojson_to_ewkt(geometry: Any, allowed: frozenset[str] = ANY) -> str:
    """Return the EWKT of a GeoJSON geometry object, or raise :class:`RecordError` saying why not."""
    if geometry is None or geometry == {}:
        raise RecordError(_("missing geometry"))
    if not isinstance(geometry, dict):
        raise RecordError(_("geometry is not a GeoJSON geometry object"))
    kind = geometry.get("type")
    if kind not in _WRITERS:
        raise RecordError(_("unsupported geometry type %(kind)r") % {"kind": kind})
    if kind not in allowed:
        raise RecordError(
            _("%(kind)s geometry where %(expected)s is expected")
            % {"kind": kind, "expected": _EXPECTED.get(allowed, gettext_lazy("another type"))}
        )
    coordinates = geometry.get("coordinates")
    if coordinates is None or coordinates == []:
        raise RecordError(_("empty geometry"))
    return f"SRID=4326;{kind.upper()}{_WRITERS[kind](coordinates)}"


def lines_to_ewkt(lines: Sequence[Sequence[tuple[float, float]]]) -> str:
    """Return the EWKT MultiLineString of ``lines`` (sequences of (lon, lat))."""
    return "SRID=4326;MULTILINESTRING" + _multi([list(line) for line in lines], _line)


def point_to_ewkt(lon: Any, lat: Any) -> str:
    """Return the EWKT of a point given as two published values (strings or numbers)."""
    try:
        position = [float(lon), float(lat)]
    except (TypeError, ValueError):
        raise RecordError(_("coordinates (%(lon)r, %(lat)r) are not numbers") % {"lon": lon, "lat": lat}) from None
    return f"SRID=4326;POINT({_position(position)})"
