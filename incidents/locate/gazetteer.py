"""
The in-memory street index the locator matches post text against.

Built once per process from the current :class:`~incidents.models.StreetSegment` rows
(retired ones are left out) and kept until the streets change (:func:`get_gazetteer`
checks a cheap fingerprint: row count, last ``updated_at`` and last id). Segments are
grouped into *streets*: one official name in one commune. For each street the index
keeps its geometry in a local metric frame, a representative point *on* the street and
the radius around it that covers the whole street (the accuracy of a location that knows
only the street name).

The lookups are token tries, so matching a post costs a few dict lookups per word
whatever the number of streets:

- ``typed``: the full canonical name, street type first ("rue metz"), plus short forms
  without first names or titles ("allees jaures" for "ALL JEAN JAURES");
- ``bodies``: the name without its type ("metz"), for crossings such as "angle Metz /
  Alsace-Lorraine" and for a mistaken type ("avenue de Metz" when only a rue exists);
- ``hashtags``: glued forms ("ruedemetz", "jeanjaures") for #RueDeMetz, #JeanJaures;
- a deletion index of name words for typos (one edit: "Loraine", "Strasbourgh");
- ``communes``: evidence to choose between homonymous streets;
- ``landmarks``: named places (:mod:`incidents.locate.landmarks`: stations, markets, schools,
  churches, bridges, parks... from ``INCIDENTS_LANDMARKS_FILE``, and the squares, bridges
  and gardens of the street data by their bare name), each with its point and extent, by
  every phrase that names it ("gare Matabiau", "Matabiau station", "lycée Fermat");
  ``landmarks_by_kind`` for the words that name a kind alone ("le lycée", "la gare");
- house numbers of the streets that have address points (``Street.addresses``).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import shapely
from django.conf import settings
from django.contrib.gis.db.models.functions import AsWKB
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import Count, Max

from incidents.cache import StampedCache
from incidents.geo import LocalFrame
from incidents.locate.landmarks import (
    KINDS,
    AddressSpec,
    LandmarkSpec,
    Places,
    PlacesFileError,
    phrase_words,
    read_places,
)
from incidents.locate.normalize import (
    NUMBER_WORDS,
    STREET_TYPES,
    canonical_tokens,
    normalize_street_name,
    tokenize,
    word_set,
)
from incidents.models import StreetSegment

logger = logging.getLogger(__name__)

# Marks the end of a name in a trie node (tokens are never empty strings).
END = ""
# In a node that is no name's end but leads to exactly one name: that name ("rue alsace"
# can only be "rue alsace lorraine"), so people who shorten a compound name are understood.
ONLY = " "
# Canonical street types (the values of STREET_TYPES): a name starting with one is "typed".
CANONICAL_TYPES = frozenset(STREET_TYPES.values())
# Leading words people drop when they name a street: "allées Jaurès", "bd Carnot", "av. de Gaulle".
TITLES = word_set(
    "general marechal president docteur professeur abbe pere commandant colonel capitaine lieutenant "
    "amiral cardinal monseigneur frere soeur maitre chanoine ingenieur aviateur sergent adjudant"
)
GIVEN_NAMES = word_set(
    "jean pierre paul jacques louis henri charles francois joseph marie michel andre georges rene roger "
    "marcel albert emile eugene auguste victor antoine etienne claude bernard raymond robert alfred "
    "edouard gabriel lucien maurice leon jules felix gaston alexandre armand arthur camille daniel denis "
    "fernand guillaume hector hippolyte honore isidore leopold lazare marius nicolas olivier pascal "
    "philippe raoul simon theodore vincent yves xavier adrien alain alphonse anatole benjamin clement "
    "edmond ernest gustave jean-baptiste baptiste laurent martin mathieu max maxime noel ours sylvain "
    "theophile anne jeanne louise germaine suzanne simone marguerite madeleine helene lucie marthe rose "
    "irene yvonne odette lise berthe julie sophie francoise genevieve catherine elisabeth juliette "
    "thomas john winston franklin francis richard dominique christophe sebastien frederic antonin amedee "
    "augustin benoit bertrand cesar gilbert guy hugues jerome julien leonce lionel luc marc patrice "
    "prosper raphael remy roland serge stephane sylvestre thierry william jose miguel pablo alessandro "
    "anatole desire felicien firmin florent gaspard germain gerard hilaire jacqueline marcelle paulette "
    "renee therese yvette colette danielle jacques-yves"
)
# "saint jean": the last word of a saint's name is a first name, not a short form.
SAINTS = word_set("saint sainte saints saintes")
# Names made of numbers ("dix neuf mars", "huit mai") are dates: no word of them stands alone.
NUMBER_NAMES = frozenset(word for value in NUMBER_WORDS.values() for word in value.split())
# A fuzzy (one-edit) match is tried only on words this long that are not common words, so
# "une rue pour les vélos" never becomes "RUE DU FOUR".
FUZZY_MIN_LENGTH = 5
COMMON_WORDS = word_set(
    "aussi autre avant avoir bien cette comme dans depuis encore entre etait faire fait jamais jours "
    "leurs mais matin meme merci moins notre nous parce pendant personne peut plein pour quand quoi sans "
    "soir sont sous tous tout toute toutes tres trop vers voila votre vous about after again being could "
    "every there their these thing think those today under where which while would still since since "
    "bloque bloquee ferme fermee depuis devant derriere enorme encore toujours travaux trottoir chantier"
)


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def within_one_edit(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by at most one insertion, deletion, substitution or swap."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diffs = [i for i in range(la) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        i, j = diffs[0], diffs[-1]
        return len(diffs) == 2 and j == i + 1 and a[i] == b[j] and a[j] == b[i]
    if la > lb:
        a, b = b, a
    # b is one longer: skipping one letter of b must give a.
    for i in range(len(a)):
        if a[i] != b[i]:
            return a[i:] == b[i + 1 :]
    return True


@dataclass(frozen=True, slots=True)
class StreetRow:
    """One segment as the gazetteer needs it: official name, commune and WGS84 line geometry."""

    name: str
    commune: str
    geometry: shapely.Geometry


class Street:
    """One official street name in one commune: geometry (local metres), representative point, radius."""

    __slots__ = (
        "addresses",
        "bounds",
        "commune",
        "geom",
        "key",
        "lat",
        "lon",
        "name",
        "radius_m",
        "segments",
        "x",
        "y",
    )

    def __init__(self, key: str, name: str, commune: str, geom: shapely.Geometry, segments: int) -> None:
        self.key = key
        self.name = name
        self.commune = commune
        self.geom = geom
        self.segments = segments
        self.x = self.y = self.lon = self.lat = self.radius_m = 0.0
        self.bounds: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
        self.addresses: AddressIndex | None = None

    def __repr__(self) -> str:
        return f"<Street {self.name} ({self.commune})>"

    def distance_to(self, x: float, y: float) -> float:
        """Metres from the local-frame point ``(x, y)`` to the street."""
        return float(shapely.distance(self.geom, shapely.Point(x, y)))

    def point_near(self, x: float, y: float) -> tuple[float, float]:
        """The point of the street nearest the local-frame point ``(x, y)``.

        By the shortest line, not by projecting along the line: a street is a MultiLineString
        of parts in no particular order, and projecting onto it measures along the parts as
        if they were joined end to end, which can answer a point hundreds of metres away.
        """
        (on_x, on_y), _ = shapely.get_coordinates(shapely.shortest_line(self.geom, shapely.Point(x, y)))
        return float(on_x), float(on_y)


@dataclass(frozen=True, slots=True, eq=False)
class Landmark:
    """A named place: its point (local frame and WGS84), extent, and shape (a point, its street, a river line)."""

    name: str
    kind: str
    lon: float
    lat: float
    x: float
    y: float
    radius_m: float
    geom: shapely.Geometry
    street: Street | None = None
    # The street nearest the place, within its extent: a post located there is on it.
    nearest_street: Street | None = None

    def __repr__(self) -> str:
        return f"<Landmark {self.name} ({self.kind})>"

    @property
    def on_street(self) -> Street | None:
        """The street a post located at this place is taken to be on: its own, or the one beside it."""
        return self.street or self.nearest_street

    @property
    def locates(self) -> bool:
        """Whether a post naming only this place is located there (a river is too long)."""
        return KINDS[self.kind].locates

    def distance_to(self, street: Street) -> float:
        return float(shapely.distance(self.geom, street.geom)) if self.street is not street else 0.0

    def beside(self, street: Street) -> tuple[float, float, float]:
        """The point of ``street`` nearest this place (its point, street or line), and the distance between them."""
        (x, y), (px, py) = shapely.get_coordinates(shapely.shortest_line(street.geom, self.geom))
        return float(x), float(y), math.hypot(px - x, py - y)


# A house number is placed to about a house front.
ADDRESS_ACCURACY_M = 20.0
# A number missing from the address points is placed between its neighbours of the same
# parity when they are at most this many numbers apart.
MAX_INTERPOLATED_GAP = 20
# Address points farther than this from a street of their name belong to another street.
ADDRESS_MAX_DISTANCE_M = 150.0


class AddressIndex:
    """The address points of one street: exact numbers and, per parity, numbers in order."""

    __slots__ = ("exact", "ordered")

    def __init__(self) -> None:
        self.exact: dict[str, tuple[float, float]] = {}
        self.ordered: dict[int, list[tuple[int, float, float]]] = {0: [], 1: []}

    def add(self, number: str, x: float, y: float) -> None:
        value = number.lower().replace(" ", "")
        self.exact.setdefault(value, (x, y))
        digits = "".join(ch for ch in value if ch.isdigit())
        if digits and digits == value:
            self.ordered[int(digits) % 2].append((int(digits), x, y))

    def freeze(self) -> None:
        for numbers in self.ordered.values():
            numbers.sort()

    def locate(self, number: str) -> tuple[float, float, float, str] | None:
        """``(x, y, accuracy_m, how)`` of ``number`` ("12", "12b"): its point, or between its neighbours."""
        value = number.lower()
        found = self.exact.get(value)
        if found is not None:
            return found[0], found[1], ADDRESS_ACCURACY_M, ""
        digits = "".join(ch for ch in value if ch.isdigit())
        if not digits:
            return None
        wanted = int(digits)
        if str(wanted) in self.exact:  # "12b" when only "12" is known
            x, y = self.exact[str(wanted)]
            return x, y, 2 * ADDRESS_ACCURACY_M, f"number {number} placed at {wanted}"
        numbers = self.ordered[wanted % 2]
        below = [item for item in numbers if item[0] < wanted]
        above = [item for item in numbers if item[0] > wanted]
        if not below or not above or above[0][0] - below[-1][0] > MAX_INTERPOLATED_GAP:
            return None
        (n1, x1, y1), (n2, x2, y2) = below[-1], above[0]
        t = (wanted - n1) / (n2 - n1)
        accuracy = max(ADDRESS_ACCURACY_M, math.hypot(x2 - x1, y2 - y1) / 2)
        return x1 + t * (x2 - x1), y1 + t * (y2 - y1), accuracy, f"number {number} placed between {n1} and {n2}"


# Two named streets whose geometries come closer than this are taken to meet there (data
# often leaves a small gap at junctions); farther apart, they do not cross.
CROSSING_MAX_GAP_M = 60.0


@dataclass(slots=True)
class Gazetteer:
    """Streets and the lookups the locator uses; build with :meth:`build` or :func:`get_gazetteer`."""

    frame: LocalFrame
    streets: list[Street]
    by_key: dict[str, tuple[Street, ...]]
    typed: dict
    bodies: dict
    short_bodies: dict  # short forms of the bodies ("feuga" for ALL PAUL FEUGA), for crossings only
    hashtags: dict[str, tuple[str, ...]]
    fuzzy_index: dict[str, tuple[str, ...]]
    communes: dict
    commune_names: dict[str, str]
    commune_hashtags: dict[str, str]
    landmarks: dict
    landmark_tags: dict[str, tuple]
    landmarks_by_kind: dict[str, tuple[Landmark, ...]]
    main_commune: str
    fingerprint: tuple = ()
    build_seconds: float = 0.0
    # Filled lazily by the locator: crossing point per pair of streets.
    crossings: dict = field(default_factory=dict)

    # --- building ---------------------------------------------------------------------

    @classmethod
    def build(cls, rows: Iterable[StreetRow], places: Places | None = None) -> Gazetteer:
        """Index ``rows`` (segments) and ``places`` (landmarks and address points)."""
        started = time.perf_counter()
        groups: dict[tuple[str, str], list[shapely.Geometry]] = defaultdict(list)
        names: dict[tuple[str, str], str] = {}
        commune_spellings: dict[str, Counter] = defaultdict(Counter)
        key_cache: dict[str, str] = {}
        commune_cache: dict[str, str] = {}
        for row in rows:
            key = key_cache.get(row.name)
            if key is None:
                key = key_cache[row.name] = normalize_street_name(row.name)
            if not key or row.geometry is None or row.geometry.is_empty:
                continue
            commune = commune_cache.get(row.commune)
            if commune is None:
                commune = commune_cache[row.commune] = commune_key(row.commune)
            groups[(key, commune)].append(row.geometry)
            names.setdefault((key, commune), row.name)
            commune_spellings[commune][row.commune] += 1

        gazetteer = cls._from_groups(groups, names, commune_spellings, places or Places())
        gazetteer.build_seconds = time.perf_counter() - started
        return gazetteer

    @classmethod
    def _from_groups(cls, groups, names, commune_spellings, places: Places) -> Gazetteer:
        all_geoms = [geom for parts in groups.values() for geom in parts]
        if all_geoms:
            min_x, min_y, max_x, max_y = shapely.total_bounds(np.array(all_geoms, dtype=object))
            frame = LocalFrame((min_x + max_x) / 2, (min_y + max_y) / 2)
        else:
            frame = LocalFrame(0.0, 0.0)

        keys = list(groups)
        merged = np.array(
            [shapely.multilinestrings(shapely.get_parts(np.array(groups[k], dtype=object))) for k in keys],
            dtype=object,
        )
        projected = shapely.transform(merged, frame.project_array) if len(merged) else merged
        if len(projected):
            reps = shapely.line_interpolate_point(
                projected, shapely.line_locate_point(projected, shapely.centroid(projected))
            )
            reps = np.array([_off_junction(geom, rep) for geom, rep in zip(projected, reps, strict=True)], dtype=object)
            radii = shapely.hausdorff_distance(reps, projected)
            bounds = shapely.bounds(projected)
            rep_xy = shapely.get_coordinates(reps)
        streets: list[Street] = []
        by_key: dict[str, list[Street]] = defaultdict(list)
        for index, (key, commune) in enumerate(keys):
            street = Street(key, names[(key, commune)], commune, projected[index], len(groups[(key, commune)]))
            street.x, street.y = float(rep_xy[index][0]), float(rep_xy[index][1])
            street.lon, street.lat = frame.to_lonlat(street.x, street.y)
            street.radius_m = float(radii[index])
            street.bounds = tuple(float(v) for v in bounds[index])
            streets.append(street)
            by_key[key].append(street)

        segments_per_commune: Counter = Counter()
        for street in streets:
            segments_per_commune[street.commune] += street.segments
        main_commune = segments_per_commune.most_common(1)[0][0] if segments_per_commune else ""

        typed, bodies, short_bodies, hashtags, vocabulary = _name_indexes(by_key)
        communes, commune_hashtags = _commune_indexes(commune_spellings)
        frozen_by_key = {key: tuple(found) for key, found in by_key.items()}
        landmark_trie, landmark_tags, by_kind = _landmark_indexes(places.landmarks, streets, frozen_by_key, frame)
        _attach_addresses(places.addresses, frozen_by_key, frame)
        return cls(
            frame=frame,
            streets=streets,
            by_key=frozen_by_key,
            typed=typed,
            bodies=bodies,
            short_bodies=short_bodies,
            hashtags=hashtags,
            fuzzy_index=_fuzzy_index(vocabulary),
            communes=communes,
            commune_names={key: key_spellings_first(spellings) for key, spellings in commune_spellings.items()},
            commune_hashtags=commune_hashtags,
            landmarks=landmark_trie,
            landmark_tags=landmark_tags,
            landmarks_by_kind=by_kind,
            main_commune=main_commune,
        )

    # --- lookups ----------------------------------------------------------------------

    def fuzzy(self, token: str) -> tuple[str, ...]:
        """Name words one edit away from ``token``, in alphabetical order (empty for short or common words).

        Ordered, not in the order of a set: the order of strings in a set changes from
        one process to the next, and a post must be located the same way by every process.
        """
        if len(token) < FUZZY_MIN_LENGTH or token in COMMON_WORDS:
            return ()
        candidates: set[str] = set(self.fuzzy_index.get(token, ()))
        for deletion in _deletions(token):
            candidates.update(self.fuzzy_index.get(deletion, ()))
        candidates.discard(token)
        return tuple(sorted(word for word in candidates if within_one_edit(token, word)))

    def streets_named(self, keys: Iterable[str]) -> list[Street]:
        return [street for key in keys for street in self.by_key.get(key, ())]

    def streets_meet(self, keys_a: Iterable[str], keys_b: Iterable[str]) -> bool:
        """Whether a street of one of ``keys_a`` and another of ``keys_b`` meet (:data:`CROSSING_MAX_GAP_M`)."""
        b_streets = self.streets_named(keys_b)
        return any(
            a is not b
            and overlaps(a.bounds, grown(b.bounds, CROSSING_MAX_GAP_M))
            and shapely.distance(a.geom, b.geom) <= CROSSING_MAX_GAP_M
            for a in self.streets_named(keys_a)
            for b in b_streets
        )

    def commune_label(self, commune: str) -> str:
        return self.commune_names.get(commune, commune)

    def __len__(self) -> int:
        return len(self.streets)


def overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    """Whether two (min x, min y, max x, max y) boxes overlap."""
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def grown(bounds: tuple[float, float, float, float], metres: float) -> tuple[float, float, float, float]:
    """The box ``bounds`` grown by ``metres`` on every side."""
    return bounds[0] - metres, bounds[1] - metres, bounds[2] + metres, bounds[3] + metres


# A street's point is kept this far from the ends of the segment it lies on.
OFF_JUNCTION_M = 4.0


def _off_junction(geom: shapely.Geometry, point: shapely.Point) -> shapely.Point:
    """``point`` of the street moved inside its segment, :data:`OFF_JUNCTION_M` from a junction.

    At a junction a street-level post's point is as near the street crossing it: moved
    into the segment, its nearest segment is one of the street it names.
    """
    parts = shapely.get_parts(geom)
    part = parts[int(np.argmin(shapely.distance(parts, point)))]
    length = part.length
    if length <= 2 * OFF_JUNCTION_M:
        return shapely.line_interpolate_point(part, 0.5, normalized=True)
    along = min(max(shapely.line_locate_point(part, point), OFF_JUNCTION_M), length - OFF_JUNCTION_M)
    return shapely.line_interpolate_point(part, along)


def commune_key(commune: str) -> str:
    """Comparable key of a commune name ("ST-ORENS-DE-GAMEVILLE" and "Saint-Orens-de-Gameville" agree)."""
    return " ".join(canonical_tokens(commune))


def _insert(trie: dict, tokens: list[str], value) -> None:
    node = trie
    for token in tokens:
        node = node.setdefault(token, {})
    node.setdefault(END, []).append(value)


def _freeze(trie: dict) -> None:
    """Turn terminal lists into tuples (shared, immutable payloads)."""
    stack = [trie]
    while stack:
        node = stack.pop()
        for token, child in node.items():
            if token == END:
                node[END] = tuple(dict.fromkeys(child))
            elif token != ONLY:
                stack.append(child)


_SEVERAL = object()


def _mark_only_completions(node: dict, depth: int = 0, via: str = ""):
    """Mark nodes that lead to a single name (see ``ONLY``); return its payload, None or _SEVERAL."""
    names = [node[END]] if END in node else []
    several = False
    for token, child in node.items():
        if token in (END, ONLY):
            continue
        below = _mark_only_completions(child, depth + 1, token)
        if below is _SEVERAL:
            several = True
        elif below is not None:
            names.append(below)
    if several or len(names) > 1:
        return _SEVERAL
    if not names:
        return None
    # Below depth 2 (type + one word) a prefix is too short to stand for a name; nor does one
    # end on a word that needs the next ("pont saint" is not "pont saint pierre": "pont saint michel").
    if END not in node and depth >= 2 and via not in SAINTS and via not in TITLES and via not in GIVEN_NAMES:
        node[ONLY] = names[0]
    return names[0]


def _short_forms(body: list[str]) -> list[list[str]]:
    """Shorter names people use for a name holding first names, titles or initials.

    - without some or all leading first names, titles or initials: "docteur suzanne noel"
      -> "suzanne noel", "noel"; "jean baptiste dumas" -> "baptiste dumas", "dumas";
    - without the first names but with the title: "president thomas wilson" -> "president wilson";
    - the last word alone, when it is a surname-like word (long, not a first name, a saint's
      name or a number): "forain francois verdier" -> "verdier", "winston churchill" -> "churchill".
    """
    forms: list[list[str]] = []
    index = 0
    while index < len(body) - 1 and (body[index] in GIVEN_NAMES or body[index] in TITLES or len(body[index]) == 1):
        index += 1
        if len("".join(body[index:])) >= 4:
            forms.append(body[index:])
    titled = [word for word in body[:-1] if word in TITLES] + body[-1:]
    if 1 < len(titled) < len(body):
        forms.append(titled)
    last = body[-1]
    if (
        len(body) >= 2
        and len(last) >= 5
        and last.isalpha()
        and last not in GIVEN_NAMES
        and last not in TITLES
        and body[-2] not in SAINTS
        and not any(word.isdigit() or word in NUMBER_NAMES for word in body)
    ):
        forms.append([last])
    unique: list[list[str]] = []
    for form in forms:
        if form not in unique:
            unique.append(form)
    return unique


def _glued_bodies(key_tokens: list[str], raw_body: list[str]) -> set[str]:
    """Ways a hashtag glues the name without its type: with/without particles, "saint" or "st"."""
    canonical = "".join(key_tokens)
    variants = {canonical, "".join(raw_body)}
    variants.add(canonical.replace("sainte", "ste").replace("saint", "st"))
    return {variant for variant in variants if variant}


def _name_indexes(by_key: dict[str, list[Street]]):
    typed: dict = {}
    bodies: dict = {}
    short_bodies: dict = {}
    hashtags: dict[str, list[str]] = defaultdict(list)
    vocabulary: set[str] = set()
    aliases: list[tuple[list[str], str]] = []
    for key, streets in by_key.items():
        tokens = key.split()
        _insert(typed, tokens, (key, False))
        vocabulary.update(token for token in tokens[1:] if len(token) >= FUZZY_MIN_LENGTH)
        street_type = tokens[0] if tokens[0] in CANONICAL_TYPES else ""
        body = tokens[1:] if street_type else tokens
        raw = tokenize(streets[0].name)
        raw_body = raw[1:] if street_type else raw
        if body:
            _insert(bodies, body, key)
            for glued in _glued_bodies(body, raw_body):
                hashtags[f"{street_type}|{glued}"].append(key)
                if len(body) >= 2:
                    hashtags[f"|{glued}"].append(key)
            if street_type:
                for short in _short_forms(body):
                    aliases.append(([street_type, *short], key))
                    _insert(short_bodies, short, key)
                    hashtags[f"{street_type}|{''.join(short)}"].append(key)
    for tokens, key in aliases:
        node = typed
        for token in tokens:
            node = node.setdefault(token, {})
        # A real street of that exact name wins over a short form of another one.
        if not any(not alias for _, alias in node.get(END, ())):
            node.setdefault(END, []).append((key, True))
    _freeze(typed)
    _freeze(bodies)
    _freeze(short_bodies)
    _mark_only_completions(typed)
    hashtag_keys = {glued: tuple(dict.fromkeys(keys)) for glued, keys in hashtags.items()}
    return typed, bodies, short_bodies, hashtag_keys, vocabulary


# Street types that name a place people also call by its bare name ("au Capitole",
# "devant Esquirol"), and the landmark kind they are.
PLACE_STREET_TYPES = {
    "place": "square",
    "square": "park",
    "esplanade": "square",
    "parvis": "square",
    "jardin": "park",
    "pont": "bridge",
    "port": "place",
}
# A bare name shared by places farther apart than this names none of them.
BARE_NAME_SPREAD_M = 300.0
# Bare names too common to stand for a place without their type ("la mairie", "la République").
COMMON_PLACE_WORDS = word_set(
    "mairie eglise republique poste gare marche fetes europe liberte liberation paix victoire fontaine "
    "halle halles ecole ecoles college chateau fort ville moulin parc jardin jardins pont ponts port "
    "commerce commerces platanes tilleuls chenes pins marronniers fleurs soleil lac source puits croix "
    "monument morts resistance deportes souvenir fraternite egalite concorde independance nation "
    "bascule foire foirail village bourg centre nord sud est ouest haut bas grand grande petit petite"
)


def _phrases(spec: LandmarkSpec) -> list[list[str]]:
    """The word sequences naming a landmark: its name and aliases as written, and with each head of its kind.

    "Gare Matabiau" (station) -> "gare matabiau", "station matabiau", "matabiau station"...;
    "Lycée Pierre de Fermat" -> also "lycee fermat"; a bare alias ("Matabiau") as written.
    """
    heads = [phrase_words(head) for head in KINDS[spec.kind].heads]
    phrases: list[list[str]] = []
    for written in (spec.name, *spec.aliases):
        words = phrase_words(written)
        phrases.append(words)
        specific = words
        for head in sorted(heads, key=len, reverse=True):
            if len(words) > len(head) and words[: len(head)] == head:
                specific = words[len(head) :]
                break
            if len(words) > len(head) and words[-len(head) :] == head:
                specific = words[: -len(head)]
                break
        if len("".join(specific)) < 3:
            continue
        for form in [specific, *_short_forms(specific)]:
            for head in heads:
                phrases.extend(([*head, *form], [*form, *head]))
    return phrases


def _bare_names(street: Street) -> list[list[str]]:
    """Bare names of a square, bridge or garden of the street data ("capitole", "wilson"), or none."""
    tokens = street.key.split()
    body = tokens[1:]
    forms = [body, *_short_forms(body)] if body else []
    return [
        form
        for form in forms
        if len("".join(form)) >= 5
        and not any(word.isdigit() or word in NUMBER_NAMES for word in form)
        and not all(word in COMMON_PLACE_WORDS or word in COMMON_WORDS or word in TITLES for word in form)
        and not (len(form) == 1 and form[0] in GIVEN_NAMES)
    ]


def _landmark_indexes(specs: list[LandmarkSpec], streets: list[Street], by_key: dict, frame: LocalFrame):
    """The phrase trie of landmarks (payload: landmark, whether a place word must precede it), glued forms, kinds."""
    trie: dict = {}
    glued: dict[str, list] = defaultdict(list)
    by_kind: dict[str, list[Landmark]] = defaultdict(list)
    named_streets: set[int] = set()

    def add(landmark: Landmark, phrases: list[list[str]], needs_cue: bool) -> None:
        for words in phrases:
            _insert(trie, words, (landmark, needs_cue))
            glued["".join(words)].append((landmark, needs_cue))

    unplaced: list[str] = []
    tree = shapely.STRtree([street.geom for street in streets])
    for spec in specs:
        landmark = _place_landmark(spec, by_key, frame)
        if landmark is None:
            unplaced.append(spec.name)
            continue
        if landmark.street is None and landmark.locates and len(streets):
            landmark = replace(landmark, nearest_street=_street_beside(landmark, spec.on, by_key, streets, tree))
        if landmark.street is not None:
            named_streets.add(id(landmark.street))
        by_kind[spec.kind].append(landmark)
        add(landmark, _phrases(spec), needs_cue=False)

    bare: dict[str, list[tuple[Landmark, list[str]]]] = defaultdict(list)
    for street in streets:
        kind = PLACE_STREET_TYPES.get(street.key.split()[0])
        if kind is None or id(street) in named_streets:
            continue
        landmark = Landmark(
            street.name, kind, street.lon, street.lat, street.x, street.y, street.radius_m, street.geom, street
        )
        by_kind[kind].append(landmark)
        for form in _bare_names(street):
            bare[" ".join(form)].append((landmark, form))
    for found in bare.values():
        first = found[0][0]
        if all(math.hypot(other.x - first.x, other.y - first.y) <= BARE_NAME_SPREAD_M for other, _ in found):
            for landmark, form in found:
                add(landmark, [form], needs_cue=True)
    if unplaced:
        logger.info("gazetteer: %d landmarks placed by a street not in the street data: %s", len(unplaced), unplaced)
    _freeze(trie)
    return (
        trie,
        {key: tuple(dict.fromkeys(values)) for key, values in glued.items()},
        {kind: tuple(found) for kind, found in by_kind.items()},
    )


def _street_named(by_key: dict, name: str, x: float | None = None, y: float | None = None) -> Street | None:
    """The street called ``name`` (official or as written); of homonyms, the one nearest the local point (x, y).

    Without a point, the first of them. ``None`` when no street has that name.
    """
    candidates = by_key.get(normalize_street_name(name), ()) if name else ()
    if not candidates:
        return None
    if x is None or y is None:
        return candidates[0]
    return min(candidates, key=lambda candidate: candidate.distance_to(x, y))


def _street_beside(
    landmark: Landmark, on: str, by_key: dict, streets: list[Street], tree: shapely.STRtree
) -> Street | None:
    """The street a landmark stands on: the one the file names (``on``), else the nearest within its extent."""
    named = _street_named(by_key, on, landmark.x, landmark.y)
    if named is not None:
        return named
    nearest = tree.query_nearest(landmark.geom, max_distance=landmark.radius_m)
    return streets[int(min(nearest))] if len(nearest) else None


def _place_landmark(spec: LandmarkSpec, by_key: dict, frame: LocalFrame) -> Landmark | None:
    """Where a landmark of the file is: its point, its street (``street``) or its line; ``None`` if unknown."""
    kind = KINDS[spec.kind]
    if spec.street:
        near = frame.to_xy(spec.lon, spec.lat) if spec.lon is not None else (None, None)
        street = _street_named(by_key, spec.street, *near)
        if street is None:
            if spec.lon is None:
                return None
        else:
            radius = spec.radius_m or street.radius_m
            return Landmark(
                spec.name, spec.kind, street.lon, street.lat, street.x, street.y, radius, street.geom, street
            )
    if spec.line:
        parts = [shapely.LineString([frame.to_xy(lon, lat) for lon, lat in part]) for part in spec.line]
        geom = shapely.multilinestrings(parts)
        point = shapely.line_interpolate_point(geom, 0.5, normalized=True)
        lon, lat = frame.to_lonlat(point.x, point.y)
        radius = float(shapely.hausdorff_distance(point, geom))
        return Landmark(spec.name, spec.kind, lon, lat, point.x, point.y, radius, geom)
    x, y = frame.to_xy(spec.lon, spec.lat)
    radius = spec.radius_m if spec.radius_m is not None else kind.radius_m
    return Landmark(spec.name, spec.kind, spec.lon, spec.lat, x, y, radius, shapely.Point(x, y))


def _attach_addresses(addresses: list[AddressSpec], by_key: dict, frame: LocalFrame) -> None:
    """Give each street the address points of its name that lie along it."""
    touched: list[AddressIndex] = []
    for address in addresses:
        x, y = frame.to_xy(address.lon, address.lat)
        street = _street_named(by_key, address.street, x, y)
        if street is None:
            continue
        if street.distance_to(x, y) > ADDRESS_MAX_DISTANCE_M:
            continue
        if street.addresses is None:
            street.addresses = AddressIndex()
            touched.append(street.addresses)
        street.addresses.add(address.number, x, y)
    for index in touched:
        index.freeze()


def _fuzzy_index(vocabulary: set[str]) -> dict[str, tuple[str, ...]]:
    index: dict[str, list[str]] = defaultdict(list)
    for word in vocabulary:
        index[word].append(word)
        for deletion in _deletions(word):
            index[deletion].append(word)
    return {key: tuple(words) for key, words in index.items()}


def key_spellings_first(spellings: Counter) -> str:
    return spellings.most_common(1)[0][0]


def _commune_indexes(commune_spellings: dict[str, Counter]):
    """Communes by their canonical words, plus a unique first word ("Saint-Orens", "Villeneuve")."""
    trie: dict = {}
    glued: dict[str, str] = {}
    first_words: Counter = Counter()
    for key in commune_spellings:
        tokens = key.split()
        if not tokens:
            continue
        _insert(trie, tokens, key)
        glued["".join(tokens)] = key
        glued["".join(tokenize(key_spellings_first(commune_spellings[key])))] = key
        first_words[tokens[0] if tokens[0] != "saint" or len(tokens) < 2 else " ".join(tokens[:2])] += 1
    for key in commune_spellings:
        tokens = key.split()
        if len(tokens) < 2:
            continue
        prefix = tokens[:2] if tokens[0] == "saint" else tokens[:1]
        if len(prefix) < len(tokens) and first_words[" ".join(prefix)] == 1 and len("".join(prefix)) >= 5:
            _insert(trie, prefix, key)
    _freeze(trie)
    return trie, glued


# --- loading from the database, cached per process ---------------------------------------

_gazetteers: StampedCache[Gazetteer] = StampedCache()


def street_fingerprint() -> tuple:
    """What changes whenever streets are added, removed or updated (one cheap aggregate query).

    The stamp of everything built from the streets and kept per process: the gazetteer,
    and the pipeline's nearest segments (:func:`incidents.pipeline.link.nearest_segments`).
    """
    found = StreetSegment.objects.aggregate(count=Count("id"), last_update=Max("updated_at"), last_id=Max("id"))
    return found["count"], found["last_update"], found["last_id"]


def iter_street_rows(queryset=None, chunk_size: int = 20_000) -> Iterator[StreetRow]:
    """Read segments as :class:`StreetRow`s, geometries decoded in bulk from WKB."""
    # Retired segments (gone from their source) are kept for history, not matched in new posts.
    queryset = (queryset if queryset is not None else StreetSegment.objects.current()).order_by()
    batch: list[tuple[str, str, memoryview]] = []

    def flush() -> Iterator[StreetRow]:
        geometries = shapely.from_wkb([bytes(wkb) for _, _, wkb in batch])
        for (name, commune, _), geometry in zip(batch, geometries, strict=True):
            yield StreetRow(name, commune, geometry)
        batch.clear()

    rows = queryset.annotate(wkb=AsWKB("geom")).values_list("name", "commune", "wkb")
    for row in rows.iterator(chunk_size=chunk_size):
        batch.append(row)
        if len(batch) >= chunk_size:
            yield from flush()
    yield from flush()


def load_landmarks(path: str | Path | None = None) -> Places:
    """Landmarks and address points from ``INCIDENTS_LANDMARKS_FILE`` (see :mod:`incidents.locate.landmarks`)."""
    path = path if path is not None else settings.INCIDENTS_LANDMARKS_FILE
    if not path:
        return Places()
    try:
        return read_places(path)
    except PlacesFileError as error:
        raise ImproperlyConfigured(
            f"INCIDENTS_LANDMARKS_FILE={path}: {error}. Fix the file (format: incidents/locate/landmarks.py; "
            "manage.py import_landmarks writes one from GeoJSON or OpenStreetMap), or set it empty to use no landmarks"
        ) from error


def landmarks_stamp() -> tuple:
    """What changes when the landmarks file is edited (its path, size and modification time)."""
    path = settings.INCIDENTS_LANDMARKS_FILE
    try:
        found = os.stat(path) if path else None
    except OSError:
        found = None
    return (path, found.st_size, found.st_mtime_ns) if found else (path,)


def get_gazetteer() -> Gazetteer:
    """The gazetteer of the streets in the database, shared by the process's threads, rebuilt only when they changed.

    Building one can mean reading every street name, so it is not rebuilt per batch nor
    per thread; the locator only reads it. An edited landmarks file counts as a change.
    """
    fingerprint = (*street_fingerprint(), landmarks_stamp())

    def build() -> Gazetteer:
        gazetteer = Gazetteer.build(iter_street_rows(), load_landmarks())
        gazetteer.fingerprint = fingerprint
        logger.info(
            "gazetteer: %d streets from %d segments in %.2f s", len(gazetteer), fingerprint[0], gazetteer.build_seconds
        )
        return gazetteer

    return _gazetteers.get(fingerprint, build)


def clear_gazetteer_cache() -> None:
    """Forget the gazetteer: the next call builds it again, even if the streets did not change (new landmarks)."""
    _gazetteers.clear()


@transaction.atomic
def renormalize_street_names() -> int:
    """Recompute ``StreetSegment.name_normalized`` with the current normaliser; return the rows changed.

    Run after :func:`~incidents.locate.normalize.normalize_street_name` changes
    (``manage.py normalize_street_names``). Distinct names are normalised once and
    written in one set-based UPDATE. The locator itself does not depend on the stored
    key (the gazetteer normalises names as it builds), but ``StreetSegment.objects.named()``
    and anything else reading the column does.
    """
    names = list(StreetSegment.objects.order_by().values_list("name", flat=True).distinct())
    keys = [normalize_street_name(name) for name in names]
    table = StreetSegment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} AS segment SET name_normalized = fresh.key
            FROM unnest(%s::text[], %s::text[]) AS fresh(name, key)
            WHERE segment.name = fresh.name AND segment.name_normalized IS DISTINCT FROM fresh.key
            """,
            [names, keys],
        )
        return cursor.rowcount
