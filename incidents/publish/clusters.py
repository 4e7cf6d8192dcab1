"""
Clusters of incidents for the map: an in-memory quadtree index, kept current by change notes.

Why in memory: the map asks for any viewport at any zoom with any mix of category,
status, time window and "near active works" filters. Per-zoom aggregates in SQL cannot
serve arbitrary time windows without summing one row per cell and day; clustering a
million rows in SQL per request takes seconds. Here each process keeps the incidents as
NumPy columns (~60 bytes an incident) sorted by their Morton (Z-order) code on a
quadtree 24 levels deep, so that:

* a viewport is one contiguous slice of the sorted codes (Z-order is monotonic in x and
  y), refined by integer comparisons;
* the clusters at zoom ``z`` are the quadtree cells of level ``z + 2`` (64 px cells on
  256 px tiles): the selected codes shifted right are already sorted, so cells are runs,
  counted and summed with ``reduceat`` — no sort, no Python loop per incident;
* a cluster's expansion zoom (where it splits) is the level of the longest Z-order prefix
  its first and last codes share.

Freshness: writers call :func:`mark_incidents_changed` (the change notes, below) in
their transaction; each process checks for new notes at most every
``INCIDENTS_CLUSTER_CHECK_SECONDS`` and reloads just those incidents (replaying a
window of ``INCIDENTS_CLUSTER_OVERLAP_SECONDS`` so late commits are never missed). The
first request of a process loads everything with one binary ``COPY``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import io
import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from incidents.categories import Affected, Category
from incidents.models import Incident, IncidentChange, IncidentStatus, IncidentWorksZone

LEVELS = 24  # quadtree depth: cells of ~2.4 m at the equator
CELL_SHIFT = 2  # clusters are cells of 1/4 tile (64 px): level = zoom + 2
MAX_ZOOM = LEVELS - CELL_SHIFT
MAX_CELLS = 65_536  # largest viewport, in cells, that one request may cover
MAX_LAT = 85.0511287798  # Web Mercator's limit
CATEGORIES = [value for value, _label in Category.choices]
STATUSES = [value for value, _label in IncidentStatus.choices]
AFFECTS = [value for value, _label in Affected.choices]
# A full reload beats replaying this many changed incidents one by one.
FULL_RELOAD_ABOVE = 50_000


def mercator_cells(lon, lat, level: int = LEVELS):
    """Quadtree cell coordinates (x right, y down) of WGS84 positions at ``level``."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.clip(np.asarray(lat, dtype=np.float64), -MAX_LAT, MAX_LAT)
    size = float(1 << level)
    x = (lon + 180.0) / 360.0 * size
    rad = np.radians(lat)
    y = (1.0 - np.log(np.tan(rad) + 1.0 / np.cos(rad)) / np.pi) / 2.0 * size
    top = (1 << level) - 1
    return (np.clip(np.floor(x), 0, top).astype(np.uint64), np.clip(np.floor(y), 0, top).astype(np.uint64))


def _spread(v):
    """Insert a zero bit between the bits of 32-bit integers (for Morton codes)."""
    v = np.asarray(v, dtype=np.uint64) & np.uint64(0xFFFFFFFF)
    for shift, mask in ((16, 0x0000FFFF0000FFFF), (8, 0x00FF00FF00FF00FF), (4, 0x0F0F0F0F0F0F0F0F),
                        (2, 0x3333333333333333), (1, 0x5555555555555555)):  # fmt: skip
        v = (v | (v << np.uint64(shift))) & np.uint64(mask)
    return v


def morton(x, y):
    """Z-order code: x bits at even positions, y bits at odd positions."""
    return _spread(x) | (_spread(y) << np.uint64(1))


