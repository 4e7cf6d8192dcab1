"""
Group located posts into incidents, and keep each incident's totals and priority.

A located, relevant post joins an open incident (new, acknowledged, dispatched) when

- the category is the same, and
- it lies within ``INCIDENTS_GROUP_DISTANCE_M`` of the incident's point, or on the same
  street segment within ``INCIDENTS_GROUP_SEGMENT_DISTANCE_M`` (people describe the
  same barrier from either end of the block), and
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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from incidents.categories import PEDESTRIAN_CATEGORIES
from incidents.geo import geog
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

POST = Post._meta.db_table
INCIDENT = Incident._meta.db_table
INCIDENT_WORKS = IncidentWorksZone._meta.db_table
POST_WORKS = PostWorksZone._meta.db_table
WORKS = WorksZone._meta.db_table
DISTRICT = District._meta.db_table

LOCK_NAMESPACE = 0x43495459  # "CITY", shared with incidents.pipeline
GROUP_LOCK = 2

# priority = posts * ln(1 + post count) + engagement * ln(1 + engagement)
#          + works * nearness of the closest active works zone (1 inside its impact area, 0 at the radius)
#          + pedestrians * (1 for a pedestrian category, + 0.5 when a nearby zone takes the pavement)
# Logarithms: the tenth post or the thousandth like matters less than the second.
PRIORITY_WEIGHTS = {"posts": 1.0, "engagement": 0.5, "works": 2.0, "pedestrians": 1.5}
PEDESTRIAN_WORKS_BONUS = 0.5


@dataclass(slots=True)
class GroupResult:
    created: int = 0
    updated: int = 0


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


def _more_accurate(candidate: float | None, current: float | None) -> bool:
    return candidate is not None and (current is None or candidate < current)


def group_posts(post_ids: Sequence[int], *, refresh: Iterable[int] = ()) -> GroupResult:
    """Attach the located, ungrouped posts among ``post_ids`` to incidents; refresh ``refresh`` too.

    Runs in the caller's transaction, under the grouping lock.
    """
    distance_m = settings.INCIDENTS_GROUP_DISTANCE_M
    segment_distance_m = settings.INCIDENTS_GROUP_SEGMENT_DISTANCE_M
    window = dt.timedelta(hours=settings.INCIDENTS_GROUP_WINDOW_HOURS)
    reach = max(distance_m, segment_distance_m)
    result = GroupResult()
    refresh = set(refresh)

    with connection.cursor() as cursor:
        if not post_ids and not refresh:
            return result
        _lock(cursor)
        posts = _batch_posts(cursor, post_ids)
        if posts:
            stored = _stored_candidates(cursor, posts, reach, window)
            pairs = _batch_pairs(cursor, posts, reach)
            incidents = _assign(posts, stored, pairs, distance_m, segment_distance_m, window)
            new = [incident for incident in incidents if incident.id is None]
            _create(cursor, new)
            cursor.execute(
                f"UPDATE {POST} p SET incident_id = a.incident_id "
                "FROM unnest(%s::bigint[], %s::bigint[]) AS a(post_id, incident_id) WHERE p.id = a.post_id",
                [
                    [post_id for incident in incidents for post_id in incident.posts],
                    [incident.id for incident in incidents for _ in incident.posts],
                ],
            )
            result.created = len(new)
            touched = {incident.id for incident in incidents if incident.id is not None}
            result.updated = len((touched | refresh) - {incident.id for incident in new})
            refresh |= touched
        else:
            result.updated = len(refresh)
    refresh_incidents(sorted(refresh))
    return result


def _batch_posts(cursor, post_ids: Sequence[int]) -> list[_Post]:
    if not post_ids:
        return []
    cursor.execute(
        f"""
        SELECT id, category, posted_at, segment_id, location_accuracy_m FROM {POST}
        WHERE id = ANY(%s) AND state = %s AND incident_id IS NULL
        ORDER BY posted_at, id
        """,
        [list(post_ids), PostState.LOCATED],
    )
    return [_Post(*row) for row in cursor.fetchall()]


def _stored_candidates(cursor, posts: list[_Post], reach: float, window: dt.timedelta) -> dict[int, list[tuple]]:
    """Open incidents of the same category within ``reach`` of each post, around the batch's time span."""
    cursor.execute(
        f"""
        SELECT p.id, i.id, ST_Distance({geog("i.location")}, {geog("p.location")}), i.category, i.first_post_at,
               i.last_post_at, i.segment_id,
               (SELECT min(m.location_accuracy_m) FROM {POST} m WHERE m.incident_id = i.id)
        FROM {POST} p
        JOIN {INCIDENT} i ON i.category = p.category
         AND i.status = ANY(%(open)s)
         AND ST_DWithin({geog("i.location")}, {geog("p.location")}, %(reach)s)
         AND i.last_post_at >= %(earliest)s AND i.first_post_at <= %(latest)s
        WHERE p.id = ANY(%(ids)s)
        """,
        {
            "ids": [post.id for post in posts],
            "open": sorted(OPEN_STATUSES),
            "reach": reach,
            "earliest": posts[0].posted_at - window,
            "latest": posts[-1].posted_at + window,
        },
    )
    candidates: dict[int, list[tuple]] = defaultdict(list)
    for post_id, *incident in cursor.fetchall():
        candidates[post_id].append(tuple(incident))
    return candidates


