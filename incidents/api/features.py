"""
Feature collection responses, shared by the REST API and the OGC API.

One aggregate query gives the number of matches and the latest change; they make the
``ETag`` and ``Last-Modified`` validators, so a harvester polling with
``If-None-Match``/``If-Modified-Since`` gets ``304 Not Modified`` before any feature
is fetched. Then one query returns the page's features as GeoJSON texts (or CSV rows).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, F, Max, QuerySet
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date
from django.utils.translation import get_language

from incidents.api.layers import Layer
from incidents.api.pagination import Page
from incidents.api.privacy import sees_personal_data
from incidents.api.renderers import STREAM_CHUNK, csv_response, feature_collection, streamed_feature_collection
from incidents.publish.crs import CRS, CRS84

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


def validators(request, matched: Matched, variant: str) -> tuple[str, int | None]:
    """The ETag (query, matches, latest change, audience, language) and the Last-Modified timestamp."""
    last = matched.last_modified
    key = "|".join(
        [
            request.get_full_path(),
            variant,
            get_language() or "",
            str(matched.total),
            last.isoformat() if last else "-",
            "staff" if sees_personal_data(request) else "public",
        ]
    )
    etag = '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'
    return etag, int(last.timestamp()) if last else None


def set_validators(response, etag: str, last_modified: int | None) -> None:
    response["ETag"] = etag
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified)
    # The same URL answers staff and public differently.
    patch_vary_headers(response, ("Authorization", "Cookie"))


def collection_response(
    request,
    layer: Layer,
    queryset: QuerySet,
    page: Page,
    members: Callable[[Matched, int | None], dict],
    *,
    output: str,
    content_type: str,
    links: Callable[[Matched], dict[str, str | None]] | None = None,
    crs: CRS = CRS84,
) -> HttpResponse:
    """Answer a page (or a full export) of ``queryset`` as GeoJSON or CSV.

    ``members(matched, returned)`` gives the top-level members of the collection;
    ``returned`` is None for a streamed export. ``links`` gives the ``Link`` header
    targets by relation (used by CSV, whose body has no room for them). GeoJSON
    coordinates are in ``crs``.
    """
    matched = match(queryset)
    etag, last_modified = validators(request, matched, output)
    response = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if response is None:
        wanted = None if page.limit is None else page.offset + page.limit
        queryset = sort_after_filtering(queryset, matched.total, wanted)
        if output == "csv":
            rows = page.slice(layer.csv_rows(queryset))
            response = csv_response(layer.csv_columns(), rows.iterator(chunk_size=STREAM_CHUNK), layer.name)
        elif page.is_export:
            features = page.slice(layer.feature_texts(queryset, crs)).iterator(chunk_size=STREAM_CHUNK)
            response = streamed_feature_collection(features, members(matched, None), content_type)
        else:
            features = list(page.slice(layer.feature_texts(queryset, crs)))
            response = feature_collection(features, members(matched, len(features)), content_type)
        response["X-Total-Count"] = str(matched.total)
        if links:
            targets = [f'<{url}>; rel="{rel}"' for rel, url in links(matched).items() if url]
            if targets:
                response["Link"] = ", ".join(targets)
    set_validators(response, etag, last_modified)
    return response
