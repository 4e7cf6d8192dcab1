"""
A batch of posts through the stages: store → classify → locate → out of area → link → group.

Two entry points, each one transaction:

- :func:`store` writes a batch of parsed records exactly once (``COPY`` into a temporary
  table, then ``INSERT ... ON CONFLICT`` on the ``(source, external_id)`` constraint)
  and counts reposts as engagement of their original. It always runs in the process
  that received the posts, so callers learn at once what was created, duplicate or a
  repost, and nothing is lost if a worker or the broker fails afterwards: stored posts
  wait in state ``pending``.
- :func:`process` takes stored ``pending`` posts through classification and location
  (Python, behind the stage interfaces), writes the results in one ``UPDATE``, marks
  posts outside the service area in SQL, links them (:mod:`incidents.link`) and groups
  them into incidents (:mod:`incidents.group`). It runs synchronously, or in a Celery
  worker (:mod:`incidents.tasks`) when ``CELERY_BROKER_URL`` is set. It only touches
  posts still ``pending``, so running it twice on the same ids is harmless.

Only relevant posts are located: locating is the costly step, and an off-topic post
needs no place. Everything per post that can be done in SQL is done in SQL.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction

from incidents.cache import StampedCache
from incidents.categories import Category
from incidents.classify.lexicon import classify_many
from incidents.classify.result import Classification
from incidents.geo import geog
from incidents.group import add_batch_posts, group_batch, refresh_incidents
from incidents.link import link_batch_works, nearest_segment_join
from incidents.locate.locator import Locator
from incidents.locate.result import Location
from incidents.models import Incident, LocationMethod, Post, PostState, Repost, StreetSegment
from incidents.notify.outbox import enqueue_incident_events
from incidents.services.areas import in_service_area
from incidents.sources.parsing import dump_raw
from incidents.sources.record import PostRecord

POST = Post._meta.db_table
REPOST = Repost._meta.db_table
SEGMENT = StreetSegment._meta.db_table

# Advisory lock (namespace, key) serialising the store step across processes: see store().
LOCK_NAMESPACE = 0x43495459  # "CITY"
STORE_LOCK = 1

_POST_COLUMNS = (
    "source",
    "external_id",
    "url",
    "author_handle",
    "author_id",
    "text",
    "language",
    "media_urls",
    "posted_at",
    "like_count",
    "repost_count",
    "reply_count",
    "quote_count",
    "repost_of",
    "quote_of",
    "reply_to",
    "raw",
    "gps_lon",
    "gps_lat",
    "place_name",
    "place_type",
    "bbox_min_lon",
    "bbox_min_lat",
    "bbox_max_lon",
    "bbox_max_lat",
    "declared_category",
)
_STAGED_POSTS = """
    CREATE TEMPORARY TABLE ingest_post (
        source varchar(32), external_id varchar(255), url varchar(1000), author_handle varchar(255),
        author_id varchar(255), text text, language varchar(16), media_urls varchar(1000)[],
        posted_at timestamptz, like_count integer, repost_count integer, reply_count integer,
        quote_count integer, repost_of varchar(255), quote_of varchar(255), reply_to varchar(255),
        raw jsonb, gps_lon float8, gps_lat float8, place_name varchar(255), place_type varchar(32),
        bbox_min_lon float8, bbox_min_lat float8, bbox_max_lon float8, bbox_max_lat float8,
        declared_category varchar(32)
    ) ON COMMIT DROP
