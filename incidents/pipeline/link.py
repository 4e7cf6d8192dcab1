"""
Link located posts to the nearest street segment and to the works zones active nearby.

Both links are computed in SQL, on the geography GiST indexes:

- the nearest segment within ``INCIDENTS_SEGMENT_MAX_DISTANCE_M``, chosen in one place,
  :func:`nearest_segments`: a ``LATERAL`` nearest-neighbour query per point
  (``ORDER BY geog <-> geog LIMIT 1``, bounded by ``ST_DWithin`` so a point far from
  every street stops at once); ties go to the lower id. A post located by the street
  its text names takes that street's nearest segment when one is within the distance.
  Asked once per distinct point and remembered per process until the streets change;
- every works zone whose impact area lies within ``INCIDENTS_WORKS_RADIUS_M`` of the
  post and that was active when it was posted, give or take
  ``INCIDENTS_WORKS_GRACE_HOURS`` (a barrier often stays a day after the permit ends).

Distances are metres on the spheroid (``ST_Distance`` on geography). Incidents take
their links from their posts (:func:`incidents.pipeline.totals.refresh_incidents`), so
:func:`relink_incidents` — called by the street and works importers — relinks the
posts near what changed and refreshes their incidents.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, Polygon
from django.db import connection, transaction

from incidents.cache import StampedCache
from incidents.geo import WGS84, geog
from incidents.locate.gazetteer import street_fingerprint
from incidents.models import LocationMethod, Post, PostState, PostWorksZone, StreetSegment, WorksZone
from incidents.pipeline.totals import refresh_incidents

POST = Post._meta.db_table
SEGMENT = StreetSegment._meta.db_table
WORKS = WorksZone._meta.db_table
POST_WORKS = PostWorksZone._meta.db_table

# Posts relinked per transaction by relink_incidents(): bounded memory and lock time.
RELINK_CHUNK = 5000


# Nearest street segment of each point (and street named) already linked, for the streets loaded now. Many
# posts share a point (those located to a street, a crossing or a landmark), so most of a
# batch's points were linked before. Emptied when the streets or the maximum distance
# change, and when it grows past this many points.
_segment_cache: StampedCache[dict[tuple[tuple[float, float], str], tuple[int | None, float | None]]] = StampedCache()
SEGMENT_CACHE_MAX_POINTS = 200_000
# How far from a point its named street is looked for. The locator put the point on that
# street (a street, a crossing), or beside it within the extent of the place it named (a
# square's church, a station): never farther than the largest places it locates to.
NAMED_STREET_REACH_M = 500.0


def nearest_segments(
    cursor, points: Sequence[tuple[float, float]], streets: Sequence[str] | None = None
) -> list[tuple[int | None, float | None]]:
    """``(segment id, distance in metres)`` of the nearest segment to each ``(lon, lat)``, or ``(None, None)``.

    ``streets``, one per point when given, names the street (normalised name, or ``""``)
    a point was located on: its nearest segment of that street is taken when one is
    within :data:`NAMED_STREET_REACH_M`. A crossing or a street's point is as near the other street's
    segment at a junction, and the post is about the street it named.

    Asked once per distinct point and street not seen before: by the pipeline for the
    posts it places, and by :func:`link_posts` when streets changed. Retired segments are
    left out: new links, and links refreshed after an import, go to current streets.
    """
    if not points:
        return []
    keys = list(zip(points, streets, strict=True)) if streets is not None else [(point, "") for point in points]
    segment_m = settings.INCIDENTS_SEGMENT_MAX_DISTANCE_M
    nearest = _segment_cache.get((*street_fingerprint(), segment_m), dict)
    if len(nearest) > SEGMENT_CACHE_MAX_POINTS:
        nearest.clear()
    # Answers are collected here, not read back from the cache: another thread of the process
    # (ingest's store-ahead thread and the processing one) may empty it meanwhile.
    answers: dict[tuple[tuple[float, float], str], tuple[int | None, float | None]] = {}
    missing = []
    for key in sorted(set(keys)):
        if (known := nearest.get(key)) is not None:
            answers[key] = known
        else:
            missing.append(key)
    if missing:
        here = "ST_SetSRID(ST_MakePoint(q.lon, q.lat), 4326)"

        def near(metres: str) -> str:
            return f"ST_DWithin({geog('s.geom')}, {geog(here)}, {metres}) AND s.retired_at IS NULL"

        query = f"""
            SELECT q.n, COALESCE(named.id, nearest.id), COALESCE(named.distance_m, nearest.distance_m)
            FROM unnest(%(lon)s::float8[], %(lat)s::float8[], %(street)s::varchar[])
                 WITH ORDINALITY AS q(lon, lat, street, n)
            LEFT JOIN LATERAL (
                -- The street's few segments by the name index (OFFSET 0 keeps the planner from
                -- scanning the spatial index around the point instead), then measured.
                SELECT s.id, ST_Distance({geog("s.geom")}, {geog(here)}) AS distance_m
                FROM (SELECT * FROM {SEGMENT} WHERE q.street <> '' AND name_normalized = q.street OFFSET 0) s
                WHERE {near("%(named_m)s")}
                ORDER BY distance_m, s.id
                LIMIT 1
            ) named ON true
            LEFT JOIN LATERAL (
                SELECT s.id, ST_Distance({geog("s.geom")}, {geog(here)}) AS distance_m
                FROM {SEGMENT} s
                WHERE named.id IS NULL AND {near("%(segment_m)s")}
                ORDER BY {geog("s.geom")} <-> {geog(here)}, s.id
                LIMIT 1
            ) nearest ON true
        """
        params = {
            "lon": [lon for (lon, _), _ in missing],
            "lat": [lat for (_, lat), _ in missing],
            "street": [street for _, street in missing],
            "segment_m": segment_m,
            "named_m": max(segment_m, NAMED_STREET_REACH_M),
        }
        # Compiling (JIT) this short per-point probe costs more than running it; decide() runs
        # it outside any transaction, hence one of its own for SET LOCAL.
        with transaction.atomic():
            cursor.execute("SET LOCAL jit = off")
            cursor.execute(query, params)
            found = {n: (segment_id, distance) for n, segment_id, distance in cursor.fetchall()}
        for n, key in enumerate(missing, start=1):
            answers[key] = nearest[key] = found.get(n, (None, None))
    return [answers[key] for key in keys]


_ACTIVE = """
    w.starts_at <= {at_latest} + %(grace)s
    -- the effective end, as in incidents.models.works.effective_end()
    AND (LEAST(w.ends_at, w.withdrawn_at) IS NULL OR LEAST(w.ends_at, w.withdrawn_at) >= {at_earliest} - %(grace)s)