def micros(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


# One row of the binary COPY below: a field count, then each field's length and value.
_ROW = np.dtype(
    [
        ("n", ">i2"),
        ("l_id", ">i4"), ("id", ">i8"),
        ("l_lon", ">i4"), ("lon", ">f8"),
        ("l_lat", ">i4"), ("lat", ">f8"),
        ("l_cat", ">i4"), ("cat", ">i2"),
        ("l_status", ">i4"), ("status", ">i2"),
        ("l_first", ">i4"), ("first", ">i8"),
        ("l_last", ">i4"), ("last", ">i8"),
        ("l_near", ">i4"), ("near", "u1"),
        ("l_affects", ">i4"), ("affects", ">i2"),
    ]
)  # fmt: skip
_COPY_HEADER = 19  # signature (11), flags (4), header extension length (4)


def _load_sql(where: str) -> str:
    incident = Incident._meta.db_table
    links = IncidentWorksZone._meta.db_table
    categories = ",".join(f"'{code}'" for code in CATEGORIES)
    statuses = ",".join(f"'{code}'" for code in STATUSES)
    affects = ",".join(f"'{code}'" for code in AFFECTS)
    # Codes become small integers (array positions, 0-based) so a row has a fixed size.
    return f"""
        COPY (
            SELECT i.id, ST_X(i.location), ST_Y(i.location),
                   (coalesce(array_position(ARRAY[{categories}]::text[], i.category::text), 0) - 1)::int2,
                   (coalesce(array_position(ARRAY[{statuses}]::text[], i.status::text), 0) - 1)::int2,
                   (extract(epoch FROM i.first_post_at) * 1000000)::int8,
                   (extract(epoch FROM i.last_post_at) * 1000000)::int8,
                   EXISTS (SELECT 1 FROM {links} w WHERE w.incident_id = i.id),
                   -- who is affected, one bit per code
                   (SELECT coalesce(sum(1 << (array_position(ARRAY[{affects}]::text[], a::text) - 1)), 0)
                    FROM unnest(i.affects) a)::int2
            FROM {incident} i
            {where}
        ) TO STDOUT (FORMAT BINARY)
    """


@dataclass
class Columns:
    """Incidents as parallel arrays sorted by Morton code."""

    code: np.ndarray
    ix: np.ndarray
    iy: np.ndarray
    id: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    cat: np.ndarray
    status: np.ndarray
    first: np.ndarray
    last: np.ndarray
    near: np.ndarray
    affects: np.ndarray  # bit n: AFFECTS[n]

    @classmethod
    def empty(cls) -> Columns:
        return cls.from_rows(np.zeros(0, dtype=_ROW))

    @classmethod
    def from_rows(cls, rows: np.ndarray) -> Columns:
        ix, iy = mercator_cells(rows["lon"], rows["lat"])
        code = morton(ix, iy)
        order = np.argsort(code, kind="stable")
        return cls(
            code=code[order],
            ix=ix[order].astype(np.uint32),
            iy=iy[order].astype(np.uint32),
            id=rows["id"].astype(np.int64)[order],
            lon=rows["lon"].astype(np.float64)[order],
            lat=rows["lat"].astype(np.float64)[order],
            cat=rows["cat"].astype(np.int8)[order],
            status=rows["status"].astype(np.int8)[order],
            first=rows["first"].astype(np.int64)[order],
            last=rows["last"].astype(np.int64)[order],
            near=rows["near"].astype(bool)[order],
            affects=rows["affects"].astype(np.int16)[order],
        )

    def fields(self) -> dict[str, np.ndarray]:
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}

    @functools.cached_property
    def extent(self) -> tuple[int, int, int, int]:
        """Smallest and largest cell coordinates (level 24) of all incidents: x min, y min, x max, y max."""
        if not len(self.code):
            return 0, 0, 0, 0
        return int(self.ix.min()), int(self.iy.min()), int(self.ix.max()), int(self.iy.max())

    def __len__(self) -> int:
        return len(self.code)

    def replace(self, ids: np.ndarray, fresh: Columns) -> Columns:
        """Drop the incidents ``ids`` and merge ``fresh`` in, keeping the Morton order (O(n))."""
        keep = ~np.isin(self.id, ids)
        kept = {name: column[keep] for name, column in self.fields().items()}
        positions = np.searchsorted(kept["code"], fresh.code)
        merged = {name: np.insert(kept[name], positions, column) for name, column in fresh.fields().items()}
        return Columns(**merged)


def fetch_rows(ids: list[int] | None = None) -> np.ndarray:
    """Incidents (all, or ``ids``) as fixed-size records, through one binary COPY."""
    where = "" if ids is None else "WHERE i.id = ANY(%s)"
    buffer = io.BytesIO()
    with connection.cursor() as cursor:
        sql = _load_sql(where)
        if ids is not None:
            sql = sql.replace("%s", "'{" + ",".join(str(int(pk)) for pk in ids) + "}'::bigint[]")
        with cursor.cursor.copy(sql) as copy:
            for chunk in copy:
                buffer.write(chunk)
    data = buffer.getvalue()
    body = data[_COPY_HEADER:-2]  # the trailer is a field count of -1
    return np.frombuffer(body, dtype=_ROW) if body else np.zeros(0, dtype=_ROW)


@dataclass(frozen=True)
class ClusterQuery:
    bbox: tuple[float, float, float, float]
    zoom: int
    categories: list[str] | None = None
    statuses: list[str] | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    near_works: bool | None = None
    affects: list[str] | None = None


@dataclass
class ClusterResult:
    """Cells with incidents: counts, centroids, category counts, and the incident of single cells."""

    count: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    expansion_zoom: np.ndarray
    categories: np.ndarray  # (cells, categories)
    single_id: np.ndarray  # incident id where count == 1, else 0
    single_status: np.ndarray
    total: int


