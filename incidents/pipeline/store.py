"""
Store a batch of parsed posts exactly once, and count reposts as engagement of their original.

``COPY`` into a temporary table (:mod:`incidents.pipeline.columns`), then ``INSERT ... ON
CONFLICT`` on the ``(source, external_id)`` constraint, in one transaction. It always runs
in the process that received the posts, so callers learn at once what was created,
duplicate or a repost, and nothing is lost if a worker or the broker fails afterwards:
stored posts wait in state ``pending`` for :mod:`incidents.pipeline.process`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import connection, transaction

from incidents.models import LocationMethod, Post, PostState, Repost
from incidents.pipeline.columns import (
    COPY_STAGING,
    CREATE_STAGING,
    ENGAGEMENT,
    STAGING,
    STORED_VALUES,
    staging_row,
)
from incidents.pipeline.locks import STORE_LOCK, hold
from incidents.sources.record import PostRecord

POST = Post._meta.db_table
REPOST = Repost._meta.db_table


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
    for name in ENGAGEMENT:
        if getattr(again, name) > getattr(kept, name):
            setattr(kept, name, getattr(again, name))


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
            cursor.execute(CREATE_STAGING)
            # Django's error wrapping does not cover psycopg's COPY: add it so callers see DataError.
            with connection.wrap_database_errors, cursor.cursor.copy(COPY_STAGING) as copy:
                for key in sorted(posts):
                    copy.write_row(staging_row(posts[key]))
        # Serialise the rest across processes: an original and its repost stored at the
        # same moment by two processes must each see the other, or a repost would not be
        # counted. The costly COPY above runs in parallel.
        hold(cursor, STORE_LOCK)
        if posts:
            post_ids = _insert_posts(cursor, result, staged=len(posts))
        new_reposts = _insert_reposts(cursor, sorted(reposts.values(), key=_key), result) if reposts else set()
        if posts:
            cursor.execute(f"DROP TABLE {STAGING}")

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
    raise_counts = " OR ".join(f"EXCLUDED.{name} > p.{name}" for name in ENGAGEMENT)
    post_ids: dict[tuple[str, str], tuple[int, bool]] = {}
    # Posts already stored with counts at least as high are plain duplicates: set them aside
    # with a read, which waits for nobody. Left in, ON CONFLICT would lock each of them and
    # wait for whatever transaction holds it (a worker processing it, say).
    cursor.execute(
        f"""
        DELETE FROM {STAGING} s USING {POST} p
        WHERE p.source = s.source AND p.external_id = s.external_id
          AND {" AND ".join(f"p.{name} >= s.{name}" for name in ENGAGEMENT)}
        RETURNING p.id, p.source, p.external_id
        """
    )
    for post_id, source, external_id in cursor.fetchall():
        post_ids[(source, external_id)] = (post_id, False)
    cursor.execute(
        f"""
        INSERT INTO {POST} AS p (
            {", ".join(STORED_VALUES)}, location_method, location_text, category, state, received_at
        )
        SELECT {", ".join(STORED_VALUES.values())}, %s, '', '', %s, now()
        FROM {STAGING}
        ORDER BY source, external_id
        ON CONFLICT ON CONSTRAINT post_unique_source_external_id DO UPDATE SET
            {", ".join(f"{name} = GREATEST(p.{name}, EXCLUDED.{name})" for name in ENGAGEMENT)}
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
            JOIN {STAGING} s ON s.source = p.source AND s.external_id = p.external_id
            """
        )
        for post_id, source, external_id in cursor.fetchall():
            post_ids.setdefault((source, external_id), (post_id, False))
    # New posts whose reposts arrived first: count those reposts now.
    _count_reposts(cursor, result, f"{STAGING} o")
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
        _count_reposts(
            cursor,
            result,
            "unnest(%s::varchar[], %s::varchar[]) AS o(source, external_id)",
            [[source for source, _ in originals], [original for _, original in originals]],
        )
    return {(source, external_id) for source, external_id, _ in created}


def _count_reposts(cursor, result: StoreResult, originals: str, params: Sequence | None = None) -> None:
    """Raise the ``repost_count`` of the posts of ``originals`` to the reposts seen of each.

    ``originals`` is an SQL relation aliased ``o`` with ``source`` and ``external_id``.
    Their incidents, whose totals change, are added to ``result``.
    """
    cursor.execute(
        f"""
        UPDATE {POST} p SET repost_count = seen.n
        FROM (
            SELECT r.source, r.original_external_id, count(*) AS n
            FROM {REPOST} r JOIN {originals} ON o.source = r.source AND o.external_id = r.original_external_id
            GROUP BY r.source, r.original_external_id
        ) seen
        WHERE p.source = seen.source AND p.external_id = seen.original_external_id AND p.repost_count < seen.n
        RETURNING p.incident_id
        """,
        params,
    )
    result.incident_ids.update(incident_id for (incident_id,) in cursor.fetchall() if incident_id is not None)
