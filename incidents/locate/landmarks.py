"""
Places the locator knows besides streets: landmarks (stations, markets, schools, churches,
squares, bridges, parks, museums, hospitals, rivers) and address points (house numbers).

They come from one JSON file (``INCIDENTS_LANDMARKS_FILE``, default
``data/landmarks_toulouse.json``)::

    {"about": "...",
     "landmarks": [
        {"name": "Gare Matabiau", "kind": "station", "lon": 1.4536, "lat": 43.6112, "radius_m": 150,
         "aliases": ["Matabiau"], "on": "BD PIERRE SEMARD", "source": "public knowledge"},
        {"name": "Place du Capitole", "kind": "square", "street": "PL DU CAPITOLE", "aliases": ["Capitole"]},
        {"name": "Garonne", "kind": "river", "line": [[1.433, 43.565], [1.4395, 43.589], ...]}],
     "addresses": [{"street": "Rue Monplaisir", "number": "12", "lon": 1.454063, "lat": 43.592732}]}

A landmark is placed by ``lon``/``lat`` (with ``radius_m``, its extent: the accuracy of a
post located there), by ``street`` (the official name of a street of the street data: its
point and the radius covering it), or by ``line`` (rivers and canals: they only say which
side of a street a post is on). ``kind`` chooses the words that name it in a text ("gare",
"métro", "station", "marché", "lycée"...: :data:`KINDS`); ``aliases`` are other names,
matched as written. ``on`` names the street it stands on, for checking the position.

``manage.py import_landmarks`` writes such a file from GeoJSON points (a name property)
or an OpenStreetMap extract (named amenities, stations, parks..., and house numbers);
this module reads and writes the format and holds those readers.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _

from incidents.locate.normalize import canonical_word, normalize_street_name, tokenize, word_set


@dataclass(frozen=True, slots=True)
class LandmarkKind:
    """How texts name one kind of landmark, and how large one usually is."""

    heads: tuple[str, ...]  # phrases naming the kind, before or after the landmark's own name
    radius_m: float  # default extent when the file gives none
    locates: bool = True  # False: too long to locate a post (a river); only "côté X" and evidence


# Head phrases are written plain (accents and particles do not matter, "station de métro" =
# "station metro"). A kind's heads are also the words that, alone ("le lycée", "la gare"),
# mean "the one near the street named".
KINDS: dict[str, LandmarkKind] = {
    "station": LandmarkKind(("gare", "gare sncf", "station", "train station", "railway station"), 150),
    "metro": LandmarkKind(("metro", "station", "station metro", "metro station", "arret metro", "subway"), 100),
    "tram": LandmarkKind(("tram", "arret", "arret tram", "station tram", "tram stop"), 60),
    "market": LandmarkKind(("marche", "halle", "halles", "marche couvert", "market"), 80),
    "school": LandmarkKind(("ecole", "groupe scolaire", "college", "creche", "institut", "school"), 100),
    "lycee": LandmarkKind(("lycee", "high school", "school"), 120),
    "university": LandmarkKind(("universite", "fac", "faculte", "campus", "university"), 400),
    "church": LandmarkKind(("eglise", "basilique", "cathedrale", "chapelle", "couvent", "church", "basilica"), 80),
    "square": LandmarkKind(("place", "square", "esplanade", "parvis"), 80),
    "bridge": LandmarkKind(("pont", "passerelle", "bridge"), 150),
    "park": LandmarkKind(("parc", "jardin", "jardins", "square", "prairie", "park", "garden", "gardens"), 200),
    "museum": LandmarkKind(("musee", "museum"), 80),
    "hospital": LandmarkKind(("hopital", "chu", "clinique", "hospital"), 300),
    "river": LandmarkKind(("fleuve", "riviere", "canal", "river"), 0, locates=False),
    "place": LandmarkKind((), 100),
}


# Head words that do not name one place alone: "la place" is also room, "square" a shape,
# "l'arrêt" as often a bus stop (not indexed) as a tram stop.
NOT_GENERIC = word_set("place square esplanade parvis institut couvent halles jardins prairie campus gardens arret")
# Word -> kinds it names alone ("la gare" -> station, "the school" -> school or lycée).
GENERIC_WORDS: dict[str, frozenset[str]] = {
    word: frozenset(kind for kind, spec in KINDS.items() if word in spec.heads)
    for spec in KINDS.values()
    for word in spec.heads
    if " " not in word and word not in NOT_GENERIC
}


class PlacesFileError(ValueError):
    """A landmarks file or import source that cannot be read; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class LandmarkSpec:
    """One landmark as written in the file (positions in WGS84)."""

    name: str
    kind: str = "place"
    lon: float | None = None
    lat: float | None = None
    radius_m: float | None = None
    aliases: tuple[str, ...] = ()
    street: str = ""
    line: tuple[tuple[tuple[float, float], ...], ...] = ()
    on: str = ""
    source: str = ""

    def to_json(self) -> dict:
        item: dict = {"name": self.name, "kind": self.kind}
        if self.lon is not None:
            item["lon"], item["lat"] = round(self.lon, 7), round(self.lat, 7)
        if self.radius_m is not None:
            item["radius_m"] = round(self.radius_m)
        if self.street:
            item["street"] = self.street
        if self.line:
            item["line"] = [[list(point) for point in part] for part in self.line]
        for key in ("aliases", "on", "source"):
            value = getattr(self, key)
            if value:
                item[key] = list(value) if key == "aliases" else value
        return item


