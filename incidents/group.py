"""
Group located posts into incidents, and keep each incident's totals and priority.

A located, relevant post joins an open incident (new, acknowledged, dispatched) when

- the category is the same, and
- it lies within ``INCIDENTS_GROUP_DISTANCE_M`` of the incident's point, or on the same
  street segment within ``INCIDENTS_GROUP_SEGMENT_DISTANCE_M`` (people describe the
  same barrier from either end of the block), or on the same street when the post or the
  incident is located only to the whole street (a post naming "rue de Metz" and no more
  says nothing of where along it: it is consistent with any problem of that street,
  and joins the nearest one), and
- it was posted no more than ``INCIDENTS_GROUP_WINDOW_HOURS`` before the incident's
  first post or after its last one. An incident whose posts stopped arriving is
  therefore never re-opened by a post weeks later: that post starts a new incident.
  Resolved and rejected incidents are never joined either.

Among several candidates the nearest wins. Otherwise the post starts a new incident.
Distances come from PostGIS (geography, metres) for the whole batch at once: one query
for the candidate incidents, one for the pairs of posts of the batch; the decisions are
then taken in time order in Python, so that posts of one batch can join the incident
an earlier post of the same batch started. The step holds an advisory lock, so that two
workers never open two incidents for the same problem.

An incident's point, segment and segment distance are those of its most accurately
located post (the earliest on ties); its works links are its posts' works links,
measured from that point. Its priority rises with the number of posts, their
engagement, the nearness of active works and the harm to pedestrians (see
:data:`PRIORITY_WEIGHTS`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection

from incidents.categories import PEDESTRIAN_CATEGORIES
from incidents.geo import geog, planar_box, planar_box_holds
from incidents.models import (
    District,
    Incident,
    IncidentStatus,
    IncidentWorksZone,
    Post,
    PostState,
    PostWorksZone,
    WorksZone,
)
from incidents.models.incidents import OPEN_STATUSES
from incidents.models.streets import StreetSegment
from incidents.services.clusters import mark_incidents_changed

POST = Post._meta.db_table
INCIDENT = Incident._meta.db_table
INCIDENT_WORKS = IncidentWorksZone._meta.db_table
POST_WORKS = PostWorksZone._meta.db_table
WORKS = WorksZone._meta.db_table
SEGMENT = StreetSegment._meta.db_table
DISTRICT = District._meta.db_table

LOCK_NAMESPACE = 0x43495459  # "CITY", shared with incidents.pipeline
GROUP_LOCK = 2

# priority = posts * ln(1 + post count) + engagement * ln(1 + engagement)
#          + works * nearness of the closest active works zone (1 inside its impact area, 0 at the radius)
#          + pedestrians * (1 for a pedestrian category, + 0.5 when a nearby zone takes the pavement)
# Logarithms: the tenth post or the thousandth like matters less than the second.
PRIORITY_WEIGHTS = {"posts": 1.0, "engagement": 0.5, "works": 2.0, "pedestrians": 1.5}
PEDESTRIAN_WORKS_BONUS = 0.5
# Totals are stored in PostgreSQL integers.
MAX_INTEGER = 2**31 - 1


@dataclass(slots=True)
class GroupResult:
    created: int = 0
    created_ids: set[int] = field(default_factory=set)
    # Every incident that got a post: their totals must be refreshed once the posts are written.
    incident_ids: set[int] = field(default_factory=set)


@dataclass(slots=True)
class _Post:
    id: int
    category: str
    posted_at: dt.datetime
    segment_id: int | None
    accuracy_m: float | None


@dataclass(slots=True)
class _Incident:
    """An incident as the batch sees it: stored (``id``) or started by this batch (``id`` None)."""

    key: tuple[int, int]  # (0, id) for a stored incident, (1, n) for a new one: the tie-break order
    id: int | None
    category: str
    first: dt.datetime
    last: dt.datetime
    segment_id: int | None
    accuracy_m: float | None
    rep_post: int | None  # the batch post standing for its point; None: the stored point
    posts: list[int]


def _lock(cursor) -> None:
    cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, GROUP_LOCK])
    # Short set-based statements: compiling them (JIT) costs more than running them.
    cursor.execute("SET LOCAL jit = off")


def _more_accurate(candidate: float | None, current: float | None) -> bool:
    return candidate is not None and (current is None or candidate < current)


def group_batch(cursor, relation: str) -> GroupResult:
    """Decide the incident of each located post of ``relation`` and write it in its ``incident_id``.

    ``relation`` is the pipeline's batch table (``id``, ``category``, ``posted_at``,
    ``location`` with a GiST index on its geography, ``accuracy_m``, ``segment_id``,
    ``state``, ``incident_id``). New
    incidents are inserted; the caller writes the posts, then calls
    :func:`refresh_incidents` on ``incident_ids``. Takes the grouping lock, held until
    the transaction ends. Posts located more coarsely than
    ``INCIDENTS_GROUP_MAX_ACCURACY_M`` (a whole neighbourhood) stay out of incidents.
    """
    distance_m = settings.INCIDENTS_GROUP_DISTANCE_M
    segment_distance_m = settings.INCIDENTS_GROUP_SEGMENT_DISTANCE_M
    window = dt.timedelta(hours=settings.INCIDENTS_GROUP_WINDOW_HOURS)
    result = GroupResult()
    _lock(cursor)
    # The posts to group, as a condition on the batch row "p" (reused for the pairs' "b").
    batch_filter = "p.state = %(located)s AND p.incident_id IS NULL AND coalesce(p.accuracy_m, 0) <= %(coarsest)s"
    params = {
        "located": PostState.LOCATED,
        "coarsest": settings.INCIDENTS_GROUP_MAX_ACCURACY_M,
        "near": distance_m,
        "along": segment_distance_m,
    }
    cursor.execute(
        f"SELECT p.id, p.category, p.posted_at, p.segment_id, p.accuracy_m FROM {relation} p "
        f"WHERE {batch_filter} ORDER BY p.posted_at, p.id",
        params,
    )
    posts = [_Post(*row) for row in cursor.fetchall()]
    if not posts:
        return result
    pairs = _batch_pairs(cursor, relation, batch_filter, params)
    stored = _stored_candidates(cursor, relation, batch_filter, params, posts, window)
    streets = _streets_of(cursor, posts, stored)
    incidents = _assign(posts, stored, pairs, streets, distance_m, segment_distance_m, window)
    new = [incident for incident in incidents if incident.id is None]
    _create(cursor, relation, new)
    cursor.execute(
        f"UPDATE {relation} b SET incident_id = a.incident_id "
        "FROM unnest(%s::bigint[], %s::bigint[]) AS a(post_id, incident_id) WHERE b.id = a.post_id",
        [
            [post_id for incident in incidents for post_id in incident.posts],
            [incident.id for incident in incidents for _ in incident.posts],
        ],
    )
    result.created = len(new)
    result.created_ids = {incident.id for incident in new}
    result.incident_ids = {incident.id for incident in incidents}
    return result


# The order in which a batch's posts come to stand for an incident's point (see _represent):
# the most accurately located first, the earliest on ties.
REPRESENTATIVES = "b.accuracy_m ASC NULLS LAST, b.posted_at, b.id"

# Neighbours looked at per post of a batch, nearest first: more than any real street corner has.
CANDIDATES_PER_POST = 50


def _planar_box_safe(cursor, relation: str, batch_filter: str, params: dict) -> bool:
    """Whether every post of the batch is far enough from the poles and the antimeridian for ``planar_box``."""
    cursor.execute(
        f"SELECT coalesce(max(abs(ST_X(p.location))), 0), coalesce(max(abs(ST_Y(p.location))), 0) "
        f"FROM {relation} p WHERE {batch_filter}",
        params,
    )
    return planar_box_holds(*cursor.fetchone())


def _near_or_along(
    alias: str, table: str, columns: str, conditions: str, planar: bool = False, representatives: str | None = None
) -> str:
    """SQL: rows of ``table`` (as ``alias``) within ``%(near)s`` metres of post ``p``, or on its segment
    within ``%(along)s`` — the two ways a post may join — each branch a bounded index probe.

    Searching the long radius only along the post's own segment keeps the rows examined to
    what can match: in a dense centre, 150 m around a post holds many times more posts
    than 50 m does. ``planar``: the near branch probes the table's plain geometry index
    with a lon/lat box that holds the radius (:func:`incidents.geo.planar_box`), then
    measures the few rows found on the spheroid: the same rows, cheaper.

    ``representatives`` (an ORDER BY over ``alias``): the order in which rows come to stand
    for an incident's point. Each branch then also keeps the first rows in that order: in a
    crowded spot (hundreds of reports of one pothole in one batch) the nearest rows are
    rarely the one standing for the incident, which must be among the candidates.
    """
    here, there = geog("p.location"), geog(f"{alias}.location")
    if planar:
        near = f"{alias}.location && {planar_box('p.location', '%(near)s')} AND _ST_DWithin({there}, {here}, %(near)s)"
    else:
        near = f"ST_DWithin({there}, {here}, %(near)s)"
    # Unsorted along the segment (sorting means measuring them all; one segment rarely has this
    # many), unless the representatives' order is asked for.
    along_order = f"ORDER BY {representatives}" if representatives else ""
    first_representatives = (
        f"""
        UNION
        (SELECT {columns} FROM {table} {alias}
         WHERE {near} AND {conditions}
         ORDER BY {representatives} LIMIT {CANDIDATES_PER_POST})"""
        if representatives
        else ""
    )
    return f"""
        (SELECT {columns} FROM {table} {alias}
         WHERE {near} AND {conditions}
         ORDER BY {there} <-> {here} LIMIT {CANDIDATES_PER_POST}){first_representatives}
        UNION
        (SELECT {columns}
         -- the segment's rows by its btree alone (a handful), then filtered: OFFSET 0 keeps the
         -- planner from also scanning the spatial or category index and intersecting them
         FROM (SELECT * FROM {table} WHERE segment_id = p.segment_id OFFSET 0) {alias}
         WHERE ST_DWithin({there}, {here}, %(along)s) AND {conditions}
         {along_order} LIMIT {4 * CANDIDATES_PER_POST})
    """


# Segments of one street: same normalised name in the same commune (what the locator calls a street).
SAME_STREET = "s.name_normalized = ps.name_normalized AND s.insee_code = ps.insee_code"
# SQL: the segments of the street of post ``p``'s segment, for a LATERAL join. The street queries
# below are chains of LATERAL probes — the post's segment by id, its street by the name index,
# then the rows on each segment by the segment index — whatever the statistics say. Left to
# plan the joins from statistics, PostgreSQL once joined every segment with every other (a
# streets table it believed empty) and once scanned a whole category of incidents per post
# (an incident table it believed small): seconds per batch instead of milliseconds.
_SAME_STREET_SEGMENTS = f"""
    SELECT s.id FROM {SEGMENT} ps JOIN {SEGMENT} s ON {SAME_STREET}
    WHERE ps.id = p.segment_id
    OFFSET 0