def _batch_pairs(cursor, posts: list[_Post], reach: float) -> dict[int, dict[int, float]]:
    """Distances between posts of the batch with the same category, within ``reach`` metres."""
    pairs: dict[int, dict[int, float]] = defaultdict(dict)
    if len(posts) < 2:
        return pairs
    cursor.execute(
        f"""
        CREATE TEMPORARY TABLE group_batch ON COMMIT DROP AS
        SELECT id, category, {geog("location")} AS g FROM {POST} WHERE id = ANY(%s)
        """,
        [[post.id for post in posts]],
    )
    cursor.execute("CREATE INDEX ON group_batch USING gist (g)")
    cursor.execute("ANALYZE group_batch")
    cursor.execute(
        """
        SELECT a.id, b.id, ST_Distance(a.g, b.g) FROM group_batch a
        JOIN group_batch b ON b.category = a.category AND b.id > a.id AND ST_DWithin(a.g, b.g, %s)
        """,
        [reach],
    )
    for a, b, distance in cursor.fetchall():
        pairs[a][b] = distance
        pairs[b][a] = distance
    cursor.execute("DROP TABLE group_batch")
    return pairs


def _assign(
    posts: list[_Post],
    stored: dict[int, list[tuple]],
    pairs: dict[int, dict[int, float]],
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
            near = distance <= distance_m or (
                post.segment_id is not None
                and incident.segment_id == post.segment_id
                and distance <= segment_distance_m
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


def _represent(incident: _Incident, post: _Post, represented_by: dict[int, _Incident]) -> None:
    if incident.rep_post is not None:
        represented_by.pop(incident.rep_post, None)
    incident.rep_post = post.id
    incident.segment_id = post.segment_id
    incident.accuracy_m = post.accuracy_m
    represented_by[post.id] = incident


def _create(cursor, new: list[_Incident]) -> None:
    """Insert the incidents started by this batch (totals are filled by :func:`refresh_incidents`)."""
    if not new:
        return
    cursor.execute(
        f"""
        INSERT INTO {INCIDENT} (location, category, status, first_post_at, last_post_at, post_count, engagement,
                                priority, created_at, updated_at)
        SELECT p.location, p.category, %s, p.posted_at, p.posted_at, 0, 0, 0, now(), now()
        FROM unnest(%s::bigint[]) WITH ORDINALITY AS seed(post_id, n)
        JOIN {POST} p ON p.id = seed.post_id
        ORDER BY seed.n
        RETURNING id
        """,
        [IncidentStatus.NEW, [incident.posts[0] for incident in new]],
    )
    # INSERT ... SELECT ... ORDER BY returns the rows in that order (Django's bulk_create relies on it too).
    for incident, (incident_id,) in zip(new, cursor.fetchall(), strict=True):
        incident.id = incident_id


def refresh_incidents(incident_ids: Sequence[int]) -> int:
    """Recompute totals, point, segment, works links, district and priority of ``incident_ids``.

    Runs in the caller's transaction, under the grouping lock; returns how many incidents
    were refreshed.
    """
    incident_ids = sorted(set(incident_ids))
    if not incident_ids:
        return 0
    weights = PRIORITY_WEIGHTS
    with connection.cursor() as cursor:
        _lock(cursor)
        cursor.execute(
            f"""
            WITH totals AS (
                SELECT incident_id, count(*) AS n,
                       sum(like_count::bigint + repost_count + reply_count + quote_count) AS engagement,
                       min(posted_at) AS first_at, max(posted_at) AS last_at
                FROM {POST} WHERE incident_id = ANY(%(ids)s) GROUP BY incident_id
            ), representative AS (
                SELECT DISTINCT ON (incident_id) incident_id, location, segment_id, segment_distance_m
                FROM {POST} WHERE incident_id = ANY(%(ids)s) AND location IS NOT NULL
                ORDER BY incident_id, location_accuracy_m ASC NULLS LAST, posted_at, id
            )
            UPDATE {INCIDENT} i SET
                post_count = t.n, engagement = LEAST(t.engagement, 2147483647),
                first_post_at = t.first_at, last_post_at = t.last_at,
                location = r.location, segment_id = r.segment_id, segment_distance_m = r.segment_distance_m,
                updated_at = now()
            FROM totals t JOIN representative r USING (incident_id)
            WHERE i.id = t.incident_id
            """,
            {"ids": incident_ids},
        )
        refreshed = cursor.rowcount
        cursor.execute(f"DELETE FROM {INCIDENT_WORKS} WHERE incident_id = ANY(%s)", [incident_ids])
        cursor.execute(
            f"""
            INSERT INTO {INCIDENT_WORKS} (incident_id, works_zone_id, distance_m)
            SELECT i.id, w.id, ST_Distance({geog("i.location")}, {geog("w.impact_area")})
            FROM (
                SELECT DISTINCT p.incident_id, l.works_zone_id
                FROM {POST} p JOIN {POST_WORKS} l ON l.post_id = p.id
                WHERE p.incident_id = ANY(%s)
            ) linked
            JOIN {INCIDENT} i ON i.id = linked.incident_id
            JOIN {WORKS} w ON w.id = linked.works_zone_id
            """,
            [incident_ids],
        )
        cursor.execute(
            f"""
            UPDATE {INCIDENT} i SET
                district_id = (
                    SELECT d.id FROM {DISTRICT} d WHERE ST_Intersects(d.geom, i.location) ORDER BY d.id LIMIT 1
                ),
                priority = round((
                    %(w_posts)s * ln(1 + i.post_count)
                    + %(w_engagement)s * ln(1 + i.engagement)
                    + %(w_works)s * coalesce(works.nearness, 0)
                    + %(w_pedestrians)s * (
                        CASE WHEN i.category = ANY(%(pedestrian_categories)s) THEN 1 ELSE 0 END
                        + CASE WHEN works.pedestrian THEN %(pedestrian_works)s ELSE 0 END
                    )
                )::numeric, 4)
            FROM (
                SELECT j.id,
                       max(greatest(0, 1 - l.distance_m / %(radius)s)) AS nearness,
                       bool_or(w.impact_pedestrian) AS pedestrian
                FROM {INCIDENT} j
                LEFT JOIN {INCIDENT_WORKS} l ON l.incident_id = j.id
                LEFT JOIN {WORKS} w ON w.id = l.works_zone_id
                WHERE j.id = ANY(%(ids)s)
                GROUP BY j.id
            ) works
            WHERE i.id = works.id
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
    return refreshed
