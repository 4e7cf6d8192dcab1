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
- ``communes`` and ``landmarks``: evidence to choose between homonymous streets.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
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
from incidents.locate.normalize import (
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
    "irene yvonne odette lise berthe julie sophie francoise genevieve catherine elisabeth juliette"
)
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

    __slots__ = ("bounds", "commune", "geom", "key", "lat", "lon", "name", "radius_m", "segments", "x", "y")

    def __init__(self, key: str, name: str, commune: str, geom: shapely.Geometry, segments: int) -> None:
        self.key = key
        self.name = name
        self.commune = commune
        self.geom = geom
        self.segments = segments
        self.x = self.y = self.lon = self.lat = self.radius_m = 0.0
        self.bounds: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)

    def __repr__(self) -> str:
        return f"<Street {self.name} ({self.commune})>"

    def distance_to(self, x: float, y: float) -> float:
        """Metres from the local-frame point ``(x, y)`` to the street."""
        return float(shapely.distance(self.geom, shapely.Point(x, y)))

    def point_near(self, x: float, y: float) -> tuple[float, float]:
        """The point of the street nearest the local-frame point ``(x, y)``."""
        on_line = shapely.line_interpolate_point(self.geom, shapely.line_locate_point(self.geom, shapely.Point(x, y)))
        return on_line.x, on_line.y


@dataclass(frozen=True, slots=True)
class Landmark:
    name: str
    lon: float
    lat: float
    x: float
    y: float


@dataclass(slots=True)
class Gazetteer:
    """Streets and the lookups the locator uses; build with :meth:`build` or :func:`get_gazetteer`."""

    frame: LocalFrame
    streets: list[Street]
    by_key: dict[str, tuple[Street, ...]]
    typed: dict
    bodies: dict
    hashtags: dict[str, tuple[str, ...]]
    fuzzy_index: dict[str, tuple[str, ...]]
    communes: dict
    commune_names: dict[str, str]
    commune_hashtags: dict[str, str]
    landmarks: dict
    main_commune: str
    fingerprint: tuple = ()
    build_seconds: float = 0.0
    # Filled lazily by the locator: crossing point per pair of streets.
    crossings: dict = field(default_factory=dict)

    # --- building ---------------------------------------------------------------------

    @classmethod
    def build(cls, rows: Iterable[StreetRow], landmarks: Iterable[tuple[str, float, float]] = ()) -> Gazetteer:
        """Index ``rows`` (segments) and ``landmarks`` (name, lon, lat)."""
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

        gazetteer = cls._from_groups(groups, names, commune_spellings, landmarks)
        gazetteer.build_seconds = time.perf_counter() - started
        return gazetteer

    @classmethod
    def _from_groups(cls, groups, names, commune_spellings, landmarks) -> Gazetteer:
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

        typed, bodies, hashtags, vocabulary = _name_indexes(by_key)
        communes, commune_hashtags = _commune_indexes(commune_spellings)
        landmark_trie: dict = {}
        for name, lon, lat in landmarks:
            x, y = frame.to_xy(lon, lat)
            _insert(landmark_trie, canonical_tokens(name), Landmark(name, lon, lat, x, y))
        return cls(
            frame=frame,
            streets=streets,
            by_key={key: tuple(found) for key, found in by_key.items()},
            typed=typed,
            bodies=bodies,
            hashtags=hashtags,
            fuzzy_index=_fuzzy_index(vocabulary),
            communes=communes,
            commune_names={key: key_spellings_first(spellings) for key, spellings in commune_spellings.items()},
            commune_hashtags=commune_hashtags,
            landmarks=landmark_trie,
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

    def commune_label(self, commune: str) -> str:
        return self.commune_names.get(commune, commune)

    def __len__(self) -> int:
        return len(self.streets)


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


def _mark_only_completions(node: dict, depth: int = 0):
    """Mark nodes that lead to a single name (see ``ONLY``); return its payload, None or _SEVERAL."""
    names = [node[END]] if END in node else []
    several = False
    for token, child in node.items():
        if token in (END, ONLY):
            continue
        below = _mark_only_completions(child, depth + 1)
        if below is _SEVERAL:
            several = True
        elif below is not None:
            names.append(below)
    if several or len(names) > 1:
        return _SEVERAL
    if not names:
        return None
    # Below depth 2 (type + one word) a prefix is too short to stand for a name.
    if END not in node and depth >= 2:
        node[ONLY] = names[0]
    return names[0]


def _short_forms(body: list[str]) -> list[list[str]]:
    """The name without some or all leading first names, titles or initials.

    "docteur suzanne noel" -> "suzanne noel", "noel"; "jean baptiste dumas" ->
    "baptiste dumas", "dumas".
    """
    forms = []
    index = 0
    while index < len(body) - 1 and (body[index] in GIVEN_NAMES or body[index] in TITLES or len(body[index]) == 1):
        index += 1
        if len("".join(body[index:])) >= 4:
            forms.append(body[index:])
    return forms


def _glued_bodies(key_tokens: list[str], raw_body: list[str]) -> set[str]:
    """Ways a hashtag glues the name without its type: with/without particles, "saint" or "st"."""
    canonical = "".join(key_tokens)
    variants = {canonical, "".join(raw_body)}
    variants.add(canonical.replace("sainte", "ste").replace("saint", "st"))
    return {variant for variant in variants if variant}


def _name_indexes(by_key: dict[str, list[Street]]):
    typed: dict = {}
    bodies: dict = {}
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
                aliases.extend(([street_type, *short], key) for short in _short_forms(body))
    for tokens, key in aliases:
        node = typed
        for token in tokens:
            node = node.setdefault(token, {})
        # A real street of that exact name wins over a short form of another one.
        if not any(not alias for _, alias in node.get(END, ())):
            node.setdefault(END, []).append((key, True))
    _freeze(typed)
    _freeze(bodies)
    _mark_only_completions(typed)
    return typed, bodies, {glued: tuple(dict.fromkeys(keys)) for glued, keys in hashtags.items()}, vocabulary


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


def load_landmarks(path: str | Path | None = None) -> list[tuple[str, float, float]]:
    """Landmarks (name, lon, lat) from ``INCIDENTS_LANDMARKS_FILE``: evidence to choose between homonyms."""
    path = path if path is not None else settings.INCIDENTS_LANDMARKS_FILE
    if not path:
        return []
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return [(item["name"], float(item["lon"]), float(item["lat"])) for item in data["landmarks"]]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ImproperlyConfigured(
            f"INCIDENTS_LANDMARKS_FILE={path}: expected a readable JSON file "
            f'{{"landmarks": [{{"name": ..., "lon": ..., "lat": ...}}]}} ({error!r}); set it empty to use no landmarks'
        ) from error


def get_gazetteer() -> Gazetteer:
    """The gazetteer of the streets in the database, shared by the process's threads, rebuilt only when they changed.

    Building one can mean reading every street name, so it is not rebuilt per batch nor
    per thread; the locator only reads it.
    """
    fingerprint = street_fingerprint()

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