"""


def _streets_of(cursor, posts: list[_Post], stored: dict[int, list[tuple]]) -> dict[int, tuple[str, str]]:
    """The street (normalised name, commune) of every segment the batch's decisions may compare."""
    segment_ids = {post.segment_id for post in posts} | {row[5] for rows in stored.values() for row in rows}
    segment_ids.discard(None)
    if not segment_ids:
        return {}
    cursor.execute(f"SELECT id, name_normalized, insee_code FROM {SEGMENT} WHERE id = ANY(%s)", [sorted(segment_ids)])
    return {segment_id: (name, insee) for segment_id, name, insee in cursor.fetchall()}


def _stored_candidates(
    cursor, relation: str, batch_filter: str, params: dict, posts: list[_Post], window: dt.timedelta
) -> dict[int, list[tuple]]:
    """Open incidents of the same category a post may join, around the batch's time span.

    Two ways to the same answer, whichever examines fewer rows: when few incidents are
    alive in the batch's time span (a city posting day after day), each of them probes
    the batch's spatial index; when many are (a backlog of one busy week), each post
    probes the incidents' spatial index, near it or along its segment.
    """
    params = {
        **params,
        "open": sorted(OPEN_STATUSES),
        "earliest": posts[0].posted_at - window,
        "latest": posts[-1].posted_at + window,
    }
    alive = "i.status = ANY(%(open)s) AND i.last_post_at >= %(earliest)s AND i.first_post_at <= %(latest)s"
    cursor.execute(f"SELECT count(*) FROM {INCIDENT} i WHERE {alive}", params)
    (alive_count,) = cursor.fetchone()
    # Only (incident, distance) per pair: the incidents' own columns are read once each, below.
    columns = f"i.id, ST_Distance({geog('i.location')}, {geog('p.location')}) AS distance_m"
    if alive_count <= len(posts):
        query = f"""
            SELECT p.id, {columns}
            FROM {INCIDENT} i
            CROSS JOIN LATERAL (
                SELECT p.id, p.location, p.segment_id FROM {relation} p
                WHERE ST_DWithin({geog("p.location")}, {geog("i.location")}, greatest(%(near)s, %(along)s))
                  AND p.category = i.category AND {batch_filter}
                OFFSET 0  -- each incident probes the batch's index; never flattened into a join
            ) p
            WHERE {alive}
              AND (ST_DWithin({geog("p.location")}, {geog("i.location")}, %(near)s) OR p.segment_id = i.segment_id)
        """
    else:
        planar = _planar_box_safe(cursor, relation, batch_filter, params)
        near_or_along = _near_or_along("i", INCIDENT, columns, f"i.category = p.category AND {alive}", planar)
        query = f"""
            SELECT p.id, c.*
            FROM {relation} p
            CROSS JOIN LATERAL ({near_or_along}) c
            WHERE {batch_filter}
        """
    cursor.execute(query, params)
    rows = cursor.fetchall()
    # Incidents of the same street, wherever along it: they matter when the post or the
    # incident is located only to the whole street (decided in _assign). A street has a
    # handful of segments, each an index probe.
    cursor.execute(
        f"""
        SELECT p.id, {columns}
        FROM {relation} p
        CROSS JOIN LATERAL ({_SAME_STREET_SEGMENTS}) s
        CROSS JOIN LATERAL (
            SELECT i.id, i.location FROM {INCIDENT} i
            WHERE i.segment_id = s.id AND i.category = p.category AND {alive}
            OFFSET 0
        ) i
        WHERE {batch_filter}
        """,
        params,
    )
    seen = {(row[0], row[1]) for row in rows}
    rows.extend(row for row in cursor.fetchall() if (row[0], row[1]) not in seen)
    incident_ids = sorted({row[1] for row in rows})
    # With how accurately each candidate's point is known: a more accurate post of the batch takes its place.
    cursor.execute(
        f"SELECT i.id, i.category, i.first_post_at, i.last_post_at, i.segment_id, i.location_accuracy_m "
        f"FROM {INCIDENT} i WHERE i.id = ANY(%s)",
        [incident_ids],
    )
    attributes = {incident_id: tuple(rest) for incident_id, *rest in cursor.fetchall()}
    candidates: dict[int, list[tuple]] = defaultdict(list)
    for post_id, incident_id, distance in rows:
        if incident_id in attributes:
            candidates[post_id].append((incident_id, distance, *attributes[incident_id]))
    return candidates