@dataclass(frozen=True, slots=True)
class AddressSpec:
    """A house number of a street (the street's name as people or OSM write it)."""

    street: str
    number: str
    lon: float
    lat: float

    def to_json(self) -> dict:
        return {"street": self.street, "number": self.number, "lon": round(self.lon, 7), "lat": round(self.lat, 7)}


@dataclass(slots=True)
class Places:
    """The content of a landmarks file."""

    landmarks: list[LandmarkSpec] = field(default_factory=list)
    addresses: list[AddressSpec] = field(default_factory=list)
    about: str = ""

    def __len__(self) -> int:
        return len(self.landmarks) + len(self.addresses)

    def to_json(self) -> dict:
        data: dict = {"about": self.about} if self.about else {}
        data["landmarks"] = [landmark.to_json() for landmark in self.landmarks]
        if self.addresses:
            data["addresses"] = [address.to_json() for address in self.addresses]
        return data


# --- the file ---------------------------------------------------------------------------------


def phrase_words(text: str) -> list[str]:
    """The words of a place name as the locator compares them (accents, particles, "St" spelt out)."""
    return [word for token in tokenize(text) for word in canonical_word(token)]


def read_places(path: str | Path) -> Places:
    """Read a landmarks file; :class:`PlacesFileError` says which entry is wrong and why."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise PlacesFileError(_("cannot read %(path)s as JSON (%(error)s)") % {"path": path, "error": error}) from error
    return parse_places(data)


def parse_places(data) -> Places:
    if not isinstance(data, dict) or not isinstance(data.get("landmarks"), list):
        raise PlacesFileError(_('expected a JSON object {"landmarks": [{"name": ..., "lon": ..., "lat": ...}, ...]}'))
    places = Places(about=str(data.get("about", "")))
    for index, item in enumerate(data["landmarks"]):
        try:
            places.landmarks.append(_landmark(item))
        except (KeyError, TypeError, ValueError) as error:
            raise PlacesFileError(
                _("landmarks[%(index)s] (%(name)s): %(error)s") % {"index": index, "name": _label(item), "error": error}
            ) from error
    for index, item in enumerate(data.get("addresses") or []):
        try:
            places.addresses.append(
                AddressSpec(str(item["street"]), str(item["number"]), _lon(item["lon"]), _lat(item["lat"]))
            )
        except (KeyError, TypeError, ValueError) as error:
            raise PlacesFileError(
                _("addresses[%(index)s]: %(error)s; expected street, number, lon, lat")
                % {"index": index, "error": error}
            ) from error
    return places


def _label(item) -> str:
    return repr(item.get("name")) if isinstance(item, dict) else "not an object"


def _lon(value) -> float:
    number = float(value)
    if not -180 <= number <= 180:
        raise ValueError(_("longitude %(value)s is out of range") % {"value": number})
    return number


def _lat(value) -> float:
    number = float(value)
    if not -90 <= number <= 90:
        raise ValueError(_("latitude %(value)s is out of range") % {"value": number})
    return number


def _landmark(item: dict) -> LandmarkSpec:
    name = str(item["name"]).strip()
    if not phrase_words(name):
        raise ValueError(_("the name has no letters"))
    kind = str(item.get("kind") or "place")
    if kind not in KINDS:
        raise ValueError(_("unknown kind %(kind)r; use one of %(kinds)s") % {"kind": kind, "kinds": ", ".join(KINDS)})
    lon = lat = None
    if item.get("lon") is not None or item.get("lat") is not None:
        lon, lat = _lon(item["lon"]), _lat(item["lat"])
    line = _line(item["line"]) if item.get("line") else ()
    street = str(item.get("street") or "")
    if lon is None and not street and not line:
        raise ValueError(_("give lon and lat, a street (its official name) or a line"))
    radius = item.get("radius_m")
    if radius is not None and not 0 < float(radius) <= 10_000:
        raise ValueError(_("radius_m %(value)s must be between 0 and 10000 metres") % {"value": radius})
    aliases = item.get("aliases") or ()
    if isinstance(aliases, str) or not all(isinstance(alias, str) for alias in aliases):
        raise ValueError(_("aliases must be a list of names"))
    return LandmarkSpec(
        name=name,
        kind=kind,
        lon=lon,
        lat=lat,
        radius_m=float(radius) if radius is not None else None,
        aliases=tuple(alias.strip() for alias in aliases if phrase_words(alias)),
        street=street,
        line=line,
        on=str(item.get("on") or ""),
        source=str(item.get("source") or ""),
    )


def _line(value) -> tuple[tuple[tuple[float, float], ...], ...]:
    """A polyline [[lon, lat], ...] or several [[[lon, lat], ...], ...]."""
    parts = [value] if value and isinstance(value[0][0], int | float) else value
    line = tuple(tuple((_lon(point[0]), _lat(point[1])) for point in part) for part in parts)
    if not line or any(len(part) < 2 for part in line):
        raise ValueError(_("a line needs at least two [lon, lat] points"))
    return line


def write_places(places: Places, path: str | Path) -> None:
    """Write ``places`` as a landmarks file, one landmark or address per line (readable diffs)."""
    data = places.to_json()
    lines = ["{"]
    if "about" in data:
        lines.append(f' "about": {json.dumps(data["about"], ensure_ascii=False)},')
    for key in ("landmarks", "addresses"):
        if key not in data:
            continue
        items = [f"  {json.dumps(item, ensure_ascii=False)}" for item in data[key]]
        lines.append(f' "{key}": [')
        lines.append(",\n".join(items))
        lines.append(" ],")
    lines[-1] = lines[-1].rstrip(",")
    lines.append("}")
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


# --- merging ----------------------------------------------------------------------------------

# Two landmarks of one kind with the same name this close are one landmark.
SAME_LANDMARK_M = 200.0


def merge(existing: Places, added: Places) -> tuple[Places, int, int]:
    """``existing`` plus what ``added`` brings that it lacks; also the counts of new and already known."""
    merged = Places(list(existing.landmarks), list(existing.addresses), existing.about or added.about)
    known: dict[tuple[str, str], list[LandmarkSpec]] = defaultdict(list)
    for landmark in merged.landmarks:
        known[(landmark.kind, " ".join(phrase_words(landmark.name)))].append(landmark)
    new = duplicates = 0
    for landmark in added.landmarks:
        same = known[(landmark.kind, " ".join(phrase_words(landmark.name)))]
        if any(_close(landmark, other) for other in same):
            duplicates += 1
            continue
        same.append(landmark)
        merged.landmarks.append(landmark)
        new += 1
    numbers = {(normalize_street_name(a.street), a.number.lower()) for a in merged.addresses}
    for address in added.addresses:
        key = (normalize_street_name(address.street), address.number.lower())
        if key in numbers:
            duplicates += 1
            continue
        numbers.add(key)
        merged.addresses.append(address)
        new += 1
    return merged, new, duplicates


def _close(a: LandmarkSpec, b: LandmarkSpec) -> bool:
    if a.lon is None or b.lon is None:
        return (a.street or a.line) == (b.street or b.line)
    return metres_between((a.lon, a.lat), (b.lon, b.lat)) <= SAME_LANDMARK_M


def metres_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Approximate metres between two lon/lat points (equirectangular: for extents and merging only)."""
    dx = math.radians(b[0] - a[0]) * math.cos(math.radians((a[1] + b[1]) / 2))
    return 6_371_000.0 * math.hypot(dx, math.radians(b[1] - a[1]))