"""
_COPY_POSTS = f"COPY ingest_post ({', '.join(_POST_COLUMNS)}) FROM STDIN"
_ENGAGEMENT = ("like_count", "repost_count", "reply_count", "quote_count")


# --- store --------------------------------------------------------------------------------------


@dataclass(slots=True)
class Stored:
    """What became of one record: ``created``, ``duplicate`` or ``repost`` (a new repost counted)."""

    status: str
    post_id: int | None = None


@dataclass(slots=True)
class StoreResult:
    """Outcome per primary record (same order), plus what processing must take up."""

    outcomes: list[Stored]
    created_post_ids: list[int] = field(default_factory=list)
    # The records of the posts created, by post id (primary and embedded alike).
    created: dict[int, PostRecord] = field(default_factory=dict)
    embedded_created: int = 0
    # Incidents whose posts gained engagement (a repost, a fresher count): their totals change.
    incident_ids: set[int] = field(default_factory=set)


def _key(record: PostRecord) -> tuple[str, str]:
    return record.source, record.external_id


def _merge_engagement(kept: PostRecord, again: PostRecord) -> None:
    # The same post twice in one batch: keep the freshest counts, as ON CONFLICT does across batches.
    for name in _ENGAGEMENT:
        if getattr(again, name) > getattr(kept, name):
            setattr(kept, name, getattr(again, name))


def _post_row(record: PostRecord) -> tuple:
    box = record.place_bbox or (None, None, None, None)
    return (
        record.source,
        record.external_id,
        record.url,
        record.author_handle,
        record.author_id,
        record.text,
        record.language,
        record.media_urls,
        record.posted_at,
        record.like_count,
        record.repost_count,
        record.reply_count,
        record.quote_count,
        record.repost_of,
        record.quote_of,
        record.reply_to,
        dump_raw(record.raw),
        record.lon,
        record.lat,
        record.place_name,
        record.place_type,
        *box,
        record.declared_category,
    )


def store(primary: Sequence[PostRecord], embedded: Sequence[PostRecord] = ()) -> StoreResult:
    """Store a batch exactly once; return what became of each of ``primary``.

    ``embedded`` records (originals carried by a retweet or a boost) are stored too but
    have no outcome of their own. A record seen before is a ``duplicate``; its
    engagement counts are raised if the new copy has higher ones. A repost is counted
    once for its original, stored or not yet: the original's ``repost_count`` is the
    larger of what the platform reported and the reposts seen.
    """
    posts: dict[tuple[str, str], PostRecord] = {}
    reposts: dict[tuple[str, str], PostRecord] = {}
    first_index: dict[tuple[str, str], int] = {}
    repeats: list[int] = []
    for index, record in enumerate(primary):
        key = _key(record)
        pool = reposts if record.repost_of else posts
        if key in pool:
            _merge_engagement(pool[key], record)
            repeats.append(index)
        else:
            pool[key] = record
            first_index[key] = index
    embedded_keys = []
    for record in embedded:
        key = _key(record)
        if record.repost_of or key in posts:
            if key in posts:
                _merge_engagement(posts[key], record)
            continue
        posts[key] = record
        embedded_keys.append(key)

    outcomes: list[Stored | None] = [None] * len(primary)
    result = StoreResult(outcomes=[])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        post_ids: dict[tuple[str, str], tuple[int, bool]] = {}
        if posts:
            cursor.execute(_STAGED_POSTS)
            # Django's error wrapping does not cover psycopg's COPY: add it so callers see DataError.
            with connection.wrap_database_errors, cursor.cursor.copy(_COPY_POSTS) as copy:
                for key in sorted(posts):
                    copy.write_row(_post_row(posts[key]))
        # Serialise the rest across processes: an original and its repost stored at the
        # same moment by two processes must each see the other, or a repost would not be
        # counted. The costly COPY above runs in parallel.
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, STORE_LOCK])
        if posts:
            post_ids = _insert_posts(cursor, result, staged=len(posts))
        new_reposts = _insert_reposts(cursor, sorted(reposts.values(), key=_key), result) if reposts else set()
        if posts:
            cursor.execute("DROP TABLE ingest_post")

    for key, index in first_index.items():
        if key in reposts:
            outcomes[index] = Stored("repost" if key in new_reposts else "duplicate")
        else:
            post_id, created = post_ids[key]
            outcomes[index] = Stored("created" if created else "duplicate", post_id)
    for index in repeats:
        record = primary[index]
        earlier = outcomes[first_index[_key(record)]]
        outcomes[index] = Stored("duplicate", earlier.post_id if earlier else None)
    result.outcomes = [outcome or Stored("duplicate") for outcome in outcomes]
    result.created = {post_id: posts[key] for key, (post_id, created) in post_ids.items() if created}
    result.embedded_created = sum(1 for key in embedded_keys if post_ids.get(key, (0, False))[1])
    return result


def _insert_posts(cursor, result: StoreResult, staged: int) -> dict[tuple[str, str], tuple[int, bool]]:
    raise_counts = " OR ".join(f"EXCLUDED.{name} > p.{name}" for name in _ENGAGEMENT)
    post_ids: dict[tuple[str, str], tuple[int, bool]] = {}
    # Posts already stored with counts at least as high are plain duplicates: set them aside
    # with a read, which waits for nobody. Left in, ON CONFLICT would lock each of them and
    # wait for whatever transaction holds it (a worker processing it, say).
    cursor.execute(
        f"""
        DELETE FROM ingest_post s USING {POST} p
        WHERE p.source = s.source AND p.external_id = s.external_id
          AND {" AND ".join(f"p.{name} >= s.{name}" for name in _ENGAGEMENT)}
        RETURNING p.id, p.source, p.external_id
        """
    )
    for post_id, source, external_id in cursor.fetchall():
        post_ids[(source, external_id)] = (post_id, False)
    cursor.execute(
        f"""
        INSERT INTO {POST} AS p (
            source, external_id, url, author_handle, author_id, text, language, media_urls, posted_at,
            like_count, repost_count, reply_count, quote_count, repost_of, quote_of, reply_to, raw,
            gps_location, place_name, place_type, place_bbox, declared_category,
            location_method, location_text, category, state, received_at
        )
        SELECT source, external_id, url, author_handle, author_id, text, language, media_urls, posted_at,
            like_count, repost_count, reply_count, quote_count, repost_of, quote_of, reply_to, raw,
            CASE WHEN gps_lon IS NOT NULL THEN ST_SetSRID(ST_MakePoint(gps_lon, gps_lat), 4326) END,
            place_name, place_type,
            CASE WHEN bbox_min_lon IS NOT NULL
                THEN ST_MakeEnvelope(bbox_min_lon, bbox_min_lat, bbox_max_lon, bbox_max_lat, 4326) END,
            declared_category, %s, '', '', %s, now()
        FROM ingest_post
        ORDER BY source, external_id
        ON CONFLICT ON CONSTRAINT post_unique_source_external_id DO UPDATE SET
            {", ".join(f"{name} = GREATEST(p.{name}, EXCLUDED.{name})" for name in _ENGAGEMENT)}
            WHERE {raise_counts}
        RETURNING p.id, p.source, p.external_id, (p.xmax = 0) AS created, p.incident_id
        """,
        [LocationMethod.NONE, PostState.PENDING],
    )
    for post_id, source, external_id, created, incident_id in cursor.fetchall():
        post_ids[(source, external_id)] = (post_id, created)
        if created:
            result.created_post_ids.append(post_id)
        elif incident_id is not None:
            result.incident_ids.add(incident_id)
    if len(post_ids) < staged:
        # Duplicates whose counts did not rise are not returned by the INSERT: look their ids up.
        cursor.execute(
            f"""
            SELECT p.id, p.source, p.external_id FROM {POST} p
            JOIN ingest_post s ON s.source = p.source AND s.external_id = p.external_id
            """
        )
        for post_id, source, external_id in cursor.fetchall():
            post_ids.setdefault((source, external_id), (post_id, False))
    # New posts whose reposts arrived first: count those reposts now.
    cursor.execute(
        f"""
        UPDATE {POST} p SET repost_count = seen.n
        FROM (
            SELECT r.source, r.original_external_id, count(*) AS n
            FROM {REPOST} r JOIN ingest_post s ON s.source = r.source AND s.external_id = r.original_external_id
            GROUP BY r.source, r.original_external_id
        ) seen
        WHERE p.source = seen.source AND p.external_id = seen.original_external_id AND p.repost_count < seen.n
        RETURNING p.incident_id
        """
    )
    result.incident_ids.update(incident_id for (incident_id,) in cursor.fetchall() if incident_id is not None)
    return post_ids


def _insert_reposts(cursor, records: list[PostRecord], result: StoreResult) -> set[tuple[str, str]]:
    cursor.execute(
        f"""
        INSERT INTO {REPOST} (source, external_id, original_external_id, author_handle, author_id, posted_at,
                              received_at)
        SELECT *, now() FROM unnest(%s::varchar[], %s::varchar[], %s::varchar[], %s::varchar[], %s::varchar[],
                                    %s::timestamptz[])
        ON CONFLICT ON CONSTRAINT repost_unique_source_external_id DO NOTHING
        RETURNING source, external_id, original_external_id
        """,
        [
            [r.source for r in records],
            [r.external_id for r in records],
            [r.repost_of for r in records],
            [r.author_handle for r in records],
            [r.author_id for r in records],
            [r.posted_at for r in records],
        ],
    )
    created = cursor.fetchall()
    originals = sorted({(source, original) for source, _, original in created})
    if originals:
        cursor.execute(
            f"""
            UPDATE {POST} p SET repost_count = seen.n
            FROM (
                SELECT r.source, r.original_external_id, count(*) AS n
                FROM {REPOST} r
                JOIN unnest(%s::varchar[], %s::varchar[]) AS o(source, external_id)
                  ON o.source = r.source AND o.external_id = r.original_external_id
                GROUP BY r.source, r.original_external_id
            ) seen
            WHERE p.source = seen.source AND p.external_id = seen.original_external_id AND p.repost_count < seen.n
            RETURNING p.incident_id
            """,
            [[source for source, _ in originals], [original for _, original in originals]],
        )
        result.incident_ids.update(incident_id for (incident_id,) in cursor.fetchall() if incident_id is not None)
    return {(source, external_id) for source, external_id, _ in created}


# --- process ------------------------------------------------------------------------------------


@dataclass(slots=True)
class ProcessReport:
    """Counts of one or more processed batches."""

    posts: int = 0
    located: int = 0
    unlocated: int = 0
    out_of_area: int = 0
    irrelevant: int = 0
    incidents_created: int = 0
    incidents_updated: int = 0

    def add(self, other: ProcessReport) -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}


# One locator per process, shared by its threads, rebuilt when the loaded streets change:
# building one can mean reading every street name, so it is not rebuilt per batch nor per
# thread; ``Locator.locate_many`` only reads it.
_locator_cache: StampedCache[Locator] = StampedCache()


def _streets_stamp(cursor) -> tuple:
    """What changes when streets are imported: their count and latest change."""
    cursor.execute(f"SELECT count(*), max(updated_at) FROM {SEGMENT}")
    return tuple(cursor.fetchone())


def current_locator() -> Locator:
    """Return the locator for the streets loaded now (built once, rebuilt after a street import)."""
    with connection.cursor() as cursor:
        stamp = _streets_stamp(cursor)
    return _locator_cache.get(stamp, Locator.from_database)


def stage_record(record: PostRecord) -> PostRecord:
    """What the classify and locate stages see of a post: what is stored about it, nothing more.

    Records parsed a moment ago and records read back from the database (a worker, a
    re-run) must give the same decisions, so both go through this.
    """
    return PostRecord(
        source=record.source,
        external_id=record.external_id,
        text=record.text,
        posted_at=record.posted_at.astimezone(dt.UTC),
        language=record.language,
        lon=record.lon,
        lat=record.lat,
        place_name=record.place_name,
        place_type=record.place_type,
        place_bbox=tuple(record.place_bbox) if record.place_bbox else None,
        declared_category=record.declared_category,
    )


Decision = tuple[Classification, Location | None]
# Where a decided post lies: inside the service area or not, and its nearest segment (see place()).
Placement = tuple[bool, tuple[int | None, float | None]]
NOWHERE: Placement = (False, (None, None))
# What is known of a stored post before it is processed: placement None when not computed ahead.
Decided = tuple[PostRecord, Decision, Placement | None]


def _declared(record: PostRecord) -> Classification | None:
    """The reporter's own category (Open311 service code): relevant by definition, sure."""
    if not record.declared_category:
        return None
    return Classification(
        relevance=1.0, category=Category(record.declared_category), score=1.0, evidence=("declared by the reporter",)
    )


