"""
Locate a post: GPS first, then street names in the text, then the place bounding box.

The locator works in memory on a :class:`~incidents.locate.gazetteer.Gazetteer` built
once per process from the stored streets, so a batch of thousands of posts needs no
query per post. What it decides, and how sure it is:

- **GPS**: the device position, ~15 m.
- **Text**: a crossing of two named streets is their intersection point (~10 m, or the
  gap between them when the data leaves one); a street between two others is the middle
  of that stretch; a single street is a point on it, with the radius covering the whole
  street as accuracy. A name found in several communes is resolved by a commune named in
  the text (or hashtag, or the place name), the place box, a landmark or another street
  of the post; without such evidence the street in the main commune is kept, the accuracy
  grows to cover the other candidates and the note says so. A typo that reads as
  several names ("rue de la Bouse": BOULE or BOURSE) is weighed the same way.
- **Place**: the centre of the attached place box, unless it is a whole city/region
  (a "Toulouse" box is not a location).

Whether a location is inside the service area is decided later, by the pipeline
(:mod:`incidents.pipeline.areas`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import shapely

from incidents.geo import is_null_island
from incidents.locate.gazetteer import Gazetteer, Street, commune_key, get_gazetteer
from incidents.locate.normalize import token_span
from incidents.locate.place import coarse_place_note, is_precise_place, place_location, place_radius_m
from incidents.locate.result import Location
from incidents.locate.streets import Mention, TextEvidence, scan
from incidents.models import LocationMethod
from incidents.sources.record import PostRecord

# Device GPS is good to a few metres; phones report ~5-20 m in streets.
GPS_ACCURACY_M = 15.0
# Two named streets whose geometries come closer than this are taken to meet there (data
# often leaves a small gap at junctions); farther apart, they do not cross.
CROSSING_MAX_GAP_M = 60.0
# A crossing point is known to about a junction's width.
CROSSING_ACCURACY_M = 10.0
# A homonym closer than this to a landmark or another street of the post is "the one meant".
ANCHOR_MAX_DISTANCE_M = 3_000.0
# A landmark this close to the chosen street tells where along the street the post is.
LANDMARK_SNAP_M = 300.0
# Above this accuracy the note says the location only knows the street, not where along it.
COARSE_ACCURACY_M = 500.0
# Crossing points computed per gazetteer, kept for the posts that name them again.
MAX_CACHED_CROSSINGS = 50_000
# Matched text is stored in a 500-character column.
MAX_MATCHED_TEXT = 500


@dataclass(slots=True)
class _Choice:
    street: Street
    x: float
    y: float
    accuracy_m: float
    note: str = ""


class Locator:
    """Turn :class:`PostRecord`s into :class:`Location`s."""

    def __init__(self, gazetteer: Gazetteer | None = None) -> None:
        self.gazetteer = gazetteer

    @classmethod
    def from_database(cls) -> Locator:
        """A locator over the streets in the database (the gazetteer is cached per process)."""
        return cls(get_gazetteer())

    def locate(self, record: PostRecord) -> Location:
        gps = _gps(record)
        if gps is not None:
            return gps
        note = ""
        if self.gazetteer is not None and len(self.gazetteer) and record.text:
            found = self._from_text(record)
            if isinstance(found, Location):
                return found
            note = found
        place = place_location(record)
        if place is not None:
            return place
        return Location.nowhere("; ".join(part for part in (note, coarse_place_note(record)) if part))

    def locate_many(self, records: Iterable[PostRecord]) -> list[Location]:
        return [self.locate(record) for record in records]

    # --- text --------------------------------------------------------------------------

    def _from_text(self, record: PostRecord) -> Location | str:
        """A location from the street names in the text, or a note saying why there is none."""
        g = self.gazetteer
        evidence = scan(g, record.text)
        if not evidence.mentions:
            return ""
        context = _Context.of(g, record, evidence)

        for first, second, third in evidence.betweens:
            located = self._between(first, second, third, context)
            if located is not None:
                return self._location(record, evidence, first, third, located)
        misses: list[str] = []
        for first, second in evidence.crossings:
            located = self._crossing(first, second, context)
            if located is not None:
                return self._location(record, evidence, first, second, located)
            misses.append(f"{_label(g, first)} and {_label(g, second)} do not meet")

        mention = evidence.mentions[0]
        choice = self._choose(mention, context)
        choice = self._refine(choice, context)
        notes = [*misses, choice.note] if misses else [choice.note]
        if choice.accuracy_m > COARSE_ACCURACY_M and not choice.note:
            notes.append(f"whole street {choice.street.name} (±{choice.accuracy_m:.0f} m)")
        choice.note = "; ".join(note for note in notes if note)
        return self._location(record, evidence, mention, mention, choice)

    def _location(self, record: PostRecord, evidence: TextEvidence, first: Mention, last: Mention, choice) -> Location:
        lon, lat = self.gazetteer.frame.to_lonlat(choice.x, choice.y)
        span = token_span(record.text, first.raw_start, last.raw_end - 1)
        if span is not None:
            matched = record.text[span[0] : span[1]]
        else:
            matched = " ".join(evidence.raw[first.raw_start : last.raw_end])
        return Location(
            method=LocationMethod.TEXT,
            lon=float(lon),
            lat=float(lat),
            accuracy_m=round(choice.accuracy_m, 1),
            matched_text=matched[:MAX_MATCHED_TEXT],
            note=choice.note,
        )

    def _candidates(self, mention: Mention, context: _Context) -> list[Street]:
        streets = self.gazetteer.streets_named(mention.keys)
        in_named_communes = [street for street in streets if street.commune in context.communes]
        return in_named_communes or streets

    def _choose(self, mention: Mention, context: _Context) -> _Choice:
        """One street for ``mention``, using the evidence; lower accuracy and a note when unsure."""
        streets = self._candidates(mention, context)
        if len(streets) > 1 and context.bbox is not None:
            inside = [street for street in streets if _overlaps(street.bounds, context.bbox)]
            streets = inside or streets
        if len(streets) > 1:
            anchors = context.anchors_except(mention)
            if anchors:
                nearest = sorted(streets, key=lambda street: min(street.distance_to(x, y) for x, y in anchors))
                best = min(nearest[0].distance_to(x, y) for x, y in anchors)
                second = min(nearest[1].distance_to(x, y) for x, y in anchors)
                if best <= ANCHOR_MAX_DISTANCE_M and second > 1.5 * best + 200:
                    streets = [nearest[0]]
        if len(streets) == 1:
            street = streets[0]
            return _Choice(street, street.x, street.y, street.radius_m)
        # Still ambiguous: prefer the main commune, then the longest street, and say so.
        g = self.gazetteer
        street = max(streets, key=lambda s: (s.commune == g.main_commune, s.segments, s.radius_m))
        spread = max(math.hypot(other.x - street.x, other.y - street.y) + other.radius_m for other in streets)
        readings = {s.key: s.name for s in streets} if mention.edits else {}
        if len(readings) > 1:  # a typo read as several names
            note = f"read as {' or '.join(sorted(readings.values()))}; no other evidence, chose {street.name}"
        else:
            communes = sorted({g.commune_label(s.commune) for s in streets})
            where = f"{len(communes)} communes ({', '.join(communes)})" if len(communes) > 1 else "several places"
            note = f"'{street.name}' exists in {where}; no other evidence, chose {g.commune_label(street.commune)}"
        return _Choice(street, street.x, street.y, max(street.radius_m, spread), note)

    def _refine(self, choice: _Choice, context: _Context) -> _Choice:
        """Narrow a whole-street location with a small place box or a nearby landmark."""
        street = choice.street
        if choice.note:
            return choice
        if context.precise_bbox is not None and _overlaps(street.bounds, context.precise_bbox):
            min_x, min_y, max_x, max_y = context.precise_bbox
            x, y = street.point_near((min_x + max_x) / 2, (min_y + max_y) / 2)
            return _Choice(street, x, y, min(choice.accuracy_m, max(context.precise_radius_m, CROSSING_ACCURACY_M)))
        for landmark in context.landmarks:
            if street.distance_to(landmark.x, landmark.y) <= LANDMARK_SNAP_M:
                x, y = street.point_near(landmark.x, landmark.y)
                return _Choice(street, x, y, min(choice.accuracy_m, LANDMARK_SNAP_M))
        return choice

    def _crossing(self, first: Mention, second: Mention, context: _Context) -> _Choice | None:
        """The point where the two named streets meet (closest pair of candidates), if they do."""
        best: tuple[float, float, float, Street] | None = None
        for a in self._candidates(first, context):
            for b in self._candidates(second, context):
                if a is b or not _overlaps(a.bounds, _grow(b.bounds, CROSSING_MAX_GAP_M)):
                    continue
                x, y, gap = self._meeting_point(a, b)
                if best is None or gap < best[2]:
                    best = (x, y, gap, a)
        if best is None or best[2] > CROSSING_MAX_GAP_M:
            return None
        x, y, gap, street = best
        return _Choice(street, x, y, max(CROSSING_ACCURACY_M, gap))

    def _between(self, street: Mention, first: Mention, second: Mention, context: _Context) -> _Choice | None:
        """The middle of ``street`` between its crossings with two other streets."""
        one = self._crossing(street, first, context)
        two = self._crossing(street, second, context)
        if one is None or two is None:
            return None
        half = math.hypot(one.x - two.x, one.y - two.y) / 2
        x, y = one.street.point_near((one.x + two.x) / 2, (one.y + two.y) / 2)
        return _Choice(one.street, x, y, max(CROSSING_ACCURACY_M, half))

    def _meeting_point(self, a: Street, b: Street) -> tuple[float, float, float]:
        """Where streets ``a`` and ``b`` meet (x, y, gap in metres); cached per pair."""
        cache = self.gazetteer.crossings
        key = (id(a), id(b))
        found = cache.get(key)
        if found is None:
            meeting = shapely.intersection(a.geom, b.geom)
            if not meeting.is_empty:
                points = shapely.get_coordinates(meeting)
                # Streets that meet twice (a loop): the junction nearest a's representative point.
                x, y = min(points, key=lambda p: (p[0] - a.x) ** 2 + (p[1] - a.y) ** 2)
                found = (float(x), float(y), 0.0)
            else:
                line = shapely.shortest_line(a.geom, b.geom)
                (x0, y0), (x1, y1) = shapely.get_coordinates(line)
                found = ((x0 + x1) / 2, (y0 + y1) / 2, float(line.length))
            if len(cache) >= MAX_CACHED_CROSSINGS:
                cache.clear()
            cache[key] = found
        return found


@dataclass(slots=True)
class _Context:
    """Evidence for choosing between homonyms: communes, place box, landmarks, other streets."""

    communes: set[str]
    bbox: tuple[float, float, float, float] | None
    precise_bbox: tuple[float, float, float, float] | None
    precise_radius_m: float
    landmarks: list
    mentions: list[Mention]
    gazetteer: Gazetteer

    @classmethod
    def of(cls, g: Gazetteer, record: PostRecord, evidence: TextEvidence) -> _Context:
        communes = set(evidence.communes)
        if record.place_name:
            place = commune_key(record.place_name)
            if place in g.commune_names:
                communes.add(place)
        bbox = precise = None
        radius = place_radius_m(record)
        if radius is not None:
            min_lon, min_lat, max_lon, max_lat = record.place_bbox
            x0, y0 = g.frame.to_xy(min_lon, min_lat)
            x1, y1 = g.frame.to_xy(max_lon, max_lat)
            bbox = (x0, y0, x1, y1)
            if is_precise_place(record):
                precise = bbox
        return cls(communes, bbox, precise, radius or 0.0, evidence.landmarks, evidence.mentions, g)

    def anchors_except(self, mention: Mention) -> list[tuple[float, float]]:
        anchors = [(landmark.x, landmark.y) for landmark in self.landmarks]
        for other in self.mentions:
            if other is mention:
                continue
            streets = self.gazetteer.streets_named(other.keys)
            if len(streets) == 1:
                anchors.append((streets[0].x, streets[0].y))
        return anchors


def _gps(record: PostRecord) -> Location | None:
    lon, lat = record.lon, record.lat
    if lon is None or lat is None:
        return None
    # (0, 0) is what broken clients send for "no position".
    if not (-180 <= lon <= 180 and -90 <= lat <= 90) or is_null_island(lon, lat):
        return None
    return Location(method=LocationMethod.GPS, lon=lon, lat=lat, accuracy_m=GPS_ACCURACY_M)


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _grow(bounds: tuple[float, float, float, float], metres: float) -> tuple[float, float, float, float]:
    return bounds[0] - metres, bounds[1] - metres, bounds[2] + metres, bounds[3] + metres


def _label(g: Gazetteer, mention: Mention) -> str:
    streets = g.streets_named(mention.keys)
    return streets[0].name if streets else " ".join(mention.keys)
