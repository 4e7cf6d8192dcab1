"""
OGC API – Features – Part 1: Core, at ``/ogc/``.

Collections are the published layers (``incidents``, ``works-zones``,
``street-segments``); items are the same SQL-built GeoJSON features as the REST API.
Every resource answers JSON (``f=json``, the default for clients) or HTML (``f=html``,
or a browser's ``Accept: text/html``). Unknown query parameters answer 400, as do bad
``bbox``/``datetime``/``limit`` values, with an OGC exception body.
"""

from __future__ import annotations

import datetime as dt
import json

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Max, Min
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from incidents.api.http import collection_response, parse_id, reject_unknown
from incidents.api.pagination import page_url, parse_page
from incidents.api.renderers import GEOJSON
from incidents.api.schema import BBOX, DATETIME, OFFSET, OpenDataAutoSchema, ref
from incidents.publish.features import Matched
from incidents.publish.filters import filter_bbox, filter_datetime, parse_bbox, parse_datetime_interval
from incidents.publish.layers import LAYERS, Layer

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
JSON = "application/json"
HTML = "text/html"
ITEM_PARAMS = ("bbox", "datetime", "limit", "offset", "f")
# Collection extents are costly on a million rows and change slowly: cache them this long, in seconds.
EXTENT_CACHE_SECONDS = 300