def _batch_pairs(cursor, relation: str, batch_filter: str, params: dict) -> dict[int, dict[int, float]]:
    """Distances between posts of the batch that may join each other's incident (same category)."""
    pairs: dict[int, dict[int, float]] = defaultdict(dict)
    # One index probe per post (``relation`` has a GiST index on its geography and a btree one
    # on its segment), never a comparison of every post with every other. Each pair comes
    # twice, once from each end, which keeps each probe a plain index scan.
    columns = f"b.id, ST_Distance({geog('p.location')}, {geog('b.location')}) AS distance_m"
    conditions = f"b.category = p.category AND b.id <> p.id AND {batch_filter.replace('p.', 'b.')}"
    cursor.execute(
        f"""
        SELECT p.id, b.id, b.distance_m
        FROM {relation} p
        CROSS JOIN LATERAL ({_near_or_along("b", relation, columns, conditions, representatives=REPRESENTATIVES)}) b
        WHERE {batch_filter}
        """,
        params,
    )
    for a, b, distance in cursor.fetchall():
        pairs[a][b] = distance
    # A post located only to its whole street may join any post of that street: both ends
    # of each such pair are recorded, the other post may have come first.
    cursor.execute(
        f"""
        SELECT p.id, b.id, ST_Distance({geog("p.location")}, {geog("b.location")})
        FROM {relation} p
        CROSS JOIN LATERAL ({_SAME_STREET_SEGMENTS}) s
        CROSS JOIN LATERAL (
            SELECT b.id, b.location FROM {relation} b WHERE b.segment_id = s.id AND {conditions} OFFSET 0
        ) b
        WHERE {batch_filter} AND p.accuracy_m > %(near)s
        """,
        params,
    )
    for a, b, distance in cursor.fetchall():
        pairs[a][b] = pairs[b][a] = distance
    return pairs