"""


def _works_params() -> dict:
    return {
        "located": PostState.LOCATED,
        "works_m": settings.INCIDENTS_WORKS_RADIUS_M,
        "grace": dt.timedelta(hours=settings.INCIDENTS_WORKS_GRACE_HOURS),
    }


def link_works(cursor, post_ids: Sequence[int]) -> None:
    """(Re)create the works links of the located posts among ``post_ids``, with their distances."""
    post_ids = list(post_ids)
    cursor.execute(f"DELETE FROM {POST_WORKS} WHERE post_id = ANY(%s)", [post_ids])
    _insert_works_links(cursor, POST, "q.id = ANY(%(ids)s)", {"ids": post_ids, **_works_params()})


def link_batch_works(cursor, relation: str, posted_at: Sequence[dt.datetime]) -> None:
    """:func:`link_works` for the located posts of the pipeline's batch table, posted at ``posted_at``.

    Skipped when no works zone can have been active at any of those times: most batches
    of a city with few works, or posts replayed from a period no works file covers.
    """
    # Pending posts have no links yet; a post processed again keeps none of its old ones.
    cursor.execute(f"DELETE FROM {POST_WORKS} l USING {relation} q WHERE l.post_id = q.id")
    if not posted_at:
        return
    params = {**_works_params(), "earliest": min(posted_at), "latest": max(posted_at)}
    active = _ACTIVE.format(at_latest="%(latest)s", at_earliest="%(earliest)s")
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {WORKS} w WHERE {active})", params)
    if not cursor.fetchone()[0]:
        return
    _insert_works_links(cursor, relation, "TRUE", params)


def _insert_works_links(cursor, relation: str, where: str, params: dict) -> None:
    """Link the located rows of ``relation`` (as ``q``) matching ``where`` to the works zones
    active at their time within the radius, with their distances."""
    cursor.execute(
        f"""
        INSERT INTO {POST_WORKS} (post_id, works_zone_id, distance_m)
        SELECT q.id, w.id, ST_Distance({geog("w.impact_area")}, {geog("q.location")})
        FROM {relation} q
        JOIN {WORKS} w ON ST_DWithin({geog("w.impact_area")}, {geog("q.location")}, %(works_m)s)
        WHERE {where} AND q.state = %(located)s
          AND {_ACTIVE.format(at_latest="q.posted_at", at_earliest="q.posted_at")}
        """,
        params,
    )


def link_posts(post_ids: Sequence[int]) -> None:
    """Recompute the segment and works links of the located posts among ``post_ids`` (caller's transaction)."""
    post_ids = list(post_ids)
    with connection.cursor() as cursor:
        # A post placed on a street its text (or its conversation) named stays on a segment of that street.
        cursor.execute(
            f"""
            SELECT p.id, ST_X(p.location), ST_Y(p.location),
                   CASE WHEN p.location_method = ANY(%s) THEN COALESCE(s.name_normalized, '') ELSE '' END
            FROM {POST} p LEFT JOIN {SEGMENT} s ON s.id = p.segment_id
            WHERE p.id = ANY(%s) AND p.state = %s
            """,
            [[LocationMethod.TEXT, LocationMethod.THREAD], post_ids, PostState.LOCATED],
        )
        located = cursor.fetchall()
        segments = nearest_segments(
            cursor, [(lon, lat) for _, lon, lat, _ in located], [street for *_, street in located]
        )
        cursor.execute(
            f"""
            UPDATE {POST} p SET segment_id = n.segment_id, segment_distance_m = n.distance_m
            FROM unnest(%s::bigint[], %s::bigint[], %s::float8[]) AS n(id, segment_id, distance_m)
            WHERE p.id = n.id
            """,
            [
                [post_id for post_id, *_ in located],
                [segment_id for segment_id, _ in segments],
                [distance for _, distance in segments],
            ],
        )
        link_works(cursor, post_ids)


@dataclass(slots=True)
class RelinkReport:
    posts: int = 0
    incidents: int = 0


Extent = GEOSGeometry | tuple[float, float, float, float]


def _extent_geometry(extent: Extent) -> GEOSGeometry:
    if isinstance(extent, GEOSGeometry):
        geometry = extent.clone()
        if geometry.srid is None:
            geometry.srid = WGS84
        elif geometry.srid != WGS84:
            geometry.transform(WGS84)
        return geometry
    min_lon, min_lat, max_lon, max_lat = (float(value) for value in extent)
    return Polygon.from_bbox((min_lon, min_lat, max_lon, max_lat))


def affected_post_ids(
    *,
    extent: Extent | None = None,
    segment_ids: Iterable[int] | None = None,
    works_zone_ids: Iterable[int] | None = None,
) -> list[int]:
    """Located posts whose links may change after streets or works changed (all of them when nothing is said)."""
    segment_m = settings.INCIDENTS_SEGMENT_MAX_DISTANCE_M
    works_m = settings.INCIDENTS_WORKS_RADIUS_M
    conditions: list[str] = []
    params: dict[str, object] = {"located": PostState.LOCATED}
    if extent is not None:
        geometry = _extent_geometry(extent)
        conditions.append(f"ST_DWithin({geog('p.location')}, {geog('ST_GeomFromEWKT(%(extent)s)')}, %(reach)s)")
        params.update(extent=geometry.ewkt, reach=max(segment_m, works_m))
    if segment_ids is not None:
        conditions.append(
            f"""(p.segment_id = ANY(%(segments)s) OR EXISTS (
                SELECT 1 FROM {SEGMENT} s WHERE s.id = ANY(%(segments)s)
                AND ST_DWithin({geog("s.geom")}, {geog("p.location")}, %(segment_m)s)))"""
        )
        params.update(segments=list(segment_ids), segment_m=segment_m)
    if works_zone_ids is not None:
        conditions.append(
            f"""(EXISTS (SELECT 1 FROM {POST_WORKS} l WHERE l.post_id = p.id AND l.works_zone_id = ANY(%(works)s))
                OR EXISTS (SELECT 1 FROM {WORKS} w WHERE w.id = ANY(%(works)s)
                AND ST_DWithin({geog("w.impact_area")}, {geog("p.location")}, %(works_m)s)))"""
        )
        params.update(works=list(works_zone_ids), works_m=works_m)
    where = " OR ".join(conditions) if conditions else "true"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT p.id FROM {POST} p WHERE p.state = %(located)s AND ({where}) ORDER BY p.id", params)
        return [post_id for (post_id,) in cursor.fetchall()]


def relink_incidents(
    *,
    extent: Extent | None = None,
    segment_ids: Iterable[int] | None = None,
    works_zone_ids: Iterable[int] | None = None,
) -> RelinkReport:
    """Recompute the links of posts near what an import changed, then their incidents.

    Give what the importer knows: the ``extent`` it covered (a WGS84 geometry or a
    ``(min_lon, min_lat, max_lon, max_lat)`` box — deleted rows can only be found
    this way), and/or the ids of segments or works zones it created or changed. With
    nothing at all, every located post is relinked; an empty list means nothing
    changed. Incident grouping is kept (operators may be working on them); totals,
    segment, works links and priority are recomputed.
    """
    post_ids = affected_post_ids(extent=extent, segment_ids=segment_ids, works_zone_ids=works_zone_ids)
    report = RelinkReport(posts=len(post_ids))
    incidents: set[int] = set()
    for start in range(0, len(post_ids), RELINK_CHUNK):
        chunk = post_ids[start : start + RELINK_CHUNK]
        with transaction.atomic():
            link_posts(chunk)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT DISTINCT incident_id FROM {POST} WHERE id = ANY(%s) AND incident_id IS NOT NULL", [chunk]
                )
                chunk_incidents = [incident_id for (incident_id,) in cursor.fetchall()]
            refresh_incidents(chunk_incidents)
            incidents.update(chunk_incidents)
    report.incidents = len(incidents)
    return report
