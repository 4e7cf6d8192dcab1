"""
Locate a post: GPS first, then street names in the text, then the place bounding box.

The locator works in memory on a :class:`~incidents.locate.gazetteer.Gazetteer` built
once per process from the stored streets, so a batch of thousands of posts needs no
query per post. What it decides, and how sure it is:

- **GPS**: the device position, ~25 m (the device's error and the poster's step back).
- **Text**: a crossing of two named streets is their intersection point (~10 m, or the
  gap between them when the data leaves one); "X à hauteur de Y" is that crossing or, when
  they do not meet, the point of X nearest Y; a stretch of a street ("X entre Y et Z", "X de
  Y jusqu'à Z") is its middle, known to half its length; a house number is its address
  point (or between its neighbours) when the street has address points; "X côté Y" is the
  half of X nearest Y; a single street is a point on it, with the radius covering the
  whole street as accuracy, narrowed by a landmark near it (named, or "le lycée" when only
  one lycée is near). A landmark named alone is its point, with its extent as accuracy.
  A name found in several communes is resolved by a commune named in the text (or
  hashtag, or the place name), the place box, a landmark, a house number or another
  street of the post; without such evidence the street in the main commune is kept, the
  accuracy grows to cover the other candidates and the note says so. A typo that reads as
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

import numpy as np
import shapely

from incidents.geo import is_null_island
from incidents.locate.gazetteer import (
    CROSSING_MAX_GAP_M,
    Gazetteer,
    Landmark,
    Street,
    commune_key,
    get_gazetteer,
    grown,
    overlaps,
)
from incidents.locate.normalize import blank_mentions, token_spans
from incidents.locate.place import coarse_place_note, is_precise_place, place_location, place_radius_m
from incidents.locate.result import Location
from incidents.locate.streets import KindMention, Mention, PlaceMention, Target, TextEvidence, scan
from incidents.models import LocationMethod
from incidents.sources.record import PostRecord

# Where the problem is, from the poster's device: phones report ~5-20 m in streets, and a
# photo is taken from a few metres away. On the four tuning sets the true point was 13-22 m
# from a post's GPS (median 15 m): 15 m, the device's error alone, missed a third of them.
GPS_ACCURACY_M = 25.0
# A crossing point is known to about a junction's width.
CROSSING_ACCURACY_M = 10.0
# A crossing's point is put this far along the first-named street from where the two meet:
# "rue X, angle rue Y" is about rue X, and the post's nearest segment must be one of X's.
ON_FIRST_STREET_M = 4.0
# A homonym closer than this to a landmark or another street of the post is "the one meant".
ANCHOR_MAX_DISTANCE_M = 3_000.0
# A landmark this close to the chosen street tells where along the street the post is.
LANDMARK_SNAP_M = 300.0
# "le lycée" next to a street means the one lycée within this distance of it (plus its extent).
KIND_NEAR_M = 150.0
# "X à hauteur de Y" where X and Y do not meet: the point of X nearest Y, if Y is this close.
LEVEL_MAX_GAP_M = 300.0
# ... known to about a building's width at best.
LEVEL_ACCURACY_M = 30.0
# "X côté Y": the street is cut into points this far apart to find its half nearest Y.
SIDE_STEP_M = 10.0
# ... and Y, a street, must come this close to X (a homonym 20 km away says nothing of X's sides).
TARGET_MAX_M = 1_000.0
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


@dataclass(slots=True)
class _Place:
    """A landmark's point and extent (a post naming no street)."""

    x: float
    y: float
    accuracy_m: float
    note: str = ""
    street: Street | None = None


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
        """A location from the streets and places named in the text, or a note saying why there is none."""
        g = self.gazetteer
        evidence = scan(g, blank_mentions(record.text))
        if not evidence.mentions:
            return self._at_place(record, evidence)
        context = _Context.of(g, record, evidence)

        for first, second, third in evidence.betweens:
            located = self._between(first, second, third, context)
            if located is not None:
                return self._location(record, evidence, first.raw_start, third.raw_end, located)
        misses: list[str] = []
        for first, second in evidence.crossings:
            located = self._crossing(first, second, context)
            if located is None and (first, second) in evidence.level_with:
                located = self._level_with(first, second, context)
            if located is not None:
                return self._location(record, evidence, first.raw_start, second.raw_end, located)
            misses.append(f"{_label(g, first)} and {_label(g, second)} do not meet")

        mention = evidence.mentions[0]
        start, end = mention.raw_start, mention.raw_end
        number = next((found for found in evidence.numbers if found[0] is mention), None)
        choice = self._at_number(mention, number[1], context) if number else None
        if choice is not None:
            start, end = number[2], number[3]
        else:
            choice = self._choose(mention, context)
            if number:
                choice.note = choice.note or f"no address point for number {number[1]} of {choice.street.name}"
            side = next((target for found, target in evidence.sides if found is mention), None)
            towards = (
                self._side(choice, side, context, corner=not any(end is side for end in evidence.up_to))
                if side is not None and not choice.note
                else None
            )
            if towards is not None:
                choice, end = towards, side.raw_end
            else:
                choice = self._refine(choice, context)
        notes = [*misses, choice.note] if misses else [choice.note]
        if choice.accuracy_m > COARSE_ACCURACY_M and not choice.note:
            notes.append(f"whole street {choice.street.name} (±{choice.accuracy_m:.0f} m)")
        choice.note = "; ".join(note for note in notes if note)
        return self._location(record, evidence, start, end, choice)

    def _at_place(self, record: PostRecord, evidence: TextEvidence) -> Location | str:
        """A post naming no street: the first landmark it names that locates (not a river), with its extent."""
        for place in evidence.places:
            landmarks = [landmark for landmark in place.landmarks if landmark.locates]
            if not landmarks:
                continue
            landmark = landmarks[0]
            # One phrase naming several places (homonyms): the accuracy covers them all.
            accuracy = max(
                math.hypot(other.x - landmark.x, other.y - landmark.y) + other.radius_m for other in landmarks
            )
            located = _Place(landmark.x, landmark.y, accuracy, street=landmark.on_street)
            return self._location(record, evidence, place.raw_start, place.raw_end, located)
        return ""

    def _location(self, record: PostRecord, evidence: TextEvidence, start: int, end: int, choice) -> Location:
        """The location ``choice``, matched by the raw tokens ``start:end`` of the text."""
        lon, lat = self.gazetteer.frame.to_lonlat(choice.x, choice.y)
        anchors = [
            (anchor.raw_start, anchor.raw_end - 1)
            for anchor in (*evidence.mentions, *evidence.places, *evidence.kinds)
            if start <= anchor.raw_start and anchor.raw_end <= end
        ]
        span, *spans = token_spans(evidence.text, [(start, end - 1), *anchors])
        matched = record.text[span[0] : span[1]] if span is not None else " ".join(evidence.raw[start:end])
        return Location(
            method=LocationMethod.TEXT,
            lon=float(lon),
            lat=float(lat),
            # Rounded up: the stated radius must still hold the point it was computed to hold.
            accuracy_m=math.ceil(choice.accuracy_m * 10) / 10,
            matched_text=matched[:MAX_MATCHED_TEXT],
            note=choice.note,
            street=choice.street.key if choice.street is not None else "",
            names=tuple(record.text[name[0] : name[1]] for name in spans if name is not None),
        )

    def _candidates(self, mention: Mention, context: _Context) -> list[Street]:
        streets = self.gazetteer.streets_named(mention.keys)
        in_named_communes = [street for street in streets if street.commune in context.communes]
        return in_named_communes or streets

    def _choose(self, mention: Mention, context: _Context) -> _Choice:
        """One street for ``mention``, using the evidence; lower accuracy and a note when unsure."""
        streets = self._candidates(mention, context)
        if len(streets) > 1 and context.bbox is not None:
            inside = [street for street in streets if overlaps(street.bounds, context.bbox)]
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
        readings = {s.key: s.name for s in streets}
        if len(readings) > 1:  # a typo or a short form read as several names
            note = f"read as {' or '.join(sorted(readings.values()))}; no other evidence, chose {street.name}"
        else:
            communes = sorted({g.commune_label(s.commune) for s in streets})
            where = f"{len(communes)} communes ({', '.join(communes)})" if len(communes) > 1 else "several places"
            note = f"'{street.name}' exists in {where}; no other evidence, chose {g.commune_label(street.commune)}"
        return _Choice(street, street.x, street.y, max(street.radius_m, spread), note)

    def _refine(self, choice: _Choice, context: _Context) -> _Choice:
        """Narrow a whole-street location with a small place box or a landmark near the street."""
        street = choice.street
        if choice.note:
            return choice
        if context.precise_bbox is not None and overlaps(street.bounds, context.precise_bbox):
            min_x, min_y, max_x, max_y = context.precise_bbox
            x, y = street.point_near((min_x + max_x) / 2, (min_y + max_y) / 2)
            return _Choice(street, x, y, min(choice.accuracy_m, max(context.precise_radius_m, CROSSING_ACCURACY_M)))
        for landmark in context.landmarks:
            if landmark.locates and landmark.distance_to(street) <= max(LANDMARK_SNAP_M, landmark.radius_m):
                return self._towards(choice, landmark)
        for kind in context.kinds:
            landmark = self._kind_near(street, kind.kinds)
            if landmark is not None and landmark.locates:
                narrowed = self._towards(choice, landmark)
                if narrowed is not choice:
                    narrowed.note = ""
                return narrowed
        return choice

    def _towards(self, choice: _Choice, landmark: Landmark) -> _Choice:
        """The point of the chosen street nearest ``landmark``, known to the stretch of street beside it.

        The post is on the street beside the landmark: within the landmark's extent ``r`` of
        it. The street passes at ``d`` from it, so that stretch reaches sqrt((d + r)² - d²)
        either side of the nearest point (r itself when the street crosses the landmark).
        """
        street = choice.street
        x, y, d = landmark.beside(street)
        r = max(landmark.radius_m, CROSSING_ACCURACY_M)
        accuracy = max(r, math.sqrt((d + r) ** 2 - d**2))
        if accuracy >= choice.accuracy_m:
            return choice
        return _Choice(street, x, y, accuracy)

    def _kind_near(self, street: Street, kinds: frozenset[str]) -> Landmark | None:
        """The one landmark of ``kinds`` beside ``street`` ("le lycée" of "rue Merly, le lycée"), if only one is."""
        near: list[tuple[float, Landmark]] = []
        min_x, min_y, max_x, max_y = street.bounds
        for kind in kinds:
            for landmark in self.gazetteer.landmarks_by_kind.get(kind, ()):
                reach = KIND_NEAR_M + landmark.radius_m
                if not (min_x - reach <= landmark.x <= max_x + reach and min_y - reach <= landmark.y <= max_y + reach):
                    continue
                distance = landmark.distance_to(street)
                if distance <= reach:
                    near.append((distance, landmark))
        if not near:
            return None
        near.sort(key=lambda item: item[0])
        # Several: only one clearly nearer than the others (the basilica on the square, not the church 150 m off).
        if len(near) > 1 and near[1][0] <= 2 * near[0][0] + 100:
            return None
        return near[0][1]

    def _at_number(self, mention: Mention, number: str, context: _Context) -> _Choice | None:
        """The address point of ``number`` on the street named (it also tells homonyms apart)."""
        found = []
        for street in self._candidates(mention, context):
            located = street.addresses.locate(number) if street.addresses is not None else None
            if located is not None:
                found.append((street, located))
        if len({street.key for street, _ in found}) != 1 or len(found) != 1:
            return None
        street, (x, y, accuracy, note) = found[0]
        return _Choice(street, x, y, accuracy, note)

    def _side(self, choice: _Choice, target: Target, context: _Context, *, corner: bool = True) -> _Choice | None:
        """The half of the chosen street nearest ``target`` ("rue de Metz côté Garonne"), known to that half.

        ``corner``: a street ``target`` that meets it gives the corner instead, known to the same
        half ("côté Saint-Pantaléon"); off for "jusqu'à", which says how far along, not where.
        """
        street = choice.street
        shape = self._target_shape(street, target, context)
        if shape is None:
            return None
        points = shapely.get_coordinates(shapely.segmentize(street.geom, SIDE_STEP_M))
        if len(points) < 3:
            return None
        distances = shapely.distance(shapely.points(points), shape)
        half = points[distances <= np.median(distances)]
        if corner and isinstance(target, Mention) and float(distances.min()) <= CROSSING_MAX_GAP_M:
            # The side of a street that meets it ("rue de la Pomme côté Saint-Pantaléon") is most
            # often its end there: the corner, still known only to that half of the street.
            at = int(np.argmin(distances))
            x, y = street.point_near(float(points[at][0]), float(points[at][1]))
        else:
            low, high = half.min(axis=0), half.max(axis=0)
            x, y = street.point_near((low[0] + high[0]) / 2, (low[1] + high[1]) / 2)
        accuracy = float(np.max(np.hypot(half[:, 0] - x, half[:, 1] - y))) + SIDE_STEP_M
        if accuracy >= choice.accuracy_m:
            return None
        return _Choice(street, x, y, accuracy)

    def _target_shape(self, street: Street, target: Target, context: _Context) -> shapely.Geometry | None:
        """What a position phrase points at, as a shape: a street, a landmark, the kind of place near ``street``."""
        if isinstance(target, Mention):
            other = self._choose(target, context)
            if other.street is street or other.note or shapely.distance(street.geom, other.street.geom) > TARGET_MAX_M:
                return None
            return other.street.geom
        if isinstance(target, PlaceMention):
            return target.landmarks[0].geom
        landmark = self._kind_near(street, target.kinds)
        return landmark.geom if landmark is not None else None

    def _crossing(self, first: Mention, second: Mention, context: _Context) -> _Choice | None:
        """The point where the two named streets meet (closest pair of candidates), if they do."""
        best: tuple[float, float, float, Street] | None = None
        for a in self._candidates(first, context):
            for b in self._candidates(second, context):
                if a is b or not overlaps(a.bounds, grown(b.bounds, CROSSING_MAX_GAP_M)):
                    continue
                x, y, gap = self._meeting_point(a, b)
                if best is None or gap < best[2]:
                    best = (x, y, gap, a)
        if best is None or best[2] > CROSSING_MAX_GAP_M:
            return None
        x, y, gap, street = best
        return _Choice(street, x, y, max(CROSSING_ACCURACY_M, gap))

    def _between(self, street: Mention, first: Target, second: Target, context: _Context) -> _Choice | None:
        """The middle of ``street`` between two streets or places it passes ("de la rue Y jusqu'à la gare")."""
        one = self._end_of_stretch(street, first, context)
        two = self._end_of_stretch(street, second, context)
        if one is None or two is None or one.street is not two.street:
            return None
        half = math.hypot(one.x - two.x, one.y - two.y) / 2
        middle = (one.x + two.x) / 2, (one.y + two.y) / 2
        x, y = one.street.point_near(*middle)
        if math.hypot(x - middle[0], y - middle[1]) > CROSSING_ACCURACY_M:
            # The data leaves that stretch to another name (the square it crosses): keep the middle.
            x, y = middle
        return _Choice(one.street, x, y, max(CROSSING_ACCURACY_M, half + max(one.accuracy_m, two.accuracy_m)))

    def _end_of_stretch(self, street: Mention, end: Target, context: _Context) -> _Choice | None:
        if isinstance(end, Mention):
            return self._crossing(street, end, context)
        chosen = self._choose(street, context)
        if chosen.note:
            return None
        if isinstance(end, PlaceMention):
            landmark = end.landmarks[0]
            if landmark.distance_to(chosen.street) > LANDMARK_SNAP_M:
                return None
        else:
            landmark = self._kind_near(chosen.street, end.kinds)
            if landmark is None:
                return None
        x, y, _ = landmark.beside(chosen.street)
        return _Choice(chosen.street, x, y, min(max(landmark.radius_m, CROSSING_ACCURACY_M), chosen.accuracy_m))

    def _level_with(self, first: Mention, second: Mention, context: _Context) -> _Choice | None:
        """ "X à hauteur de Y" where X and Y do not meet: the point of X nearest Y, if Y is close."""
        a, b = self._choose(first, context), self._choose(second, context)
        if a.note or b.note or a.street is b.street:
            return None
        line = shapely.shortest_line(a.street.geom, b.street.geom)
        (x0, y0), _ = shapely.get_coordinates(line)
        if line.length > LEVEL_MAX_GAP_M:
            return None
        return _Choice(a.street, float(x0), float(y0), max(LEVEL_ACCURACY_M, float(line.length)))

    def _meeting_point(self, a: Street, b: Street) -> tuple[float, float, float]:
        """Where streets ``a`` and ``b`` meet (x, y, gap in metres), on ``a``; cached per pair.

        The point is :data:`ON_FIRST_STREET_M` along ``a`` from the junction, away from
        ``b``: a junction is as near one street as the other, and the post is about ``a``.
        """
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
            found = (*_along(a, b, *a.point_near(found[0], found[1])), found[2])
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
    landmarks: list[Landmark]
    kinds: list[KindMention]
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
        return cls(communes, bbox, precise, radius or 0.0, evidence.landmarks, evidence.kinds, evidence.mentions, g)

    def anchors_except(self, mention: Mention) -> list[tuple[float, float]]:
        anchors = [(landmark.x, landmark.y) for landmark in self.landmarks if landmark.locates]
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


def _label(g: Gazetteer, mention: Mention) -> str:
    streets = g.streets_named(mention.keys)
    return streets[0].name if streets else " ".join(mention.keys)


def _along(a: Street, b: Street, x: float, y: float) -> tuple[float, float]:
    """The point of ``a`` :data:`ON_FIRST_STREET_M` from its point ``(x, y)``, farthest from ``b``."""
    ring = shapely.Point(x, y).buffer(ON_FIRST_STREET_M, quad_segs=8).exterior
    points = shapely.get_coordinates(shapely.intersection(a.geom, ring))
    if not len(points):
        return x, y  # the street ends there
    far = max(points, key=lambda p: (float(shapely.distance(b.geom, shapely.Point(p))), p[0], p[1]))
    return float(far[0]), float(far[1])