def _assign(
    posts: list[_Post],
    stored: dict[int, list[tuple]],
    pairs: dict[int, dict[int, float]],
    streets: dict[int, tuple[str, str]],
    distance_m: float,
    segment_distance_m: float,
    window: dt.timedelta,
) -> list[_Incident]:
    """Decide, in time order, which incident each post joins; return the incidents that got posts."""
    incidents: dict[tuple[int, int], _Incident] = {}
    represented_by: dict[int, _Incident] = {}  # batch post -> the incident whose point it is
    touched: dict[tuple[int, int], _Incident] = {}

    for post in posts:
        options: list[tuple[float, tuple[int, int], _Incident]] = []
        for incident_id, distance, category, first, last, segment_id, accuracy in stored.get(post.id, ()):
            key = (0, incident_id)
            incident = incidents.setdefault(
                key, _Incident(key, incident_id, category, first, last, segment_id, accuracy, None, [])
            )
            if incident.rep_post is None:
                options.append((distance, key, incident))
        for other, distance in pairs.get(post.id, {}).items():
            incident = represented_by.get(other)
            if incident is not None:
                options.append((distance, incident.key, incident))

        best = None
        for distance, _key, incident in sorted(options, key=lambda option: (option[0], option[1])):
            near = (
                distance <= distance_m
                or (
                    post.segment_id is not None
                    and incident.segment_id == post.segment_id
                    and distance <= segment_distance_m
                )
                or (
                    _whole_street(post.accuracy_m, incident.accuracy_m, distance_m)
                    and (street := streets.get(post.segment_id)) is not None
                    and street == streets.get(incident.segment_id)
                )
            )
            in_time = incident.first - window <= post.posted_at <= incident.last + window
            if near and in_time:
                best = incident
                break

        if best is None:
            key = (1, len(incidents))
            best = _Incident(key, None, post.category, post.posted_at, post.posted_at, None, None, None, [])
            incidents[key] = best
            _represent(best, post, represented_by)
        else:
            best.first = min(best.first, post.posted_at)
            best.last = max(best.last, post.posted_at)
            if _more_accurate(post.accuracy_m, best.accuracy_m):
                _represent(best, post, represented_by)
        best.posts.append(post.id)
        touched[best.key] = best
    return sorted(touched.values(), key=lambda incident: incident.key)


