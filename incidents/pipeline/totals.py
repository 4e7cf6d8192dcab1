"""
Count an incident's totals and priority from its posts.

An incident's point, segment and segment distance are those of its most accurately
located post (the earliest on ties: :func:`representative_order`); its works links are
its posts' works links, measured from that point; its district is the one holding that
point. Its priority rises with the number of posts, their engagement, the nearness of
active works and the harm to pedestrians (see :data:`PRIORITY_WEIGHTS`).

A batch adds its posts to the incidents they joined (:func:`add_batch_posts`); a full
recount (:func:`refresh_incidents`) serves where earlier posts changed: engagement,
relinking after an import. Both hold the grouping lock, and note the change for the
map's cluster index in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.db import connection

from incidents.categories import PEDESTRIAN_CATEGORIES
from incidents.classify.taxonomy import PRECEDENCE
from incidents.geo import geog
from incidents.models import District, Incident, IncidentWorksZone, Post, PostWorksZone, WorksZone
from incidents.pipeline.locks import hold_incidents
from incidents.publish.clusters import mark_incidents_changed

POST = Post._meta.db_table
INCIDENT = Incident._meta.db_table
INCIDENT_WORKS = IncidentWorksZone._meta.db_table
POST_WORKS = PostWorksZone._meta.db_table
WORKS = WorksZone._meta.db_table
DISTRICT = District._meta.db_table

# priority = posts * ln(1 + post count) + engagement * ln(1 + engagement)
#          + works * nearness of the closest active works zone (1 inside its impact area, 0 at the radius)
#          + pedestrians * (1 for a pedestrian category, + 0.5 when a nearby zone takes the pavement)
# Logarithms: the tenth post or the thousandth like matters less than the second.
PRIORITY_WEIGHTS = {"posts": 1.0, "engagement": 0.5, "works": 2.0, "pedestrians": 1.5}
PEDESTRIAN_WORKS_BONUS = 0.5
# Totals are stored in PostgreSQL integers.
MAX_INTEGER = 2**31 - 1


def representative_order(post: str) -> str:
    """SQL: the order in which rows ``post`` (posts, batch rows) come to stand for their incident's point.

    The most accurately located first, the earliest on ties.
    """
    return f"{post}.location_accuracy_m ASC NULLS LAST, {post}.posted_at, {post}.id"


def _engagement(post: str) -> str:
    """SQL: the engagement of post row ``post``."""
    return f"{post}.like_count::bigint + {post}.repost_count + {post}.reply_count + {post}.quote_count"


def _category_counts(rows: str) -> str:
    """SQL: per incident of ``rows`` (``incident_id``, ``category``), its rows per category.

    ``counts`` (a JSON object), ``categories`` (how many), ``category`` (the first) and
    ``n`` (the rows counted); rows without a category are left out.
    """
    return f"""
        SELECT incident_id, count(*) AS categories, min(category) AS category, sum(n)::int AS n,
               jsonb_object_agg(category, n) AS counts
        FROM (
            SELECT incident_id, category, count(*) AS n FROM {rows}
            WHERE category <> '' GROUP BY incident_id, category
        ) per_category GROUP BY incident_id
    """


def _affected(rows: str) -> str:
    """SQL: per incident of ``rows`` (``incident_id``, ``affects``), who they say is harmed, once each, sorted."""
    return f"""
        SELECT r.incident_id, array_agg(DISTINCT x ORDER BY x) AS affects
        FROM {rows} r CROSS JOIN LATERAL unnest(r.affects) x GROUP BY r.incident_id
    """


def refresh_incidents(incident_ids: Sequence[int], *, keep_distances: bool = False) -> int:
    """Recompute totals, point, segment, works links, district and priority of ``incident_ids``.

    Runs in the caller's transaction, under the grouping lock; returns how many incidents
    were refreshed. Reads every post of each incident: after an import, an engagement
    change or a move of posts. The pipeline adds new posts with :func:`add_batch_posts`.

    ``keep_distances``: a works link the incident had already keeps its distance when the
    incident's point has not moved, instead of measuring it again on the spheroid (the
    costly part). Only for the pipeline, where no zone changed: after an import, whose
    zones may have moved, :func:`incidents.pipeline.link.relink_incidents` measures everything.
    """
    incident_ids = sorted(set(incident_ids))
    if not incident_ids:
        return 0
    with connection.cursor() as cursor:
        hold_incidents(cursor)
        cursor.execute(
            f"""
            CREATE TEMPORARY TABLE incident_refresh ON COMMIT DROP AS
            -- One read of the incidents' posts, aggregated three ways.
            WITH ps AS MATERIALIZED (
                SELECT p.id, p.incident_id, p.category, p.affects, p.posted_at, p.location_accuracy_m,
                       {_engagement("p")} AS engagement
                FROM {POST} p WHERE p.incident_id = ANY(%(ids)s)
            )
            SELECT t.incident_id, t.n, t.engagement, t.first_at, t.last_at,
                   r.id AS location_post_id, r.location, r.location_accuracy_m, r.segment_id, r.segment_distance_m,
                   c.counts, coalesce(f.affects, '{{}}') AS affects
            FROM (
                -- The representative is the first in accuracy order.
                SELECT incident_id, count(*) AS n, least(sum(engagement), %(max)s) AS engagement,
                       min(posted_at) AS first_at, max(posted_at) AS last_at,
                       (array_agg(id ORDER BY {representative_order("ps")}))[1] AS rep_id
                FROM ps GROUP BY incident_id
            ) t
            JOIN {POST} r ON r.id = t.rep_id
            LEFT JOIN ({_category_counts("ps")}) c ON c.incident_id = t.incident_id
            LEFT JOIN ({_affected("ps")}) f ON f.incident_id = t.incident_id
            """,
            {"max": MAX_INTEGER, "ids": incident_ids},
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
    hold_incidents(cursor)
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
        -- One read of the batch's rows and their posts, aggregated three ways.
        WITH bp AS MATERIALIZED (
            SELECT b.incident_id, b.category, b.affects, p.id, p.posted_at, p.location_accuracy_m,
                   {_engagement("p")} AS engagement
            FROM {relation} b JOIN {POST} p ON p.id = b.id
            WHERE b.incident_id = ANY(%(ids)s)
        )
        SELECT i.id AS incident_id, i.post_count + a.n AS n, least(i.engagement + a.engagement, %(max)s) AS engagement,
               least(i.first_post_at, a.first_at) AS first_at, greatest(i.last_post_at, a.last_at) AS last_at,
               r.id AS location_post_id, r.location, r.location_accuracy_m, r.segment_id, r.segment_distance_m,
               -- its posts per category and who they say is harmed: its own, plus the batch's. The
               -- batch brings one category to most incidents and nobody harmed to most: those are
               -- expressions; the rest sums the two count objects, merges the two lists.
               CASE WHEN bc.incident_id IS NULL THEN i.category_counts
                    WHEN bc.categories = 1 THEN i.category_counts || jsonb_build_object(
                        bc.category, coalesce((i.category_counts ->> bc.category)::int, 0) + bc.n)
                    ELSE (SELECT jsonb_object_agg(key, n) FROM (
                        SELECT key, sum(value::int)::int AS n
                        FROM (SELECT * FROM jsonb_each_text(i.category_counts)
                              UNION ALL SELECT * FROM jsonb_each_text(bc.counts)) both_counts
                        GROUP BY key) summed)
               END AS counts,
               CASE WHEN ba.affects IS NULL OR i.affects @> ba.affects THEN i.affects
                    ELSE ARRAY(SELECT DISTINCT x FROM unnest(i.affects || ba.affects) x ORDER BY x)
               END AS affects
        FROM (
            SELECT incident_id, count(*) AS n, sum(engagement) AS engagement,
                   min(posted_at) AS first_at, max(posted_at) AS last_at,
                   (array_agg(id ORDER BY {representative_order("bp")}))[1] AS best_id
            FROM bp GROUP BY incident_id
        ) a
        JOIN {INCIDENT} i ON i.id = a.incident_id
        -- The batch's posts per incident and category, and per incident who they say is harmed.
        LEFT JOIN ({_category_counts("bp")}) bc ON bc.incident_id = a.incident_id
        LEFT JOIN ({_affected("bp")}) ba ON ba.incident_id = a.incident_id
        CROSS JOIN LATERAL (
            SELECT r.id, r.location, r.location_accuracy_m, r.segment_id, r.segment_distance_m
            FROM {POST} r WHERE r.id IN (a.best_id, i.location_post_id)
            ORDER BY {representative_order("r")} LIMIT 1
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
            category = x.category, category_counts = coalesce(x.counts, '{{}}'::jsonb), affects = x.affects,
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
            SELECT r.*, c.category, c.category = ANY(%(pedestrian_categories)s) AS category_is_pedestrian
            FROM incident_refresh r
            JOIN {INCIDENT} j ON j.id = r.incident_id
            -- The most frequent category of its posts; ties by precedence (incident_category()).
            CROSS JOIN LATERAL (
                SELECT coalesce((
                    SELECT key FROM jsonb_each_text(r.counts)
                    ORDER BY value::int DESC, array_position(%(precedence)s::varchar[], key::varchar)
                    LIMIT 1
                ), j.category) AS category
            ) c
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
            "precedence": [str(category) for category in PRECEDENCE],
            "radius": max(settings.INCIDENTS_WORKS_RADIUS_M, 1.0),
        },
    )
    updated = cursor.rowcount
    cursor.execute("DROP TABLE incident_refresh")
    return updated
