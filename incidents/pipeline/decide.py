"""
Decide what each post is about and where it lies: the per-post work, behind :func:`decide`.

For each post, in this order:

1. what the stages see of it (:func:`~incidents.pipeline.columns.stage_record`);
2. its category: the reporter's own (an Open311 service code), or the classifier's
   (:mod:`incidents.classify`);
3. its location, for relevant posts only (:mod:`incidents.locate`): locating is the
   costly step, and an off-topic post needs no place;
4. its placement: inside the service area or not (:mod:`incidents.pipeline.areas`), and
   the nearest street segment of a post inside it, on the street its text named if any
   (:func:`incidents.pipeline.link.nearest_segments`).

It only reads the database, so ingest runs it ahead, in the thread that stores the next
batch, while a worker runs it on the posts it reads back: both decide a post the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.db import connection

from incidents.categories import Category
from incidents.classify.lexicon import classify_many
from incidents.classify.result import Classification
from incidents.locate.locator import Locator
from incidents.locate.result import Location
from incidents.pipeline.areas import in_service_area
from incidents.pipeline.columns import stage_record
from incidents.pipeline.link import nearest_segments
from incidents.sources.record import PostRecord

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
    return {
        post_id: (record, decision, placement)
        for post_id, record, decision, placement in zip(post_ids, records, decisions, placements, strict=True)
    }


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
    relevant = [index for index, classification in enumerate(classifications) if classification.is_relevant]
    locations: list[Location | None] = [None] * len(records)
    if relevant:
        found = Locator.from_database().locate_many([records[index] for index in relevant])
        for index, location in zip(relevant, found, strict=True):
            locations[index] = location
    return list(zip(classifications, locations, strict=True))


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