def _whole_street(post_accuracy_m: float | None, incident_accuracy_m: float | None, distance_m: float) -> bool:
    """Whether the post or the incident is located too coarsely to tell where along the street it is."""
    return any(accuracy is not None and accuracy > distance_m for accuracy in (post_accuracy_m, incident_accuracy_m))


def _represent(incident: _Incident, post: _Post, represented_by: dict[int, _Incident]) -> None:
    if incident.rep_post is not None:
        represented_by.pop(incident.rep_post, None)
    incident.rep_post = post.id
    incident.segment_id = post.segment_id
    incident.accuracy_m = post.accuracy_m
    represented_by[post.id] = incident


def _create(cursor, relation: str, new: list[_Incident]) -> None:
    """Insert the incidents started by this batch (totals are filled by :func:`refresh_incidents`)."""
    if not new:
        return
    cursor.execute(
        f"""
        INSERT INTO {INCIDENT} (location, category, status, first_post_at, last_post_at, post_count, engagement,
                                priority, created_at, updated_at)
        SELECT r.location, p.category, %s, p.posted_at, p.posted_at, 0, 0, 0, now(), now()
        FROM unnest(%s::bigint[], %s::bigint[]) WITH ORDINALITY AS seed(post_id, rep_id, n)
        JOIN {relation} p ON p.id = seed.post_id
        JOIN {relation} r ON r.id = seed.rep_id
        ORDER BY seed.n
        RETURNING id
        """,
        # Born at its representative's point (the one totals will give it): an incident whose
        # point then moved would have its works neighbours measured twice (publish.works_impact).
        [IncidentStatus.NEW, [incident.posts[0] for incident in new], [incident.rep_post for incident in new]],
    )
    # INSERT ... SELECT ... ORDER BY returns the rows in that order (Django's bulk_create relies on it too).
    for incident, (incident_id,) in zip(new, cursor.fetchall(), strict=True):
        incident.id = incident_id