def decide(records: Sequence[PostRecord], *, staged: bool = False) -> list[Decision]:
    """Classify ``records`` and locate the relevant ones (pure Python: no database).

    ``staged``: the records already went through :func:`stage_record`.
    """
    if not staged:
        records = [stage_record(record) for record in records]
    classifications = [
        _declared(record) or classification
        for record, classification in zip(
            records, classify_many((record.text, record.language) for record in records), strict=True
        )
    ]
    relevant = [index for index, classification in enumerate(classifications) if classification.is_relevant]
    locations: list[Location | None] = [None] * len(records)
    if relevant:
        found = current_locator().locate_many([records[index] for index in relevant])
        for index, location in zip(relevant, found, strict=True):
            locations[index] = location
    return list(zip(classifications, locations, strict=True))


def _claim(cursor, post_ids: Sequence[int], decided: dict[int, Decided]) -> list[tuple]:
    """Lock the posts of ``post_ids`` still pending; return ``(id, record, decision, placement)`` for each.

    Decisions already taken (``decided``, by the process that stored the posts) are
    used as they are; the other posts are read back and decided here, their placement
    left to the caller (``None``).
    """
    cursor.execute(
        f"SELECT id FROM {POST} WHERE id = ANY(%s) AND state = %s ORDER BY id FOR UPDATE",
        [list(post_ids), PostState.PENDING],
    )
    pending = [post_id for (post_id,) in cursor.fetchall()]
    claimed = {post_id: (*decided[post_id],) for post_id in pending if post_id in decided}
    missing = [post_id for post_id in pending if post_id not in decided]
    if missing:
        cursor.execute(
            f"""
            SELECT id, source, external_id, text, language, posted_at,
                   ST_X(gps_location), ST_Y(gps_location), place_name, place_type,
                   ST_XMin(place_bbox), ST_YMin(place_bbox), ST_XMax(place_bbox), ST_YMax(place_bbox),
                   declared_category
            FROM {POST} WHERE id = ANY(%s)
            """,
            [missing],
        )
        read: list[tuple[int, PostRecord]] = []
        for row in cursor.fetchall():
            post_id, source, external_id, text, language, posted_at, lon, lat, place_name, place_type, *box = row
            *box, declared_category = box
            record = PostRecord(
                source=source,
                external_id=external_id,
                text=text,
                posted_at=posted_at,
                language=language,
                lon=lon,
                lat=lat,
                place_name=place_name,
                place_type=place_type,
                place_bbox=tuple(box) if box[0] is not None else None,
                declared_category=declared_category,
            )
            read.append((post_id, record))
        for (post_id, record), decision in zip(read, decide([record for _, record in read]), strict=True):
            claimed[post_id] = (record, decision, None)
    return [(post_id, *claimed[post_id]) for post_id in pending]