def cell_range(query: ClusterQuery) -> tuple[int, int, int, int]:
    """The viewport in cells of the query's level: x0, y0, x1, y1 (inclusive)."""
    level = query.zoom + CELL_SHIFT
    min_lon, min_lat, max_lon, max_lat = query.bbox
    (x0, x1), (y1, y0) = mercator_cells([min_lon, max_lon], [min_lat, max_lat], level)
    return int(x0), int(y0), int(x1), int(y1)


class ClusterIndex:
    """The per-process index; thread-safe, loaded lazily, refreshed from change notes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.columns: Columns | None = None
        self._checked_at = 0.0
        self._seen: set[int] = set()
        self._since: dt.datetime | None = None

    def reset(self) -> None:
        """Forget everything; the next query loads from the database."""
        with self._lock:
            self.columns = None
            self._seen = set()
            self._since = None
            self._checked_at = 0.0

    def load(self) -> None:
        started = timezone.now()
        self.columns = Columns.from_rows(fetch_rows())
        self._since = started
        self._seen = set(
            IncidentChange.objects.filter(changed_at__gte=self._window_start(started)).values_list("id", flat=True)
        )
        self._checked_at = time.monotonic()

    def _window_start(self, moment: dt.datetime) -> dt.datetime:
        return moment - dt.timedelta(seconds=settings.INCIDENTS_CLUSTER_OVERLAP_SECONDS)

    def refresh(self) -> None:
        """Replay change notes written since the last check (with overlap)."""
        now = timezone.now()
        notes = list(
            IncidentChange.objects.filter(changed_at__gte=self._window_start(self._since)).values_list(
                "id", "incident_id"
            )
        )
        fresh = [(pk, incident) for pk, incident in notes if pk not in self._seen]
        self._checked_at = time.monotonic()
        if not fresh:
            self._seen = {pk for pk, _ in notes}
            return
        changed = {incident for _, incident in fresh}
        if None in changed or len(changed) > FULL_RELOAD_ABOVE:
            self.load()
            return
        ids = np.fromiter(changed, dtype=np.int64)
        self.columns = self.columns.replace(ids, Columns.from_rows(fetch_rows(sorted(changed))))
        self._seen = {pk for pk, _ in notes}
        self._since = now

    def current(self) -> Columns:
        with self._lock:
            if self.columns is None:
                self.load()
            elif time.monotonic() - self._checked_at >= settings.INCIDENTS_CLUSTER_CHECK_SECONDS:
                self.refresh()
            return self.columns

    def query(self, query: ClusterQuery) -> ClusterResult:
        columns = self.current()
        level = query.zoom + CELL_SHIFT
        shift = np.uint64(2 * (LEVELS - level))
        x0, y0, x1, y1 = cell_range(query)
        # All codes of the viewport's cells lie between those of its two extreme corners.
        low = int(morton(x0, y0)) << int(shift)
        high = (int(morton(x1, y1)) + 1) << int(shift)
        lo, hi = (int(i) for i in np.searchsorted(columns.code, np.array([low, high], dtype=np.uint64)))
        sl = slice(lo, hi)
        cell = 1 << int(LEVELS - level)
        conditions = []
        min_x, min_y, max_x, max_y = columns.extent
        # A viewport that holds every incident needs no position test (the usual low-zoom case).
        if not (x0 * cell <= min_x and max_x < (x1 + 1) * cell and y0 * cell <= min_y and max_y < (y1 + 1) * cell):
            conditions += [
                lambda: columns.ix[sl] >= x0 * cell,
                lambda: columns.ix[sl] < (x1 + 1) * cell,
                lambda: columns.iy[sl] >= y0 * cell,
                lambda: columns.iy[sl] < (y1 + 1) * cell,
            ]
        if query.categories is not None:
            wanted_categories = np.isin(CATEGORIES, query.categories)
            conditions.append(lambda: wanted_categories[columns.cat[sl]])
        if query.statuses is not None:
            wanted_statuses = np.isin(STATUSES, query.statuses)
            conditions.append(lambda: wanted_statuses[columns.status[sl]])
        if query.end is not None:
            conditions.append(lambda: columns.first[sl] <= micros(query.end))
        if query.start is not None:
            conditions.append(lambda: columns.last[sl] >= micros(query.start))
        if query.near_works is not None:
            conditions.append(lambda: columns.near[sl] == query.near_works)
        if query.affects:
            bits = np.int16(sum(1 << AFFECTS.index(code) for code in query.affects))
            conditions.append(lambda: (columns.affects[sl] & bits) != 0)
        if not conditions:
            # Everything in the slice: aggregate views of the columns, copying nothing.
            return self._aggregate(columns, sl, shift)
        mask = conditions[0]()
        for condition in conditions[1:]:
            mask &= condition()
        return self._aggregate(columns, np.flatnonzero(mask) + lo, shift)

    @staticmethod
    def _aggregate(columns: Columns, selected: np.ndarray | slice, shift: np.uint64) -> ClusterResult:
        """Group the ``selected`` incidents (indices, or a slice) by cell; they are in Morton order."""
        is_slice = isinstance(selected, slice)
        if (selected.stop - selected.start if is_slice else len(selected)) <= 0:
            empty = np.zeros(0)
            return ClusterResult(empty, empty, empty, empty, np.zeros((0, len(CATEGORIES))), empty, empty, total=0)
        codes = columns.code[selected]
        keys = codes >> shift
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        ends = np.r_[starts[1:], len(keys)]
        count = ends - starts
        lon = np.add.reduceat(columns.lon[selected], starts) / count
        lat = np.add.reduceat(columns.lat[selected], starts) / count
        # Cells split at the first level where their extreme codes differ.
        differing = codes[starts] ^ codes[ends - 1]
        bits = np.where(differing > 0, np.floor(np.log2(np.maximum(differing, 1).astype(np.float64))) + 1, 0)
        common_levels = LEVELS - np.ceil(bits / 2)
        expansion = np.clip(common_levels + 1 - CELL_SHIFT, 0, MAX_ZOOM).astype(np.int64)
        group = np.repeat(np.arange(len(starts)), count)
        categories = np.bincount(
            group * len(CATEGORIES) + columns.cat[selected].astype(np.int64), minlength=len(starts) * len(CATEGORIES)
        ).reshape(len(starts), len(CATEGORIES))
        first = starts + selected.start if is_slice else selected[starts]
        single = count == 1
        return ClusterResult(
            count=count,
            lon=lon,
            lat=lat,
            expansion_zoom=expansion,
            categories=categories,
            single_id=np.where(single, columns.id[first], 0),
            single_status=columns.status[first],
            total=int(count.sum()),
        )


INDEX = ClusterIndex()


def clusters_geojson(result: ClusterResult, members: dict) -> str:
    """The clusters as a GeoJSON FeatureCollection text (single incidents as plain features)."""

    features = []
    for i in range(len(result.count)):
        lon, lat = round(float(result.lon[i]), 6), round(float(result.lat[i]), 6)
        geometry = f'{{"type":"Point","coordinates":[{lon},{lat}]}}'
        if result.count[i] == 1:
            category = CATEGORIES[int(np.argmax(result.categories[i]))]
            features.append(
                f'{{"type":"Feature","id":{int(result.single_id[i])},"geometry":{geometry},'
                f'"properties":{{"cluster":false,"count":1,"category":"{category}",'
                f'"status":"{STATUSES[int(result.single_status[i])]}"}}}}'
            )
        else:
            breakdown = {CATEGORIES[c]: int(n) for c, n in enumerate(result.categories[i]) if n}
            features.append(
                f'{{"type":"Feature","geometry":{geometry},"properties":{{"cluster":true,'
                f'"count":{int(result.count[i])},"expansion_zoom":{int(result.expansion_zoom[i])},'
                f'"categories":{json.dumps(breakdown, separators=(",", ":"))}}}}}'
            )
    head = "".join(f"{json.dumps(key)}:{json.dumps(value)}," for key, value in members.items())
    return '{"type":"FeatureCollection",' + head + '"features":[' + ",".join(features) + "]}"


# --- Change notes: how writers keep every process's index current -------------------------


@transaction.atomic
def mark_incidents_changed(incident_ids: Iterable[int] | None = None) -> int:
    """Record that ``incident_ids`` were created, changed or deleted (``None``: possibly all of them).

    Call it in the transaction that changes incidents (the pipeline after grouping, the
    triage service, bulk imports): every API process replays these notes into its
    cluster index within ``INCIDENTS_CLUSTER_CHECK_SECONDS``. Returns the number of notes.
    """
    now = timezone.now()
    ids = None if incident_ids is None else sorted(set(incident_ids))
    table = IncidentChange._meta.db_table
    with connection.cursor() as cursor:
        # One statement however many ids: the pipeline calls this for every batch.
        cursor.execute(
            f"INSERT INTO {table} (incident_id, changed_at) SELECT unnest(%s::bigint[]), %s",
            [[None] if ids is None else ids, now],
        )
        written = cursor.rowcount
        keep = dt.timedelta(hours=settings.INCIDENTS_CHANGES_KEEP_HOURS)
        cursor.execute(f"DELETE FROM {table} WHERE changed_at < %s", [now - keep])
    return written
