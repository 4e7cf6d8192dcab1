"""
Decide what each post is about and where it lies: the per-post work, behind :func:`decide`.

For each post, in this order:

1. what the stages see of it (:func:`~incidents.pipeline.columns.stage_record`);
2. its category: the reporter's own (an Open311 service code), or the classifier's
   (:mod:`incidents.classify`);
3. its location, for relevant posts only (:mod:`incidents.locate`): locating is the
   costly step, and an off-topic post needs no place. A post located by a name that holds
   category words ("rue des Trois-Pigeons", "Pont-Neuf") is classified again with the name
   read as a mere place (:meth:`~incidents.classify.lexicon.Lexicon.classify_named`);
4. its placement: inside the service area or not (:mod:`incidents.pipeline.areas`), and
   the nearest street segment of a post inside it, on the street its text named if any
   (:func:`incidents.pipeline.link.nearest_segments`).

It only reads the database, so ingest runs it ahead, in the thread that stores the next
batch, while a worker runs it on the posts it reads back: both decide a post the same way.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

from django.conf import settings
from django.db import connection

from incidents.categories import Category, FollowUp
from incidents.classify.lexicon import classify_many, get_lexicon
from incidents.classify.result import RELEVANCE_LINE, Classification
from incidents.geo import LocalFrame, geog
from incidents.locate.locator import Locator
from incidents.locate.result import Location
from incidents.models import Incident
from incidents.models.incidents import OPEN_STATUSES
from incidents.pipeline.areas import in_service_area
from incidents.pipeline.columns import stage_record
from incidents.pipeline.link import nearest_segments
from incidents.pipeline.thread import references
from incidents.sources.record import PostRecord

# Follow-ups that say a problem is there (still) or was (fixed): with a street, a report.
NEWS_OF_A_PROBLEM = frozenset({FollowUp.STILL, FollowUp.FIXED})
FOLLOW_UP_AT_A_STREET = "relevant:follow-up at a named street"
FOLLOWS_UP = "follows up the open incident there"
# How far an incident's point may be from where it is (a whole street: its half length).
FARTHEST_INCIDENT_ACCURACY_M = 1_500.0
INCIDENT = Incident._meta.db_table
Decision = tuple[Classification, Location | None]
# Where a decided post lies: inside the service area or not, and its nearest segment (see _place()).
Placement = tuple[bool, tuple[int | None, float | None]]
NOWHERE: Placement = (False, (None, None))
# What is known of a stored post before its batch is processed.
Decided = tuple[PostRecord, Decision, Placement]


def decide(posts: Mapping[int, PostRecord]) -> dict[int, Decided]:
    """Classify, locate and place ``posts`` (records by post id); return what was decided, by post id."""
    if not posts:
        return {}
    post_ids = list(posts)
    records = [stage_record(posts[post_id]) for post_id in post_ids]
    decisions = _classify_and_locate(records)
    with connection.cursor() as cursor:
        placements = _place(cursor, decisions)
        decisions = _with_known_problems(cursor, records, decisions, placements)
    return {
        post_id: (record, decision, placement)
        for post_id, record, decision, placement in zip(post_ids, records, decisions, placements, strict=True)
    }


def _with_known_problems(
    cursor, records: Sequence[PostRecord], decisions: list[Decision], placements: Sequence[Placement]
) -> list[Decision]:
    """``decisions``, where a follow-up that names no problem takes the category of the one it follows up.

    "Trois semaines plus tard rien n'a bougé rue des Trois-Pigeons" is about the problem
    already reported there: the nearest open incident (as grouping sees it: open, posted to
    in the last ``INCIDENTS_GROUP_OPEN_DAYS``) whose point is within reach of the post's
    (the two accuracies and ``INCIDENTS_GROUP_DISTANCE_M``). Its category lets grouping put
    the post in that incident. A problem reported in the same batch is not written yet: the
    nearest report of the batch within reach gives the category then (:func:`_reported_in_batch`);
    with neither, the post stays ``other``.
    """
    wanted = [
        index
        for index, ((read, location), (inside, _)) in enumerate(zip(decisions, placements, strict=True))
        if inside and read.category == Category.OTHER and FOLLOW_UP_AT_A_STREET in read.evidence
    ]
    if not wanted:
        return decisions
    window = dt.timedelta(days=settings.INCIDENTS_GROUP_OPEN_DAYS)
    points = [decisions[index][1] for index in wanted]
    cursor.execute(
        f"""
        SELECT q.n, i.category
        FROM (
            SELECT u.*, {geog("ST_SetSRID(ST_MakePoint(u.lon, u.lat), 4326)")} AS here
            FROM unnest(%(lon)s::float8[], %(lat)s::float8[], %(accuracy)s::float8[], %(at)s::timestamptz[])
                 WITH ORDINALITY u(lon, lat, accuracy, at, n)
        ) q
        CROSS JOIN LATERAL (
            SELECT i.category FROM (
                SELECT i.category, i.last_post_at, i.location_accuracy_m,
                       ST_Distance({geog("i.location")}, q.here) AS distance_m
                FROM {INCIDENT} i
                WHERE ST_DWithin({geog("i.location")}, q.here, q.accuracy + %(near)s + %(farthest)s)
                  AND i.status = ANY(%(open)s) AND i.last_post_at >= q.at - %(window)s AND i.first_post_at <= q.at
            ) i
            WHERE i.distance_m <= q.accuracy + %(near)s + coalesce(i.location_accuracy_m, 0)
            ORDER BY i.distance_m, i.last_post_at DESC
            LIMIT 1
        ) i
        """,
        {
            "lon": [location.lon for location in points],
            "lat": [location.lat for location in points],
            "accuracy": [location.accuracy_m or 0.0 for location in points],
            "at": [records[index].posted_at for index in wanted],
            "near": settings.INCIDENTS_GROUP_DISTANCE_M,
            "farthest": FARTHEST_INCIDENT_ACCURACY_M,
            "open": sorted(OPEN_STATUSES),
            "window": window,
        },
    )
    found = {wanted[n - 1]: category for n, category in cursor.fetchall()}
    for index in wanted:
        if index not in found and (category := _reported_in_batch(index, records, decisions, placements)):
            found[index] = category
    decisions = list(decisions)
    for index, category in found.items():
        read, location = decisions[index]
        decisions[index] = (
            replace(read, category=Category(category), evidence=(*read.evidence, f"{category}:{FOLLOWS_UP}")),
            location,
        )
    return decisions


def _reported_in_batch(
    index: int, records: Sequence[PostRecord], decisions: Sequence[Decision], placements: Sequence[Placement]
) -> str | None:
    """The category of the nearest report of the same batch that follow-up ``index`` may follow up.

    Posted before it, inside the open window, placed, naming a problem, and within reach
    as for an incident (the two accuracies and ``INCIDENTS_GROUP_DISTANCE_M``; distances
    in a local frame: a batch lies within a city). Not seen by the query above: the batch
    is not written yet.
    """
    _, here = decisions[index]
    at = records[index].posted_at
    earliest = at - dt.timedelta(days=settings.INCIDENTS_GROUP_OPEN_DAYS)
    frame = LocalFrame(here.lon, here.lat)
    best: tuple[float, str] | None = None
    for other, ((read, there), (inside, _)) in enumerate(zip(decisions, placements, strict=True)):
        if other == index or not inside or read.category == Category.OTHER or not read.is_relevant:
            continue
        if not earliest <= records[other].posted_at <= at:
            continue
        distance = math.hypot(*frame.to_xy(there.lon, there.lat))
        reach = (here.accuracy_m or 0.0) + (there.accuracy_m or 0.0) + settings.INCIDENTS_GROUP_DISTANCE_M
        if distance <= reach and (best is None or distance < best[0]):
            best = (distance, str(read.category))
    return best[1] if best is not None else None


def is_found(location: Location | None) -> bool:
    """Whether ``location`` is a point (a located post)."""
    return location is not None and location.found and location.lon is not None and location.lat is not None


def _declared(record: PostRecord, read: Classification) -> Classification:
    """The reporter's own category (Open311 service code), relevant by definition; else what the text reads as.

    Who is affected still comes from the text: a form's category does not say it.
    """
    if not record.declared_category:
        return read
    return Classification(
        relevance=1.0,
        category=Category(record.declared_category),
        score=1.0,
        evidence=("declared by the reporter",),
        affects=read.affects,
    )


def _classify_and_locate(records: Sequence[PostRecord]) -> list[Decision]:
    """Classify ``records`` and locate the relevant ones, in memory (the gazetteer is built once per process)."""
    classifications = [
        _declared(record, classification)
        for record, classification in zip(
            records, classify_many((record.text, record.language) for record in records), strict=True
        )
    ]
    to_locate = [
        index
        for index, (record, classification) in enumerate(zip(records, classifications, strict=True))
        if classification.is_relevant or _news_of_a_problem(record, classification)
    ]
    locations: list[Location | None] = [None] * len(records)
    if to_locate:
        found = Locator.from_database().locate_many([records[index] for index in to_locate])
        for index, location in zip(to_locate, found, strict=True):
            locations[index] = location
            classifications[index] = read_with_place(records[index], classifications[index], location)
    return list(zip(classifications, locations, strict=True))


def _news_of_a_problem(record: PostRecord, read: Classification) -> bool:
    """Whether ``read`` says a problem is still there or was fixed ("toujours rien rue X"), in a post
    that answers no other: a reply's place and relevance come from its conversation (thread.py)."""
    return read.follow_up in NEWS_OF_A_PROBLEM and not read.off_topic and not references(record)