class FirstRendererNegotiation(BaseContentNegotiation):
    """Never 406: the views choose JSON or HTML themselves from ``f`` and ``Accept``."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class OGCView(APIView):
    """Base of the OGC endpoints: format choice, parameter checks and OGC exception bodies."""

    schema = OpenDataAutoSchema()
    renderer_classes = [JSONRenderer]
    content_negotiation_class = FirstRendererNegotiation
    allowed_params: tuple[str, ...] = ("f",)

    def output(self, request) -> str:
        """``json`` or ``html``, from ``f`` first, then from the Accept header."""
        value = request.query_params.get("f")
        if value is not None:
            if value not in ("json", "html"):
                raise exceptions.ValidationError({"f": [_("Use f=json or f=html.")]})
            return value
        accept = request.headers.get("Accept", "")
        wants_html = HTML in accept and "json" not in accept
        return "html" if wants_html else "json"

    def check_params(self, request) -> None:
        reject_unknown(request.query_params, self.allowed_params)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.check_params(request)

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        codes = {400: "InvalidParameterValue", 404: "NotFound", 429: "TooManyRequests", 405: "MethodNotAllowed"}
        code = codes.get(response.status_code, "ServerError")
        detail = response.data
        if isinstance(detail, dict) and "detail" not in detail:
            description = "; ".join(f"{name}: {' '.join(map(str, msgs))}" for name, msgs in detail.items())
        else:
            description = str(detail.get("detail", detail) if isinstance(detail, dict) else detail)
        response.data = {"code": code, "description": description}
        return response

    def links(self, request, path: str, *, title: str, json_type: str = JSON) -> list[dict]:
        url = request.build_absolute_uri(path)
        current = self.output(request)
        return [
            {"href": f"{url}?f=json", "rel": "self" if current == "json" else "alternate", "type": json_type,
             "title": title + _(" (JSON)")},
            {"href": f"{url}?f=html", "rel": "self" if current == "html" else "alternate", "type": HTML,
             "title": title + _(" (HTML)")},
        ]  # fmt: skip

    def answer(self, request, body: dict, template: str, media_type: str = JSON, **context) -> HttpResponse:
        if self.output(request) == "html":
            return render(request, f"incidents/ogc/{template}", {"doc": body, **context})
        return HttpResponse(json.dumps(body, default=str), content_type=media_type)


def get_layer(collection_id: str) -> Layer:
    layer = LAYERS.get(collection_id)
    if layer is None:
        raise Http404(_("No collection %(id)r.") % {"id": collection_id})
    return layer


def layer_extent(layer: Layer) -> dict:
    """Spatial (bbox) and temporal extent of a layer, cached for a few minutes."""
    key = f"ogc-extent:{layer.name}"
    extent = cache.get(key)
    if extent is not None:
        return extent
    table = layer.model._meta.db_table
    column = layer.model._meta.get_field(layer.geometry).column
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
            f"FROM (SELECT ST_Extent({column}) AS e FROM {table}) AS x"
        )
        box = cursor.fetchone()
    bbox = [round(v, 6) for v in box] if box and box[0] is not None else [-180, -90, 180, 90]
    extent = {"spatial": {"bbox": [bbox], "crs": CRS84}}
    if layer.temporal is not None:
        start, end = layer.temporal
        bounds = layer.queryset().aggregate(start=Min(start), end=Max(end))
        interval = [bounds["start"].isoformat() if bounds["start"] else None,
                    bounds["end"].isoformat() if bounds["end"] else None]  # fmt: skip
        extent["temporal"] = {"interval": [interval], "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    cache.set(key, extent, EXTENT_CACHE_SECONDS)
    return extent


def collection_document(view: OGCView, request, layer: Layer) -> dict:
    path = reverse("ogc-collection", args=[layer.name])
    items = request.build_absolute_uri(reverse("ogc-items", args=[layer.name]))
    return {
        "id": layer.name,
        "title": layer.title,
        "description": layer.description,
        "links": [
            *view.links(request, path, title=layer.title),
            {"href": f"{items}?f=json", "rel": "items", "type": GEOJSON, "title": layer.title},
            {"href": f"{items}?f=html", "rel": "items", "type": HTML, "title": layer.title},
            {
                "href": "https://opendatacommons.org/licenses/odbl/1-0/",
                "rel": "license",
                "type": HTML,
                "title": "ODbL-1.0",
            },
        ],
        "extent": layer_extent(layer),
        "itemType": "feature",
        "crs": [CRS84],
    }


F_PARAM = OpenApiParameter("f", str, enum=["json", "html"], description="Output format (default JSON).")
HTML_BODY = OpenApiResponse({"type": "string"})


def ogc_schema(summary: str, operation_id: str, component: str, *, media: str = JSON, parameters=(), found=True):
    """The OpenAPI description of an OGC endpoint: JSON (or GeoJSON) and HTML bodies, OGC exceptions."""
    errors = {400: ref("OGCException"), 429: ref("OGCException")}
    if not found:
        errors[404] = ref("OGCException")
    return extend_schema(
        summary=summary,
        operation_id=operation_id,
        parameters=[*parameters, F_PARAM],
        responses={(200, media): ref(component), (200, HTML): HTML_BODY, **errors},
        tags=["ogc"],
    )


class LandingView(OGCView):
    @ogc_schema("OGC API – Features landing page", "ogc_landing", "OGCLandingPage")
    def get(self, request):
        root = reverse("ogc-landing")
        body = {
            "title": _("cityincidents open data"),
            "description": _("Incidents in public space, roadworks and street segments (OGC API – Features)."),
            "links": [
                *self.links(request, root, title=_("This document")),
                {
                    "href": request.build_absolute_uri(reverse("api-schema")) + "?format=json",
                    "rel": "service-desc",
                    "type": "application/vnd.oai.openapi+json;version=3.0",
                    "title": _("The API definition"),
                },
                {
                    "href": request.build_absolute_uri(reverse("api-docs")),
                    "rel": "service-doc",
                    "type": HTML,
                    "title": _("The API documentation"),
                },
                {
                    "href": request.build_absolute_uri(reverse("ogc-conformance")),
                    "rel": "conformance",
                    "type": JSON,
                    "title": _("Conformance classes implemented"),
                },
                {
                    "href": request.build_absolute_uri(reverse("ogc-collections")),
                    "rel": "data",
                    "type": JSON,
                    "title": _("The feature collections"),
                },
            ],
        }
        return self.answer(request, body, "landing.html")


class ConformanceView(OGCView):
    @ogc_schema("Conformance classes", "ogc_conformance", "OGCConformance")
    def get(self, request):
        return self.answer(request, {"conformsTo": CONFORMANCE}, "conformance.html")


class CollectionsView(OGCView):
    @ogc_schema("Feature collections", "ogc_collections", "OGCCollections")
    def get(self, request):
        body = {
            "links": self.links(request, reverse("ogc-collections"), title=_("Collections")),
            "collections": [collection_document(self, request, layer) for layer in LAYERS.values()],
        }
        return self.answer(request, body, "collections.html")


COLLECTION_ID = OpenApiParameter(
    "collection_id", str, OpenApiParameter.PATH, enum=list(LAYERS), description="Collection identifier."
)


class CollectionView(OGCView):
    @ogc_schema("One feature collection", "ogc_collection", "OGCCollection", parameters=[COLLECTION_ID], found=False)
    def get(self, request, collection_id: str):
        return self.answer(request, collection_document(self, request, get_layer(collection_id)), "collection.html")


class ItemsForm(forms.Form):
    bbox = forms.CharField(required=False)
    datetime = forms.CharField(required=False)

    def clean_bbox(self):
        value = self.cleaned_data["bbox"]
        if not value:
            return None
        parts = value.split(",")
        if len(parts) == 6:  # a 3D box: the heights do not matter for our 2D features
            parts = [parts[0], parts[1], parts[3], parts[4]]
        return parse_bbox(",".join(parts))

    def clean_datetime(self):
        value = self.cleaned_data["datetime"]
        return parse_datetime_interval(value) if value else None


class ItemsView(OGCView):
    allowed_params = ITEM_PARAMS

    @ogc_schema(
        "Features of a collection", "ogc_items", "OGCFeatureCollection", media=GEOJSON, found=False,
        parameters=[
            COLLECTION_ID,
            OpenApiParameter("bbox", BBOX, description="minlon,minlat,maxlon,maxlat (CRS84); 6 numbers for 3D."),
            OpenApiParameter("datetime", DATETIME, description="RFC 3339 instant or interval ('..' for an open end)."),
            OpenApiParameter(
                "limit", {"type": "integer", "minimum": 1, "maximum": 10000, "default": 10},
                description="Features per page, 1 to 10000 (default 10).",
            ),
            OpenApiParameter("offset", OFFSET, description="Index of the first feature (default 0)."),
        ],
    )  # fmt: skip
    def get(self, request, collection_id: str):
        layer = get_layer(collection_id)
        form = ItemsForm(data=request.query_params)
        if not form.is_valid():
            raise exceptions.ValidationError(form.errors)
        page = parse_page(
            request.query_params,
            default=settings.INCIDENTS_OGC_PAGE_SIZE,
            maximum=settings.INCIDENTS_OGC_MAX_PAGE_SIZE,
            allow_all=False,
        )
        queryset = layer.queryset()
        if form.cleaned_data["bbox"]:
            queryset = filter_bbox(queryset, layer, form.cleaned_data["bbox"])
        if form.cleaned_data["datetime"]:
            queryset = filter_datetime(queryset, layer, form.cleaned_data["datetime"])
        queryset = queryset.order_by(*layer.default_ordering)
        path = reverse("ogc-items", args=[layer.name])
        output = self.output(request)
        links_of = self.page_links(request, path, page, layer)

        if output == "html":
            total = queryset.count()
            features = [json.loads(text) for text in page.slice(layer.feature_texts(queryset))]
            return render(
                request,
                "incidents/ogc/items.html",
                {"layer": layer, "features": features, "total": total, "links": links_of(total),
                 "columns": [prop.name for prop in layer.properties]},
            )  # fmt: skip

        def members(matched: Matched, returned: int | None) -> dict:
            return {
                "links": links_of(matched.total),
                "numberMatched": matched.total,
                "numberReturned": returned,
                "timeStamp": timezone.now().astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            }

        return collection_response(request, layer, queryset, page, members, output="geojson", content_type=GEOJSON)

    def page_links(self, request, path, page, layer):
        def links(total: int) -> list[dict]:
            result = self.links(request, path, title=layer.title, json_type=GEOJSON)
            for rel, offset in (("next", page.next_offset(total)), ("prev", page.previous_offset())):
                url = page_url(request, offset)
                if url:
                    result.append({"href": url, "rel": rel, "type": GEOJSON, "title": rel})
            result.append({"href": request.build_absolute_uri(reverse("ogc-collection", args=[layer.name])),
                           "rel": "collection", "type": JSON, "title": layer.title})  # fmt: skip
            return result

        return links


class ItemView(OGCView):
    @ogc_schema(
        "One feature", "ogc_item", "OGCFeature", media=GEOJSON, found=False,
        parameters=[COLLECTION_ID, OpenApiParameter("feature_id", str, OpenApiParameter.PATH)],
    )  # fmt: skip
    def get(self, request, collection_id: str, feature_id: str):
        layer = get_layer(collection_id)
        text = layer.feature_texts(layer.queryset().filter(pk=parse_id(feature_id))).first()
        if text is None:
            raise Http404(_("No feature %(id)r in %(collection)s.") % {"id": feature_id, "collection": layer.name})
        feature = json.loads(text)
        path = reverse("ogc-item", args=[layer.name, feature["id"]])
        feature["links"] = [
            *self.links(request, path, title=_("This feature"), json_type=GEOJSON),
            {"href": request.build_absolute_uri(reverse("ogc-collection", args=[layer.name])), "rel": "collection",
             "type": JSON, "title": layer.title},
        ]  # fmt: skip
        return self.answer(request, feature, "item.html", media_type=GEOJSON, layer=layer)
