"""
The features matching a query: how many, their latest change, and the plan to fetch a page.

One aggregate query gives the number of matches and their latest change (:func:`match`),
before any feature is fetched: enough for paging totals and for the HTTP validators
(``ETag``, ``Last-Modified``) that let a poller get ``304`` for free. The features
themselves are GeoJSON texts or CSV rows built by PostgreSQL (:mod:`.layers`); an
incident's detail adds its works zones and its posts, as the caller may see them.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, F, Max, QuerySet
from django.db.models.functions import Coalesce

from incidents.models import IncidentWorksZone, Post
from incidents.publish.layers import INCIDENTS, Layer
from incidents.publish.privacy import public_post

# Table sizes (pg_class.reltuples) per process, refreshed this often, in seconds.
_TABLE_ROWS: dict[str, tuple[float, float]] = {}
TABLE_ROWS_TTL = 300


def table_rows(model) -> float:
    """PostgreSQL's estimate of the rows of ``model``'s table (cheap, cached)."""
    table = model._meta.db_table
    cached = _TABLE_ROWS.get(table)
    if cached and time.monotonic() - cached[1] < TABLE_ROWS_TTL:
        return cached[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = %s::regclass", [table])
        row = cursor.fetchone()
    rows = float(row[0]) if row else 0.0
    _TABLE_ROWS[table] = (rows, time.monotonic())
    return rows


def sort_after_filtering(queryset: QuerySet, total: int, wanted: int | None) -> QuerySet:
    """Make PostgreSQL fetch the matches first and then sort them, when they are few.

    With a LIMIT, the planner may walk the index of the sort key and test each row
    against the filters: to find 10 incidents scattered in a small bbox it reads
    thousands of rows (50 ms) where fetching the 1,400 matches and sorting them takes
    2 ms. We know the number of matches already; when ``total² ≤ wanted × table rows``
    (the point where both plans read about as many rows), the sort keys are wrapped in
    ``COALESCE(key, key)`` so no index can provide the order. Otherwise (a large
    share of the table matches) the index walk is the faster plan and is left alone.
    """
    keys = queryset.query.order_by
    if wanted is None or not keys or total * total > wanted * table_rows(queryset.model):
        return queryset
    if not all(isinstance(key, str) and key.lstrip("-") in _plain_fields(queryset.model) for key in keys):
        return queryset
    wrapped = []
    for key in keys:
        name = key.lstrip("-")
        expression = Coalesce(F(name), F(name))
        wrapped.append(expression.desc() if key.startswith("-") else expression.asc())
    return queryset.order_by(*wrapped)


def _plain_fields(model) -> set[str]:
    return (
        {"pk"}
        | {field.name for field in model._meta.concrete_fields}
        | {field.attname for field in model._meta.concrete_fields}
    )


@dataclass(frozen=True)
class Matched:
    total: int
    last_modified: dt.datetime | None


def match(queryset: QuerySet) -> Matched:
    """Count the matching features and find their latest change, in one query."""
    result = queryset.order_by().aggregate(total=Count("pk"), last_modified=Max("updated_at"))
    return Matched(result["total"], result["last_modified"])


# --- What an incident's detail adds to its feature ---------------------------------------


def incident_posts(incident_id: int, *, staff: bool) -> list[dict]:
    """The posts of an incident, oldest first, as the caller may see them."""
    rows = Post.objects.filter(incident_id=incident_id).order_by("posted_at", "id")
    posts = []
    for post in rows:
        posts.append(
            public_post(
                {
                    "source": post.source,
                    "posted_at": post.posted_at.isoformat(),
                    "text": post.text,
                    "language": post.language,
                    "category": post.category,
                    "external_id": post.external_id,
                    "url": post.url,
                    "author_handle": post.author_handle,
                    "author_id": post.author_id,
                    "media_urls": list(post.media_urls),
                    "location": [round(post.location.x, 6), round(post.location.y, 6)] if post.location else None,
                    "raw": post.raw,
                },
                staff=staff,
            )
        )
    return posts


def incident_works_zones(incident_id: int) -> list[dict]:
    """The works zones linked to an incident, nearest first, with their distance in metres."""
    links = (
        IncidentWorksZone.objects.filter(incident_id=incident_id)
        .annotate(title=F("works_zone__title"))
        .order_by("distance_m", "works_zone_id")
    )
    return [{"id": link.works_zone_id, "title": link.title, "distance_m": link.distance_m} for link in links]


def feature_of(layer: Layer, pk: int) -> dict | None:
    """The feature ``pk`` of ``layer`` as the API publishes it, or ``None`` when there is none."""
    text = layer.feature_texts(layer.queryset().filter(pk=pk)).first()
    return json.loads(text) if text is not None else None


def incident_detail(pk: int, *, staff: bool) -> dict | None:
    """What ``/api/incidents/<pk>/`` answers: the incident, its works zones and posts, as ``staff`` or anyone sees them.

    Webhooks and e-mails send this too (anonymously): one incident, one shape, wherever it goes.
    """
    feature = feature_of(INCIDENTS, pk)
    if feature is not None:
        feature["properties"]["works_zones"] = incident_works_zones(feature["id"])
        feature["properties"]["posts"] = incident_posts(feature["id"], staff=staff)
    return feature