def read_with_place(record: PostRecord, classification: Classification, location: Location) -> Classification:
    """``classification`` of ``record``, read again without the names it was located by that hold category words.

    The words of the street or place a post names are its address, not its problem.
    """
    if not location.names or record.declared_category:
        return classification
    named = get_lexicon().classify_named(record.text, record.language, location.names)
    read = classification if named is None else named
    if not read.is_relevant and _news_of_a_problem(record, read):
        # "Trois semaines plus tard rien n'a bougé rue des Trois-Pigeons": a problem still there
        # (or fixed) at a street is a report, though no word names the problem.
        return replace(read, relevance=RELEVANCE_LINE, evidence=(*read.evidence, FOLLOW_UP_AT_A_STREET))
    return read


def _place(cursor, decisions: Sequence[Decision]) -> list[Placement]:
    """Whether each relevant, located post of ``decisions`` is in the service area, and its nearest segment.

    Posts not relevant or not located, and posts outside the area, get :data:`NOWHERE`.
    """
    placed = [
        (location.lon, location.lat) if classification.is_relevant and is_found(location) else None
        for classification, location in decisions
    ]
    points = [point for point in placed if point is not None]
    in_area = iter(in_service_area(points))
    inside = [next(in_area) if point is not None else False for point in placed]
    chosen = [
        (point, location.street)
        for point, ok, (_, location) in zip(placed, inside, decisions, strict=True)
        if ok and location is not None
    ]
    segments = iter(nearest_segments(cursor, [point for point, _ in chosen], [street for _, street in chosen]))
    return [(True, next(segments)) if ok else NOWHERE for ok in inside]