# --- readers: GeoJSON and OpenStreetMap ---------------------------------------------------------


@dataclass(slots=True)
class ReadResult:
    places: Places
    skipped: Counter = field(default_factory=Counter)


def _kind_from_tags(tags: dict[str, str]) -> str | None:
    """The landmark kind of an OSM object (or of GeoJSON properties holding OSM tags), ``None`` if none."""
    amenity, railway = tags.get("amenity"), tags.get("railway")
    if tags.get("station") == "subway" or railway == "subway_station":
        return "metro"
    if railway == "tram_stop" or (tags.get("public_transport") == "stop_position" and tags.get("tram") == "yes"):
        return "tram"
    if railway in ("station", "halt"):
        return "station"
    if amenity == "marketplace":
        return "market"
    if amenity in ("school", "kindergarten", "college"):
        return "school"
    if amenity == "university":
        return "university"
    if amenity == "place_of_worship":
        return "church"
    if amenity in ("hospital", "clinic"):
        return "hospital"
    if tags.get("tourism") == "museum":
        return "museum"
    if tags.get("leisure") in ("park", "garden"):
        return "park"
    if tags.get("place") == "square":
        return "square"
    if tags.get("man_made") == "bridge":
        return "bridge"
    if tags.get("waterway") in ("river", "canal"):
        return "river"
    if tags.get("tourism") == "attraction" or "historic" in tags:
        return "place"
    return None


