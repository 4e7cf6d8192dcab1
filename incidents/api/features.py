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
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count, Max, QuerySet
from django.http import HttpResponse
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date

from incidents.api.layers import Layer
from incidents.api.pagination import Page
from incidents.api.privacy import sees_personal_data
from incidents.api.renderers import STREAM_CHUNK, csv_response, feature_collection, streamed_feature_collection


@dataclass(frozen=True)
class Matched:
    total: int
    last_modified: dt.datetime | None


def match(queryset: QuerySet) -> Matched:
    """Count the matching features and find their latest change, in one query."""
    result = queryset.order_by().aggregate(total=Count("pk"), last_modified=Max("updated_at"))
    return Matched(result["total"], result["last_modified"])


def validators(request, matched: Matched, variant: str) -> tuple[str, int | None]:
    """The ETag (query, matches, latest change, audience) and the Last-Modified timestamp."""
    last = matched.last_modified
    key = "|".join(
        [
            request.get_full_path(),
            variant,
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
) -> HttpResponse:
    """Answer a page (or a full export) of ``queryset`` as GeoJSON or CSV.

    ``members(matched, returned)`` gives the top-level members of the collection;
    ``returned`` is None for a streamed export. ``links`` gives the ``Link`` header
    targets by relation (used by CSV, whose body has no room for them).
    """
    matched = match(queryset)
    etag, last_modified = validators(request, matched, output)
    response = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if response is None:
        if output == "csv":
            rows = page.slice(layer.csv_rows(queryset))
            response = csv_response(layer.csv_columns(), rows.iterator(chunk_size=STREAM_CHUNK), layer.name)
        elif page.is_export:
            features = page.slice(layer.feature_texts(queryset)).iterator(chunk_size=STREAM_CHUNK)
            response = streamed_feature_collection(features, members(matched, None), content_type)
        else:
            features = list(page.slice(layer.feature_texts(queryset)))
            response = feature_collection(features, members(matched, len(features)), content_type)
        response["X-Total-Count"] = str(matched.total)
        if links:
            targets = [f'<{url}>; rel="{rel}"' for rel, url in links(matched).items() if url]
            if targets:
                response["Link"] = ", ".join(targets)
    set_validators(response, etag, last_modified)
    return response
