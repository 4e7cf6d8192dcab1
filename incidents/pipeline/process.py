"""
Process a batch of stored posts: claim → decide → write the batch → group → link works → totals.

:func:`process` takes stored ``pending`` posts in one transaction. Posts ingest has
decided ahead (:mod:`incidents.pipeline.decide`) come with their decisions; the others
are read back and decided here. Each post's state (irrelevant, unlocated, out of area,
located) and nearest segment are known before anything is written: they go into a narrow
batch table in one ``COPY``, where the grouping (:mod:`incidents.pipeline.group`) and the
works links (:mod:`incidents.pipeline.link`) write theirs; each post row is then written
once, and the incidents that gained posts are counted (:mod:`incidents.pipeline.totals`).

It runs where the posts were stored, or in a Celery worker (:mod:`incidents.pipeline.tasks`)
when ``CELERY_BROKER_URL`` is set. It only touches posts still ``pending``, so running it
twice on the same ids is harmless.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection, transaction

from incidents.geo import geog
from incidents.models import LocationMethod, Post, PostState
from incidents.notify.outbox import enqueue_incident_events
from incidents.pipeline import thread
from incidents.pipeline.columns import column_type, read_posts
from incidents.pipeline.decide import Decided, decide, is_found
from incidents.pipeline.group import group_batch
from incidents.pipeline.link import link_batch_works
from incidents.pipeline.statistics import keep_statistics
from incidents.pipeline.totals import add_batch_posts, refresh_incidents
from incidents.sources.record import PostRecord

POST = Post._meta.db_table


@dataclass(slots=True)
class ProcessReport:
    """Counts of one or more processed batches."""

    posts: int = 0
    located: int = 0
    unlocated: int = 0
    out_of_area: int = 0
    irrelevant: int = 0
    # Replies placed from their conversation (this batch's, or earlier ones that waited for it).
    threaded: int = 0
    incidents_created: int = 0
    incidents_updated: int = 0

    def add(self, other: ProcessReport) -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}


def _claim(cursor, post_ids: Sequence[int], decided: dict[int, Decided]) -> list[tuple[int, Decided]]:
    """Lock the posts of ``post_ids`` still pending; return each one's id and what was decided of it.

    Decisions already taken (``decided``, by the process that stored the posts) are
    used as they are; the other posts are read back and decided here.
    """
    cursor.execute(
        f"SELECT id FROM {POST} WHERE id = ANY(%s) AND state = %s ORDER BY id FOR UPDATE",
        [list(post_ids), PostState.PENDING],
    )
    pending = [post_id for (post_id,) in cursor.fetchall()]
    missing = [post_id for post_id in pending if post_id not in decided]
    if missing:
        decided = {**decided, **decide(read_posts(cursor, missing))}
    return [(post_id, decided[post_id]) for post_id in pending]


# The batch being processed: one narrow row per post, where every stage writes its decision
# (location, out of area, segment, incident), so that each post row — wide, with its raw
# payload and seven indexes — is rewritten once, at the end, instead of once per stage. Its
# columns are the post's, of the same types; all but ``posted_at`` (read by the works links)
# are written back. A row (_result_row) holds them all but the incident, decided by the grouping.
BATCH = "pipeline_batch"
_BATCH_COLUMNS = (
    "id",
    "posted_at",
    "location",
    "location_method",
    "location_accuracy_m",
    "location_text",
    "location_note",
    "category",
    "category_score",
    "relevance",
    "category_evidence",
    "affects",
    "state",
    "segment_id",
    "segment_distance_m",
    "incident_id",
)
_CREATE_BATCH = (
    f"CREATE TEMPORARY TABLE {BATCH} ("
    + ", ".join(f"{name} {column_type(name)}" for name in _BATCH_COLUMNS)
    + ", PRIMARY KEY (id)) ON COMMIT DROP"
)
_ROW_COLUMNS = _BATCH_COLUMNS[:-1]
_COPY_BATCH = f"COPY {BATCH} ({', '.join(_ROW_COLUMNS)}) FROM STDIN"
_WRITE_POSTS = f"""
    UPDATE {POST} p SET {", ".join(f"{name} = b.{name}" for name in _BATCH_COLUMNS[2:])}, processed_at = now()
    FROM {BATCH} b WHERE p.id = b.id
"""
# Positions in a batch row read back before the row is written.
_POSTED_AT = _ROW_COLUMNS.index("posted_at")
_STATE = _ROW_COLUMNS.index("state")


def _stage_batch(cursor, rows: list[tuple]) -> None:
    cursor.execute(_CREATE_BATCH)
    with connection.wrap_database_errors, cursor.cursor.copy(_COPY_BATCH) as copy:
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


def _result_row(post_id: int, record: PostRecord, decision, placement) -> tuple:
    """The batch row (:data:`_ROW_COLUMNS`) of a decided post."""
    classification, location = decision
    in_area, segment = placement
    found = is_found(location)
    if thread.waits(record, classification, found):
        state = PostState.UNLOCATED  # a reply waiting for the place of the post it answers
    elif not classification.is_relevant:
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
        _text_array(tuple(classification.affects)),
        state,
        *(segment if state == PostState.LOCATED else (None, None)),
    )


def process(
    post_ids: Iterable[int],
    incident_ids: Iterable[int] = (),
    decided: dict[int, Decided] | None = None,
) -> ProcessReport:
    """Take the still-pending posts of ``post_ids`` through every stage; refresh ``incident_ids`` too.

    ``decided`` holds, for some posts, what :func:`~incidents.pipeline.decide.decide`
    found ahead. Idempotent: posts already processed (by an earlier run or another
    worker) are skipped, so a redelivered Celery task changes nothing.
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
        rows = [_result_row(post_id, *known) for post_id, known in claimed]
        states = [row[_STATE] for row in rows]
        report.posts = len(rows)
        report.irrelevant = states.count(PostState.IRRELEVANT)
        report.unlocated = states.count(PostState.UNLOCATED)
        report.out_of_area = states.count(PostState.OUT_OF_AREA)
        report.located = states.count(PostState.LOCATED)

        _stage_batch(cursor, rows)
        grouped = group_batch(cursor, BATCH)
        link_batch_works(cursor, BATCH, [row[_POSTED_AT] for row in rows if row[_STATE] == PostState.LOCATED])
        cursor.execute(_WRITE_POSTS)
        # Incidents whose earlier posts changed (engagement) are recounted in full; the others
        # only gain this batch's posts.
        add_batch_posts(cursor, BATCH, sorted(grouped.incident_ids - refresh))
        cursor.execute(f"DROP TABLE {BATCH}")
        # Replies of this batch, and replies waiting for its posts, take their conversation's place.
        settled = thread.settle(
            cursor,
            [
                thread.Written.of(post_id, known[0], row[_STATE])
                for (post_id, known), row in zip(claimed, rows, strict=True)
            ],
        )
        report.threaded = settled.placed
        refresh |= settled.incident_ids
        refresh_incidents(sorted(refresh), keep_distances=True)
        # Subscribers hear of it in the same transaction (incidents.notify): nothing sent for a rollback.
        touched = grouped.incident_ids | settled.incident_ids
        enqueue_incident_events(created=grouped.created_ids, updated=touched - grouped.created_ids)
        report.incidents_created = grouped.created
        report.incidents_updated = len((grouped.incident_ids | refresh) - grouped.created_ids)
    return report