def _extent(points: list[tuple[float, float]]) -> tuple[float, float, float]:
    """Centre (mean) of ``points`` and the radius reaching the farthest one."""
    lon = sum(p[0] for p in points) / len(points)
    lat = sum(p[1] for p in points) / len(points)
    return lon, lat, max(metres_between((lon, lat), p) for p in points)


def _spec(name: str, kind: str, points, *, radius_m: float | None, source: str, line=()) -> LandmarkSpec:
    if line:
        return LandmarkSpec(name=name, kind=kind, line=line, source=source)
    lon, lat, reach = _extent(points)
    radius = radius_m if radius_m is not None else max(KINDS[kind].radius_m, reach)
    return LandmarkSpec(name=name, kind=kind, lon=lon, lat=lat, radius_m=radius, source=source)


def read_geojson(data, *, kind: str | None = None, name_property: str = "name", radius_m=None, source="") -> ReadResult:
    """Landmarks from a GeoJSON FeatureCollection: points, or the centre and extent of other shapes.

    The kind is ``kind``, else the feature's ``kind`` property, else what its OSM-style
    tags say (amenity, railway...), else "place".
    """
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise PlacesFileError(
            _('expected a GeoJSON FeatureCollection ({"type": "FeatureCollection", "features": [...]})')
        )
    result = ReadResult(Places())
    for feature in data.get("features") or []:
        properties = feature.get("properties") or {}
        name = str(properties.get(name_property) or "").strip()
        if not phrase_words(name):
            result.skipped[_("no %(property)r property") % {"property": name_property}] += 1
            continue
        found = kind or properties.get("kind") or _kind_from_tags(properties) or "place"
        if found not in KINDS:
            result.skipped[_("unknown kind %(kind)r") % {"kind": found}] += 1
            continue
        geometry = feature.get("geometry") or {}
        lines = _geojson_lines(geometry) if found == "river" else ()
        points = _geojson_points(geometry)
        if not points:
            result.skipped[_("no geometry")] += 1
            continue
        result.places.landmarks.append(_spec(name, found, points, radius_m=radius_m, source=source, line=lines))
    return result


def _geojson_points(geometry: dict) -> list[tuple[float, float]]:
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if not coordinates:
        return []
    depth = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2, "MultiPolygon": 3}
    if kind not in depth:
        return []
    parts = [coordinates]
    for _level in range(depth[kind]):
        parts = [item for part in parts for item in part]
    try:
        return [(_lon(point[0]), _lat(point[1])) for point in parts]
    except (TypeError, ValueError, IndexError):
        return []


def _geojson_lines(geometry: dict):
    if geometry.get("type") == "LineString":
        return _line(geometry["coordinates"])
    if geometry.get("type") == "MultiLineString":
        return _line(geometry["coordinates"])
    return ()


