"""The planners' map (``/``), its list view for keyboard and screen-reader users, and the map's street lines.

The map page is a shell: Leaflet and ``static/incidents/js/map.js`` fetch everything from
the open-data API, so what a planner sees is exactly what the API publishes. The list
view renders the same features on the server from the same filters (the API's filter
sets), for people who cannot use a map.
"""

from __future__ import annotations

import json

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, Prefetch
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from incidents.categories import Affected, Category
from incidents.models import Incident, IncidentStatus, Post, StreetSegment
from incidents.publish.filters import IncidentFilterSet, WorksZoneFilterSet, parse_bbox, parse_datetime_interval
from incidents.publish.impact import rank_zones
from incidents.publish.layers import WORKS_ZONES
from incidents.publish.privacy import scrub_text, sees_personal_data
from incidents.services.incidents import ALLOWED_TRANSITIONS
from incidents.web.state import WINDOWS, MapState
from incidents.web.triage import ACTION_LABELS

LIST_PAGE_SIZE = 50
# Works zones listed in the works impact ranking, as in the map's panel.
RANKING_LIMIT = 10
# Street lines are drawn from this zoom on (a whole city at 13), at most this many per view.
STREETS_MIN_ZOOM = 13
STREETS_LIMIT = 8000


def map_config(request, state: MapState) -> dict:
    """Everything map.js needs: endpoints, basemap, labels, the initial state, the user's rights."""
    return {
        "urls": {
            "clusters": reverse("incident-clusters"),
            "incidents": reverse("incident-list"),
            "works": reverse("works-zone-list"),
            "segments": reverse("street-segment-list"),
            "worksImpact": reverse("works-impact"),
            "worksPage": reverse("web:works", args=[0]).replace("/0/", "/{id}/"),
            "streets": reverse("web:streets"),
            "list": reverse("web:list"),
            "triage": reverse("web:triage"),
        },
        "tiles": {"url": settings.INCIDENTS_TILE_URL, "attribution": settings.INCIDENTS_TILE_ATTRIBUTION},
        "center": list(settings.INCIDENTS_MAP_CENTER),
        "zoom": settings.INCIDENTS_MAP_ZOOM,
        "streetsMinZoom": STREETS_MIN_ZOOM,
        "windows": list(WINDOWS),
        "categories": [{"code": code, "label": str(label)} for code, label in Category.choices],
        "statuses": [{"code": code, "label": str(label)} for code, label in IncidentStatus.choices],
        "affects": [{"code": code, "label": str(label)} for code, label in Affected.choices],
        "staff": sees_personal_data(request),
        "transitions": {status: sorted(allowed) for status, allowed in ALLOWED_TRANSITIONS.items()},
        "actions": {status: str(label) for status, label in ACTION_LABELS.items()},
        "state": state.as_json(),
    }


@require_GET
def map_view(request):
    state = MapState.from_query(request.GET)
    return render(request, "incidents/web/map.html", {"config": map_config(request, state), "state": state})


def _filtered(filterset_class, params: dict, queryset):
    filterset = filterset_class(data=params, queryset=queryset)
    # The state was validated when it was parsed: an invalid filter here is a bug, so fail loudly.
    if not filterset.is_valid():
        raise ValueError(filterset.errors)
    return filterset.qs


@require_GET
def list_view(request):
    """The map's features as lists: incidents reported in the window, works zones active that day."""
    state = MapState.from_query(request.GET)
    staff = sees_personal_data(request)
    posts = Post.objects.order_by("posted_at", "id").only(
        "incident", "text", "posted_at", "source", "author_handle", "url", "media_urls"
    )
    incidents = _filtered(
        IncidentFilterSet,
        state.incident_params(),
        Incident.objects.with_near_works().select_related("segment", "district"),
    ).prefetch_related(Prefetch("posts", queryset=posts))
    page = Paginator(incidents, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    for incident in page:
        for post in incident.posts.all():
            post.shown_text = post.text if staff else scrub_text(post.text)
    works = _filtered(WorksZoneFilterSet, state.works_params(), WORKS_ZONES.queryset()).annotate(
        incident_total=Count("incidents")
    )
    start, end = parse_datetime_interval(state.incident_params()["datetime"])
    ranking, _total = rank_zones(
        start,
        end,
        settings.INCIDENTS_WORKS_RADIUS_M,
        categories=state.categories or None,
        bbox=state.bbox,
        limit=RANKING_LIMIT,
    )
    return render(
        request,
        "incidents/web/list.html",
        {
            "state": state,
            "page": page,
            "works": works[:200],
            "works_total": works.count(),
            "ranking": [json.loads(feature) for feature in ranking],
            "staff": staff,
            "categories": Category.choices,
            "statuses": IncidentStatus.choices,
            "windows": WINDOWS,
            "map_query": state.query(),
        },
    )


def streets_sql() -> str:
    table = StreetSegment._meta.db_table
    return f"""
        SELECT coalesce(string_agg(feature, ','), '') FROM (
            SELECT '{{"type":"Feature","id":' || id || ',"properties":{{}},"geometry":'
                   || ST_AsGeoJSON(ST_Simplify(geom, %(tolerance)s), %(decimals)s) || '}}' AS feature
            FROM {table}
            WHERE geom && ST_MakeEnvelope(%(w)s, %(s)s, %(e)s, %(n)s, 4326) AND retired_at IS NULL
            LIMIT %(limit)s
        ) AS features
    """


@require_GET
@cache_control(max_age=300)
def streets_view(request):
    """Street lines of a view, simplified to the zoom's pixel: the map's own basemap when tiles fail."""
    try:
        west, south, east, north = parse_bbox(request.GET.get("bbox", ""))
        zoom = int(request.GET.get("zoom", ""))
    except (forms.ValidationError, ValueError):
        return HttpResponseBadRequest("bbox=minlon,minlat,maxlon,maxlat and zoom=0..22 are required.")
    if not 0 <= zoom <= 22:
        return HttpResponseBadRequest("zoom must lie in 0..22.")
    body = ""
    if zoom >= STREETS_MIN_ZOOM:
        params = {
            "tolerance": 360.0 / (256 * 2**zoom),  # one pixel, in degrees
            "decimals": 6 if zoom >= 17 else 5,
            "w": west, "s": south, "e": east, "n": north,
            "limit": STREETS_LIMIT,
        }  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute(streets_sql(), params)
            body = cursor.fetchone()[0]
    return HttpResponse('{"type":"FeatureCollection","features":[' + body + "]}", content_type="application/geo+json")