def _engagement(post: str) -> str:
    """SQL: the engagement of post row ``post``."""
    return f"{post}.like_count::bigint + {post}.repost_count + {post}.reply_count + {post}.quote_count"


def _representative_order(post: str) -> str:
    """SQL: the order in which post rows ``post`` come to stand for their incident's point."""
    return f"{post}.location_accuracy_m ASC NULLS LAST, {post}.posted_at, {post}.id"


def refresh_incidents(incident_ids: Sequence[int], *, keep_distances: bool = False) -> int:
    """Recompute totals, point, segment, works links, district and priority of ``incident_ids``.

    Runs in the caller's transaction, under the grouping lock; returns how many incidents
    were refreshed. Reads every post of each incident: after an import, an engagement
    change or a move of posts. The pipeline adds new posts with :func:`add_batch_posts`.

    ``keep_distances``: a works link the incident had already keeps its distance when the
    incident's point has not moved, instead of measuring it again on the spheroid (the
    costly part). Only for the pipeline, where no zone changed: after an import, whose
    zones may have moved, :func:`incidents.link.relink_incidents` measures everything.
    """
    incident_ids = sorted(set(incident_ids))
    if not incident_ids:
        return 0
    with connection.cursor() as cursor:
        _lock(cursor)
        cursor.execute(
            f"""
            CREATE TEMPORARY TABLE incident_refresh ON COMMIT DROP AS
            SELECT t.incident_id, t.n, t.engagement, t.first_at, t.last_at,
                   r.id AS location_post_id, r.location, r.location_accuracy_m, r.segment_id, r.segment_distance_m
            FROM (
                -- One pass over the posts; the representative is the first in accuracy order.
                SELECT incident_id, count(*) AS n,
                       least(sum({_engagement("p")}), %s) AS engagement,
                       min(posted_at) AS first_at, max(posted_at) AS last_at,
                       (array_agg(id ORDER BY {_representative_order("p")}))[1] AS rep_id
                FROM {POST} p WHERE incident_id = ANY(%s) GROUP BY incident_id
            ) t
            JOIN {POST} r ON r.id = t.rep_id
            """,
            [MAX_INTEGER, incident_ids],
        )
        # The old links, deleted and returned in the same statement: with keep_distances a
        # link keeps its distance while the incident's point stays put (the incident row still
        # holds its old point here; it is updated below).
        cursor.execute(
            f"""
            WITH old AS (
                DELETE FROM {INCIDENT_WORKS} WHERE incident_id = ANY(%(ids)s)
                RETURNING incident_id, works_zone_id, distance_m
            )
            INSERT INTO {INCIDENT_WORKS} (incident_id, works_zone_id, distance_m)
            SELECT x.incident_id, w.id,
                   CASE WHEN %(keep)s AND old.distance_m IS NOT NULL AND i.location ~= x.location
                        THEN old.distance_m
                        ELSE ST_Distance({geog("x.location")}, {geog("w.impact_area")}) END
            FROM incident_refresh x
            JOIN {INCIDENT} i ON i.id = x.incident_id
            JOIN (
                SELECT DISTINCT p.incident_id, l.works_zone_id
                FROM {POST} p JOIN {POST_WORKS} l ON l.post_id = p.id
                WHERE p.incident_id = ANY(%(ids)s)
            ) linked ON linked.incident_id = x.incident_id
            JOIN {WORKS} w ON w.id = linked.works_zone_id
            LEFT JOIN old ON old.incident_id = x.incident_id AND old.works_zone_id = w.id
            """,
            {"ids": incident_ids, "keep": keep_distances},
        )
        refreshed = _write_incidents(cursor, incident_ids)
    # Same transaction: the map's cluster index sees the change exactly when it commits.
    mark_incidents_changed(incident_ids)
    return refreshed