def read_osm(path: str | Path, *, source: str = "") -> ReadResult:
    """Landmarks and house numbers from an OpenStreetMap XML extract.

    Named nodes and ways whose tags say a landmark kind (stations, markets, schools,
    churches, parks, museums, hospitals, squares, bridges, rivers); house numbers
    (``addr:housenumber``) with ``addr:street`` or inside an ``associatedStreet`` relation.
    Shops, offices and other named objects are skipped (counted).
    """
    try:
        # A file the operator chose; Expat >= 2.4.1 (Python 3.11's) refuses entity expansion attacks.
        root = ET.parse(path).getroot()  # noqa: S314
    except (OSError, ET.ParseError) as error:
        raise PlacesFileError(
            _("cannot read %(path)s as OpenStreetMap XML (%(error)s)") % {"path": path, "error": error}
        ) from error
    if root.tag != "osm":
        raise PlacesFileError(_("%(path)s is XML but not OpenStreetMap (<osm> root expected)") % {"path": path})
    nodes: dict[str, tuple[float, float]] = {}
    objects: list[tuple[str, str, dict[str, str], list[tuple[float, float]]]] = []
    street_of: dict[str, str] = {}
    for element in root:
        tags = {tag.get("k"): tag.get("v") for tag in element.findall("tag")}
        if element.tag == "node":
            point = (float(element.get("lon")), float(element.get("lat")))
            nodes[element.get("id")] = point
            objects.append(("node", element.get("id"), tags, [point]))
        elif element.tag == "way":
            points = [nodes[ref.get("ref")] for ref in element.findall("nd") if ref.get("ref") in nodes]
            objects.append(("way", element.get("id"), tags, points))
        elif element.tag == "relation" and tags.get("type") == "associatedStreet" and tags.get("name"):
            for member in element.findall("member"):
                if member.get("role") == "house":
                    street_of[f"{member.get('type')}/{member.get('ref')}"] = tags["name"]
    result = ReadResult(Places())
    rivers: dict[str, list] = defaultdict(list)
    for element, identifier, tags, points in objects:
        number = tags.get("addr:housenumber")
        if number and points:
            street = tags.get("addr:street") or street_of.get(f"{element}/{identifier}")
            if street:
                lon, lat, _reach = _extent(points)
                result.places.addresses.append(AddressSpec(street, number.strip(), lon, lat))
            else:
                result.skipped[_("house number without a street")] += 1
        name = (tags.get("name") or "").strip()
        if not name or "highway" in tags:
            continue
        kind = _kind_from_tags(tags)
        if kind is None:
            result.skipped[_("named, but not a landmark kind (shop, office, route...)")] += 1
            continue
        if not points:
            result.skipped[_("no position in the extract")] += 1
            continue
        if kind == "river":
            rivers[name].append(tuple(points))
            continue
        result.places.landmarks.append(_spec(name, kind, points, radius_m=None, source=source))
    for name, parts in rivers.items():
        result.places.landmarks.append(_spec(name, "river", None, radius_m=None, source=source, line=tuple(parts)))
    return result


def read_source(path: str | Path, *, source: str = "", **options) -> ReadResult:
    """Read an import source by its content: a landmarks file, GeoJSON, or OpenStreetMap XML.

    ``source`` is written with each landmark (default: the file's name); ``options`` go to
    :func:`read_geojson`.
    """
    path = Path(path)
    try:
        head = path.read_bytes()[:200].lstrip()
    except OSError as error:
        raise PlacesFileError(_("cannot read %(path)s (%(error)s)") % {"path": path, "error": error}) from error
    if head.startswith(b"<"):
        return read_osm(path, source=source or f"OpenStreetMap ({path.name}), © OpenStreetMap contributors, ODbL")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise PlacesFileError(
            _("%(path)s is neither JSON nor OpenStreetMap XML (%(error)s)") % {"path": path, "error": error}
        ) from error
    if isinstance(data, dict) and "landmarks" in data:
        return ReadResult(parse_places(data))
    return read_geojson(data, source=source or path.name, **options)


def unknown_streets(places: Places, street_names: Iterable[str]) -> list[str]:
    """The ``street`` references of ``places`` that are not among ``street_names`` (official names)."""
    known = {normalize_street_name(name) for name in street_names}
    return sorted({s.street for s in places.landmarks if s.street and normalize_street_name(s.street) not in known})