# The batch being processed: one narrow row per post, where every stage writes its decision
# (location, out of area, segment, incident), so that each post row — wide, with its raw
# payload and nine indexes — is rewritten once, at the end, instead of once per stage.
BATCH = "pipeline_batch"
_BATCH_TABLE = f"""
    CREATE TEMPORARY TABLE {BATCH} (
        id bigint PRIMARY KEY, posted_at timestamptz, location geometry(Point, 4326), method varchar(8),
        accuracy_m float8, matched varchar(500), note varchar(255), category varchar(32), score float8,
        relevance float8, evidence varchar(200)[], state varchar(16),
        segment_id bigint, segment_distance_m float8, incident_id bigint
    ) ON COMMIT DROP
"""
_BATCH_COLUMNS = (
    "id, posted_at, location, method, accuracy_m, matched, note, category, score, relevance, evidence, state, "
    "segment_id, segment_distance_m"
)
# Positions in a batch row (_result_row) read back before the row is written.
_POSTED_AT = _BATCH_COLUMNS.split(", ").index("posted_at")
_STATE = _BATCH_COLUMNS.split(", ").index("state")


def _stage_batch(cursor, rows: list[tuple]) -> None:
    cursor.execute(_BATCH_TABLE)
    with connection.wrap_database_errors, cursor.cursor.copy(f"COPY {BATCH} ({_BATCH_COLUMNS}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    # Indexed and analysed before any UPDATE: an index built over updated rows is not usable
    # by the transaction that built it (pg_index.indcheckxmin), and the grouping needs it.
    cursor.execute(f"CREATE INDEX ON {BATCH} USING gist (({geog('location')}))")
    cursor.execute(f"CREATE INDEX ON {BATCH} (segment_id)")
    # (no ANALYZE: every query on the batch is a per-post index probe, whatever the statistics)


def _clamp01(value: float) -> float:
    return min(1.0, max(0.0, float(value)))


@functools.lru_cache(maxsize=4096)
def _text_array(items: tuple[str, ...]) -> str:
    """A ``varchar[]`` literal of ``items`` (each cut to 200 characters), for COPY.

    Posts share a few hundred evidence lists: each is written out once, not dumped
    element by element for every post.
    """
    quoted = ('"' + str(item)[:200].replace("\\", "\\\\").replace('"', '\\"') + '"' for item in items)
    return "{" + ",".join(quoted) + "}"


def _is_found(location: Location | None) -> bool:
    return location is not None and location.found and location.lon is not None and location.lat is not None


def _result_row(
    post_id: int,
    record: PostRecord,
    classification,
    location: Location | None,
    in_area: bool = True,
    segment: tuple[int | None, float | None] = (None, None),
) -> tuple:
    relevant = classification.is_relevant
    found = _is_found(location)
    if not relevant:
        state = PostState.IRRELEVANT
    elif not found:
        state = PostState.UNLOCATED
    elif not in_area:
        state = PostState.OUT_OF_AREA
    else:
        state = PostState.LOCATED
    accuracy = location.accuracy_m if found and location.accuracy_m is not None else None
    return (
        post_id,
        record.posted_at,
        f"SRID=4326;POINT({location.lon!r} {location.lat!r})" if found else None,
        location.method if found else LocationMethod.NONE,
        max(0.0, accuracy) if accuracy is not None else None,
        (location.matched_text if location else "")[:500],
        (location.note if location else "")[:255],
        classification.category,
        _clamp01(classification.score),
        _clamp01(classification.relevance),
        _text_array(tuple(classification.evidence)),
        state,
        *(segment if state == PostState.LOCATED else (None, None)),
    )


# Nearest street segment of each point already linked, for the streets loaded now. Many
# posts share a point (those located to a street, a crossing or a landmark), so most of a
# batch's points were linked before. Emptied when the streets or the maximum distance
# change, and when it grows past this many points.
_segment_cache: StampedCache[dict[tuple[float, float], tuple[int | None, float | None]]] = StampedCache()
SEGMENT_CACHE_MAX_POINTS = 200_000


def nearest_segments(cursor, points: list[tuple[float, float]]) -> list[tuple[int | None, float | None]]:
    """``(segment id, distance in metres)`` of the nearest segment to each ``(lon, lat)``, or ``(None, None)``.

    The same answer as :func:`incidents.link.link_segments`: the query is the same, asked
    once per distinct point not seen before.
    """
    if not points:
        return []
    segment_m = settings.INCIDENTS_SEGMENT_MAX_DISTANCE_M
    nearest = _segment_cache.get((*_streets_stamp(cursor), segment_m), dict)
    if len(nearest) > SEGMENT_CACHE_MAX_POINTS:
        nearest.clear()
    # Answers are collected here, not read back from the cache: another thread of the process
    # (ingest's store-ahead thread and the processing one) may empty it meanwhile.
    answers: dict[tuple[float, float], tuple[int | None, float | None]] = {}
    missing = []
    for point in sorted(set(points)):
        if (known := nearest.get(point)) is not None:
            answers[point] = known
        else:
            missing.append(point)
    if missing:
        cursor.execute(
            f"""
            SELECT q.n, nearest.id, nearest.distance_m
            FROM unnest(%(lon)s::float8[], %(lat)s::float8[]) WITH ORDINALITY AS q(lon, lat, n)
            {nearest_segment_join("ST_SetSRID(ST_MakePoint(q.lon, q.lat), 4326)")}
            """,
            {"lon": [lon for lon, _ in missing], "lat": [lat for _, lat in missing], "segment_m": segment_m},
        )
        found = {n: (segment_id, distance) for n, segment_id, distance in cursor.fetchall()}
        for n, point in enumerate(missing, start=1):
            answers[point] = nearest[point] = found.get(n, (None, None))
    return [answers[point] for point in points]


def place(cursor, decisions: Sequence[Decision]) -> list[Placement]:
    """Whether each relevant, located post of ``decisions`` is in the service area, and its nearest segment.

    Posts not relevant or not located, and posts outside the area, get :data:`NOWHERE`.
    Only reads: ingest runs it ahead, in the thread that stores the next batch.
    """
    placed = [
        (location.lon, location.lat) if classification.is_relevant and _is_found(location) else None
        for classification, location in decisions
    ]
    points = [point for point in placed if point is not None]
    in_area = iter(in_service_area(points))
    inside = [next(in_area) if point is not None else False for point in placed]
    segments = iter(nearest_segments(cursor, [point for point, ok in zip(placed, inside, strict=True) if ok]))
    return [(True, next(segments)) if ok else NOWHERE for ok in inside]


# Tables the pipeline grows whose statistics its queries are planned from. Not the post table:
# its queries go by id, and analysing its wide rows (text, raw payload) takes seconds.
_GROWING = (Incident._meta.db_table,)
# How much a table may grow past the row count of its statistics before it is analysed again.
STATISTICS_GROWTH = 1.2
STATISTICS_SLACK_ROWS = 1000


def keep_statistics(cursor) -> list[str]:
    """ANALYZE the incident table when it grew by a fifth since its statistics; return the tables analysed.

    An import can grow it tenfold in a minute, faster than autovacuum analyses it.
    Planned from statistics of a table a tenth of its size, the grouping's probes turned
    from index lookups into scans of a whole category of incidents per post: the same
    batch took ten times as long, depending on when autovacuum had come by.
    """
    cursor.execute(
        """
        SELECT c.relname FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid
        WHERE c.relname = ANY(%s) AND s.n_live_tup > %s * greatest(c.reltuples, 0) + %s
        ORDER BY c.relname
        """,
        [list(_GROWING), STATISTICS_GROWTH, STATISTICS_SLACK_ROWS],
    )
    tables = [table for (table,) in cursor.fetchall()]
    for table in tables:
        cursor.execute(f"ANALYZE {table}")
    return tables


def _write_posts(cursor) -> None:
    cursor.execute(
        f"""
        UPDATE {POST} p SET
            location = b.location, location_method = b.method, location_accuracy_m = b.accuracy_m,
            location_text = b.matched, location_note = b.note, category = b.category, category_score = b.score,
            relevance = b.relevance, category_evidence = b.evidence, state = b.state,
            segment_id = b.segment_id, segment_distance_m = b.segment_distance_m, incident_id = b.incident_id,
            processed_at = now()
        FROM {BATCH} b WHERE p.id = b.id
        """
    )


def process(
    post_ids: Iterable[int],
    incident_ids: Iterable[int] = (),
    decided: dict[int, Decided] | None = None,
) -> ProcessReport:
    """Take the still-pending posts of ``post_ids`` through every stage; refresh ``incident_ids`` too.

    ``decided`` holds, for some posts, their record, classification and location (see
    :func:`decide`) and possibly their placement (see :func:`place`), computed ahead.
    Idempotent: posts already processed (by an earlier run or another worker) are
    skipped, so a redelivered Celery task changes nothing.
    """
    post_ids = sorted(set(post_ids))
    refresh = set(incident_ids)
    report = ProcessReport()
    with transaction.atomic(), connection.cursor() as cursor:
        # Short set-based statements: compiling them (JIT) costs more than running them.
        cursor.execute("SET LOCAL jit = off")
        keep_statistics(cursor)
        claimed = _claim(cursor, post_ids, decided or {}) if post_ids else []
        if not claimed:
            if refresh:
                report.incidents_updated = refresh_incidents(sorted(refresh))
            return report
        # Decide every post's state, and its segment, before writing anything (where ingest
        # has not done it ahead): out of area (Python, prepared areas), then the nearest
        # segment of the points still located.
        unplaced = [index for index, (*_, placement) in enumerate(claimed) if placement is None]
        placements = [placement for *_, placement in claimed]
        for index, placement in zip(unplaced, place(cursor, [claimed[i][2] for i in unplaced]), strict=True):
            placements[index] = placement
        rows = [
            _result_row(post_id, record, *decision, in_area=ok, segment=segment)
            for (post_id, record, decision, _), (ok, segment) in zip(claimed, placements, strict=True)
        ]
        states = [row[_STATE] for row in rows]
        report.posts = len(rows)
        report.irrelevant = states.count(PostState.IRRELEVANT)
        report.unlocated = states.count(PostState.UNLOCATED)
        report.out_of_area = states.count(PostState.OUT_OF_AREA)
        report.located = states.count(PostState.LOCATED)

        _stage_batch(cursor, rows)
        grouped = group_batch(cursor, BATCH)
        link_batch_works(cursor, BATCH, [row[_POSTED_AT] for row in rows if row[_STATE] == PostState.LOCATED])
        _write_posts(cursor)
        # Incidents whose earlier posts changed (engagement) are recounted in full; the others
        # only gain this batch's posts.
        add_batch_posts(cursor, BATCH, sorted(grouped.incident_ids - refresh))
        cursor.execute(f"DROP TABLE {BATCH}")
        refresh_incidents(sorted(refresh), keep_distances=True)
        enqueue_incident_events(created=grouped.created_ids, updated=grouped.incident_ids - grouped.created_ids)
        report.incidents_created = grouped.created
        report.incidents_updated = len((grouped.incident_ids | refresh) - grouped.created_ids)
    return report