def add_batch_posts(cursor, relation: str, incident_ids: Sequence[int]) -> int:
    """Add the posts of the batch ``relation`` to ``incident_ids``, which held none of them before.

    The same totals, point, works links, district and priority as
    :func:`refresh_incidents` with ``keep_distances``, computed from each incident's row
    and the batch's posts alone — an incident reported a thousand times is not read a
    thousand posts deep for every post it gains. The posts must be written (their
    ``incident_id`` set) already. An incident that has posts but no representative
    (written before it was recorded) is refreshed in full instead. Returns how many
    incidents were updated.
    """
    incident_ids = sorted(set(incident_ids))
    if not incident_ids:
        return 0
    _lock(cursor)
    cursor.execute(
        f"SELECT id FROM {INCIDENT} WHERE id = ANY(%s) AND location_post_id IS NULL AND post_count > 0",
        [incident_ids],
    )
    unknown = {incident_id for (incident_id,) in cursor.fetchall()}
    if unknown:
        refresh_incidents(sorted(unknown), keep_distances=True)
        incident_ids = [incident_id for incident_id in incident_ids if incident_id not in unknown]
        if not incident_ids:
            return len(unknown)
    # The incident's point, segment and accuracy come from the first, in representative order,
    # of its recorded post and the batch's best one (the same order as refresh_incidents).
    cursor.execute(
        f"""
        CREATE TEMPORARY TABLE incident_refresh ON COMMIT DROP AS
        SELECT i.id AS incident_id, i.post_count + a.n AS n, least(i.engagement + a.engagement, %(max)s) AS engagement,
               least(i.first_post_at, a.first_at) AS first_at, greatest(i.last_post_at, a.last_at) AS last_at,
               r.id AS location_post_id, r.location, r.location_accuracy_m, r.segment_id, r.segment_distance_m
        FROM (
            SELECT p.incident_id, count(*) AS n, sum({_engagement("p")}) AS engagement,
                   min(p.posted_at) AS first_at, max(p.posted_at) AS last_at,
                   (array_agg(p.id ORDER BY {_representative_order("p")}))[1] AS best_id
            FROM {relation} b JOIN {POST} p ON p.id = b.id
            WHERE b.incident_id = ANY(%(ids)s)
            GROUP BY p.incident_id
        ) a
        JOIN {INCIDENT} i ON i.id = a.incident_id
        CROSS JOIN LATERAL (
            SELECT r.id, r.location, r.location_accuracy_m, r.segment_id, r.segment_distance_m
            FROM {POST} r WHERE r.id IN (a.best_id, i.location_post_id)
            ORDER BY {_representative_order("r")} LIMIT 1
        ) r
        """,
        {"ids": incident_ids, "max": MAX_INTEGER},
    )
    # Links of an incident whose point moved are measured again from its new point; the
    # batch's posts bring their zones, measured once each (the incident row still holds its
    # old point here).
    cursor.execute(
        f"""
        UPDATE {INCIDENT_WORKS} l SET distance_m = ST_Distance({geog("x.location")}, {geog("w.impact_area")})
        FROM incident_refresh x, {INCIDENT} i, {WORKS} w
        WHERE l.incident_id = x.incident_id AND i.id = x.incident_id AND w.id = l.works_zone_id
          AND NOT i.location ~= x.location
        """
    )
    cursor.execute(
        f"""
        INSERT INTO {INCIDENT_WORKS} (incident_id, works_zone_id, distance_m)
        SELECT n.incident_id, w.id, ST_Distance({geog("x.location")}, {geog("w.impact_area")})
        FROM (
            SELECT DISTINCT b.incident_id, l.works_zone_id
            FROM {relation} b JOIN {POST_WORKS} l ON l.post_id = b.id
            WHERE b.incident_id = ANY(%(ids)s)
        ) n
        JOIN incident_refresh x ON x.incident_id = n.incident_id
        JOIN {WORKS} w ON w.id = n.works_zone_id
        WHERE NOT EXISTS (
            SELECT 1 FROM {INCIDENT_WORKS} e WHERE e.incident_id = n.incident_id AND e.works_zone_id = n.works_zone_id
        )
        """,
        {"ids": incident_ids},
    )
    updated = _write_incidents(cursor, incident_ids)
    mark_incidents_changed(incident_ids)
    return updated + len(unknown)


