"""
What the HTTP adapters share: the REST API (``rest.py``, ``triage.py``), the OGC API
(``ogc/``) and Open311 (``open311/``).

The read model (:mod:`incidents.publish`) says what is published; this module turns
requests into its arguments and its answers into responses, the same way for every
protocol: ids in URLs (a bad one is a 404, never a 500), query parameters (an unknown,
empty or unreadable one is a 400 with a message per parameter), who may write, the media
type of a GeoJSON answer, and conditional feature-collection responses: the number of
matches and their latest change make the ``ETag`` and ``Last-Modified`` validators, so
a harvester polling with ``If-None-Match``/``If-Modified-Since`` gets ``304 Not
Modified`` before any feature is fetched.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

from django import forms
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from rest_framework import permissions
from rest_framework.exceptions import ValidationError

from incidents.api.pagination import Page
from incidents.api.renderers import GEOJSON, STREAM_CHUNK, csv_response, feature_collection, streamed_feature_collection
from incidents.publish.crs import CRS, CRS84
from incidents.publish.features import Matched, match, sort_after_filtering
from incidents.publish.filters import FILTERSETS, MAX_ID
from incidents.publish.layers import Layer
from incidents.publish.privacy import sees_personal_data

# --- Ids, permissions, media types ------------------------------------------------------


class IsStaffOrReadOnly(permissions.BasePermission):
    """Anyone reads; only staff (token or session) write."""

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


def parse_id(value) -> int:
    """A feature id from the URL; anything that cannot be one is a 404, never a 500."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Http404 from None
    if not 1 <= number <= MAX_ID:
        raise Http404
    return number


def media_type(request) -> str:
    return request.accepted_renderer.media_type if request.accepted_renderer.format != "csv" else GEOJSON


# --- Query parameters -----------------------------------------------------------------


def reject_unknown(params, allowed: Iterable[str]) -> None:
    """Refuse query parameters nobody reads, so a typo never widens a query silently.

    Also refuse empty values (a parameter given blank is a mistake to report, not a
    filter to drop) and NUL characters, which PostgreSQL cannot take in a string.
    """
    if hasattr(params, "lists"):
        for name, values in params.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                raise ValidationError({name.replace("\x00", ""): [_("Null characters are not allowed.")]})
            if any(value == "" for value in values):
                raise ValidationError({name: [_("Give a value, or leave the parameter out.")]})
    allowed = set(allowed)
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise ValidationError(
            {
                name: [
                    _("Unknown parameter; the accepted ones are: %(allowed)s.")
                    % {"allowed": ", ".join(sorted(allowed))}
                ]
                for name in unknown
            }
        )


def apply_filters(layer: Layer, request, queryset: QuerySet, extra_params: Iterable[str] = ()) -> QuerySet:
    """Validate the request's query parameters and return the filtered, ordered queryset."""
    filterset_class = FILTERSETS[layer.name]
    filterset = filterset_class(data=request.query_params, queryset=queryset, request=request)
    reject_unknown(request.query_params, [*filterset.filters, *extra_params])
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    return filterset.qs


def parse_form(form_class: type[forms.Form], params, extra: Iterable[str] = ()) -> dict:
    """Validate ``params`` with ``form_class`` (unknown names refused); raise 400 with the messages."""
    reject_unknown(params, [*form_class.base_fields, "format", *extra])
    form = form_class(data=params)
    if not form.is_valid():
        raise ValidationError(form.errors)
    return form.cleaned_data


# --- Feature collections --------------------------------------------------------------


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
