"""
Group located posts into incidents: the grouping decision.

Every located, relevant post joins an incident or starts one: a post located only to a
whole street starts a street-level incident, which the map draws as the street. It joins
an open incident (new, acknowledged, dispatched) when

- the categories are related: the same, or of one family (works, crossing/sidewalk,
  marking: one barrier across one crossing is reported as any of the three; see
  :mod:`incidents.classify.taxonomy`), and
- it lies within ``INCIDENTS_GROUP_DISTANCE_M`` of the incident's point, or on the same
  street segment within ``INCIDENTS_GROUP_SEGMENT_DISTANCE_M`` (people describe the
  same barrier from either end of the block), or on the same street when the post or the
  incident is located too coarsely to tell where along it and may be at the same spot
  (their accuracy circles, grown by ``INCIDENTS_GROUP_DISTANCE_M``, meet): a post naming
  "rue de Metz" and no more says nothing of where along it, so it is consistent with any
  problem of that street, and joins the nearest one; a post naming the basilica joins a
  problem of the square around it, not one at the far end of a long street, and
- it was posted no more than ``INCIDENTS_GROUP_OPEN_DAYS`` before the incident's first
  post or after its last one: an open incident keeps its posts while the problem is
  there ("toujours là" a week later joins it). Resolved and rejected incidents are never
  joined: a post about a problem the city resolved starts a new incident that records
  the resolved one as ``recurrence_of`` (within ``INCIDENTS_RECURRENCE_DAYS``), so
  recurrence shows in the history and the API.

Among several candidates the nearest wins. Otherwise the post starts a new incident.
Distances come from PostGIS (geography, metres) for the whole batch at once: one query
for the candidate incidents, one for the pairs of posts of the batch; the decisions are
then taken in time order in Python, so that posts of one batch can join the incident
an earlier post of the same batch started. The step holds the grouping lock, so that two
workers never open two incidents for the same problem. The incidents' totals, point,
links and priority are counted afterwards (:mod:`incidents.pipeline.totals`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings

from incidents.classify.taxonomy import FAMILIES
from incidents.geo import geog, planar_box, planar_box_holds
from incidents.models import Incident, IncidentStatus, PostState, StreetSegment
from incidents.models.incidents import OPEN_STATUSES
from incidents.pipeline.locks import hold_incidents
from incidents.pipeline.totals import representative_order

INCIDENT = Incident._meta.db_table
SEGMENT = StreetSegment._meta.db_table


def _family_key(category: str) -> str:
    """SQL: one code standing for the family of the category expression ``category``."""
    cases = " ".join(
        f"WHEN {category} IN ({', '.join(repr(str(code)) for code in sorted(family))}) THEN {str(min(family))!r}"
        for family in FAMILIES
    )
    return f"CASE {cases} ELSE {category} END"


def same_family(a: str, b: str) -> str:
    """SQL: the categories ``a`` and ``b`` may be one problem (:func:`incidents.classify.taxonomy.related`)."""
    return f"{_family_key(a)} = {_family_key(b)}"


# A stored incident "i" and a post "p" of related categories.
SAME_FAMILY = same_family("i.category", "p.category")

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _micros(column: str) -> str:
    """SQL: the timestamp ``column`` as integer microseconds since 1970.

    The decisions only compare times: integers are read several times faster than
    timestamps, which Django's driver adapter turns into aware datetimes one by one in Python.
    """
    return f"(extract(epoch FROM {column}) * 1000000)::int8"


def _timestamp(micros: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=micros)


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
    posted_us: int  # microseconds since 1970 (_micros)
    segment_id: int | None
    accuracy_m: float | None


@dataclass(slots=True)
class _Incident:
    """An incident as the batch sees it: stored (``id``) or started by this batch (``id`` None)."""

    key: tuple[int, int]  # (0, id) for a stored incident, (1, n) for a new one: the tie-break order
    id: int | None
    category: str
    first: int  # microseconds since 1970, as _Post.posted_us
    last: int
    segment_id: int | None
    accuracy_m: float | None
    rep_post: int | None  # the batch post standing for its point; None: the stored point
    posts: list[int]


def _more_accurate(candidate: float | None, current: float | None) -> bool:
    return candidate is not None and (current is None or candidate < current)


def group_batch(cursor, relation: str) -> GroupResult:
    """Decide the incident of each located post of ``relation`` and write it in its ``incident_id``.

    ``relation`` is the pipeline's batch table (``id``, ``category``, ``posted_at``,
    ``location`` with a GiST index on its geography, ``location_accuracy_m``,
    ``segment_id``, ``state``, ``incident_id``). New incidents are inserted; the caller
    writes the posts, then counts them into ``incident_ids``
    (:func:`~incidents.pipeline.totals.add_batch_posts`). Takes the grouping lock, held
    until the transaction ends.
    """
    distance_m = settings.INCIDENTS_GROUP_DISTANCE_M
    segment_distance_m = settings.INCIDENTS_GROUP_SEGMENT_DISTANCE_M
    window = round(settings.INCIDENTS_GROUP_OPEN_DAYS * 86_400_000_000)  # microseconds
    result = GroupResult()
    hold_incidents(cursor)
    # The posts to group, as a condition on the batch row "p" (reused for the pairs' "b").
    batch_filter = "p.state = %(located)s AND p.incident_id IS NULL"
    params = {
        "located": PostState.LOCATED,
        "near": distance_m,
        "along": segment_distance_m,
    }
    cursor.execute(
        f"SELECT p.id, p.category, {_micros('p.posted_at')}, p.segment_id, p.location_accuracy_m FROM {relation} p "
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
    _recurrences(cursor, relation, new, params)
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
    cursor, relation: str, batch_filter: str, params: dict, posts: list[_Post], window: int
) -> dict[int, list[tuple]]:
    """Open incidents of a related category a post may join, around the batch's time span.

    Two ways to the same answer, whichever examines fewer rows: when few incidents are
    alive in the batch's time span (a city posting day after day), each of them probes
    the batch's spatial index; when many are (a backlog of one busy week), each post
    probes the incidents' spatial index, near it or along its segment.
    """
    params = {
        **params,
        "open": sorted(OPEN_STATUSES),
        "earliest": _timestamp(posts[0].posted_us - window),
        "latest": _timestamp(posts[-1].posted_us + window),
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
                  AND {SAME_FAMILY} AND {batch_filter}
                OFFSET 0  -- each incident probes the batch's index; never flattened into a join
            ) p
            WHERE {alive}
              AND (ST_DWithin({geog("p.location")}, {geog("i.location")}, %(near)s) OR p.segment_id = i.segment_id)
        """
    else:
        planar = _planar_box_safe(cursor, relation, batch_filter, params)
        near_or_along = _near_or_along("i", INCIDENT, columns, f"{SAME_FAMILY} AND {alive}", planar)
        query = f"""
            SELECT p.id, c.*
            FROM {relation} p
            CROSS JOIN LATERAL ({near_or_along}) c
            WHERE {batch_filter}
        """
    cursor.execute(query, params)
    rows = cursor.fetchall()
    # Incidents of the same street, wherever along it: they matter only when the post or the
    # incident is located to the whole street (_coarse_within_reach, in _assign); the other pairs near
    # enough were found above. A street has a handful of segments, each an index probe; the
    # distance is measured only for the pairs that may use it.
    cursor.execute(
        f"""
        SELECT p.id, {columns}
        FROM {relation} p
        CROSS JOIN LATERAL ({_SAME_STREET_SEGMENTS}) s
        CROSS JOIN LATERAL (
            SELECT i.id, i.location FROM {INCIDENT} i
            WHERE i.segment_id = s.id AND {SAME_FAMILY} AND {alive}
              AND (p.location_accuracy_m > %(near)s OR i.location_accuracy_m > %(near)s)
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
        f"SELECT i.id, i.category, {_micros('i.first_post_at')}, {_micros('i.last_post_at')}, i.segment_id, "
        "i.location_accuracy_m "
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
    """Distances between posts of the batch that may join each other's incident (related categories)."""
    pairs: dict[int, dict[int, float]] = defaultdict(dict)
    # One index probe per post (``relation`` has a GiST index on its geography and a btree one
    # on its segment), never a comparison of every post with every other. Each pair comes
    # twice, once from each end, which keeps each probe a plain index scan.
    columns = f"b.id, ST_Distance({geog('p.location')}, {geog('b.location')}) AS distance_m"
    conditions = f"{same_family('b.category', 'p.category')} AND b.id <> p.id AND {batch_filter.replace('p.', 'b.')}"
    near_or_along = _near_or_along("b", relation, columns, conditions, representatives=representative_order("b"))
    cursor.execute(
        f"""
        SELECT p.id, b.id, b.distance_m
        FROM {relation} p
        CROSS JOIN LATERAL ({near_or_along}) b
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
        WHERE {batch_filter} AND p.location_accuracy_m > %(near)s
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
    window: int,
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
                    _coarse_within_reach(post.accuracy_m, incident.accuracy_m, distance, distance_m)
                    and (street := streets.get(post.segment_id)) is not None
                    and street == streets.get(incident.segment_id)
                )
            )
            in_time = incident.first - window <= post.posted_us <= incident.last + window
            if near and in_time:
                best = incident
                break

        if best is None:
            key = (1, len(incidents))
            best = _Incident(key, None, post.category, post.posted_us, post.posted_us, None, None, None, [])
            incidents[key] = best
            _represent(best, post, represented_by)
        else:
            best.first = min(best.first, post.posted_us)
            best.last = max(best.last, post.posted_us)
            if _more_accurate(post.accuracy_m, best.accuracy_m):
                _represent(best, post, represented_by)
        best.posts.append(post.id)
        touched[best.key] = best
    return sorted(touched.values(), key=lambda incident: incident.key)


def _coarse_within_reach(
    post_accuracy_m: float | None, incident_accuracy_m: float | None, distance: float, distance_m: float
) -> bool:
    """Whether the post or the incident is located too coarsely to tell where along the street it is,
    and their accuracy circles, grown by ``distance_m``, still meet ``distance`` apart."""
    accuracies = (post_accuracy_m or 0.0, incident_accuracy_m or 0.0)
    return max(accuracies) > distance_m and distance <= sum(accuracies) + distance_m


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


def _recurrences(cursor, relation: str, new: list[_Incident], params: dict) -> None:
    """Record, for each incident this batch started, the resolved incident it reports again, if any.

    The same problem as a new post (related categories, within ``%(near)s`` metres or
    ``%(along)s`` along its segment) resolved less than ``INCIDENTS_RECURRENCE_DAYS``
    before it: the nearest, the latest on ties.
    """
    if not new:
        return
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {INCIDENT} WHERE status = %s)", [IncidentStatus.RESOLVED])
    if not cursor.fetchone()[0]:
        return
    here, there = geog("p.location"), geog("i.location")
    cursor.execute(
        f"""
        UPDATE {INCIDENT} n SET recurrence_of_id = r.id
        FROM unnest(%(incidents)s::bigint[], %(posts)s::bigint[]) AS s(incident_id, post_id)
        JOIN {relation} p ON p.id = s.post_id
        CROSS JOIN LATERAL (
            SELECT i.id FROM {INCIDENT} i
            WHERE i.status = %(resolved)s AND i.id <> s.incident_id AND {SAME_FAMILY}
              AND i.first_post_at <= p.posted_at AND i.last_post_at >= p.posted_at - %(recurrence)s
              AND (ST_DWithin({there}, {here}, %(near)s)
                   OR (i.segment_id = p.segment_id AND ST_DWithin({there}, {here}, %(along)s)))
            ORDER BY ST_Distance({there}, {here}), i.last_post_at DESC, i.id
            LIMIT 1
        ) r
        WHERE n.id = s.incident_id
        """,
        {
            **params,
            "incidents": [incident.id for incident in new],
            "posts": [incident.posts[0] for incident in new],
            "resolved": IncidentStatus.RESOLVED,
            "recurrence": dt.timedelta(days=settings.INCIDENTS_RECURRENCE_DAYS),
        },
    )