def _write_incidents(cursor, incident_ids: list[int]) -> int:
    """Write ``incident_refresh`` (and the priority it gives) into the incident rows; drop it.

    Each incident row is written once: an incident has a dozen indexes.
    """
    weights = PRIORITY_WEIGHTS
    cursor.execute(
        f"""
        UPDATE {INCIDENT} i SET
            post_count = x.n, engagement = x.engagement, first_post_at = x.first_at, last_post_at = x.last_at,
            location_post_id = x.location_post_id, location = x.location, location_accuracy_m = x.location_accuracy_m,
            segment_id = x.segment_id, segment_distance_m = x.segment_distance_m,
            -- SET sees the old row: keep the district while the point stays put (most refreshes)
            district_id = CASE WHEN i.district_id IS NOT NULL AND i.location ~= x.location THEN i.district_id
                ELSE (SELECT d.id FROM {DISTRICT} d WHERE ST_Intersects(d.geom, x.location) ORDER BY d.id LIMIT 1)
                END,
            priority = round((
                %(w_posts)s * ln(1 + x.n)
                + %(w_engagement)s * ln(1 + x.engagement)
                + %(w_works)s * coalesce(works.nearness, 0)
                + %(w_pedestrians)s * (
                    CASE WHEN x.category_is_pedestrian THEN 1 ELSE 0 END
                    + CASE WHEN works.pedestrian THEN %(pedestrian_works)s ELSE 0 END
                )
            )::numeric, 4),
            updated_at = now()
        FROM (
            SELECT r.*, j.category = ANY(%(pedestrian_categories)s) AS category_is_pedestrian
            FROM incident_refresh r JOIN {INCIDENT} j ON j.id = r.incident_id
        ) x
        LEFT JOIN (
            SELECT l.incident_id,
                   max(greatest(0, 1 - l.distance_m / %(radius)s)) AS nearness,
                   bool_or(w.impact_pedestrian) AS pedestrian
            FROM {INCIDENT_WORKS} l JOIN {WORKS} w ON w.id = l.works_zone_id
            WHERE l.incident_id = ANY(%(ids)s)
            GROUP BY l.incident_id
        ) works ON works.incident_id = x.incident_id
        WHERE i.id = x.incident_id
        """,
        {
            "ids": incident_ids,
            "w_posts": weights["posts"],
            "w_engagement": weights["engagement"],
            "w_works": weights["works"],
            "w_pedestrians": weights["pedestrians"],
            "pedestrian_works": PEDESTRIAN_WORKS_BONUS,
            "pedestrian_categories": sorted(str(category) for category in PEDESTRIAN_CATEGORIES),
            "radius": max(settings.INCIDENTS_WORKS_RADIUS_M, 1.0),
        },
    )
    updated = cursor.rowcount
    cursor.execute("DROP TABLE incident_refresh")
    return updated
