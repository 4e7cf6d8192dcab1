"""
OGC API – Features at ``/ogc/``: Part 1 (Core), Part 2 (CRS by reference), Part 3 (queryables, CQL2 filters).

Collections are the published layers of one geometry type (``incidents``, the works
zones as points, lines, areas and impact areas, ``street-segments``); items are the same
SQL-built GeoJSON features as the REST API. Every resource answers JSON (``f=json``, the
default for clients) or HTML (``f=html``, or a browser's ``Accept: text/html``). Unknown
query parameters answer 400, as do bad ``bbox``/``datetime``/``limit``/``crs``/``filter``
values, with an OGC exception body. Vector tiles are in :mod:`incidents.api.ogc.tiles`.
"""

from __future__ import annotations

import datetime as dt
import json
import math

from django import forms
from django.conf import settings
from django.contrib.gis.db.models import Extent
from django.core.cache import cache
from django.db.models import Max, Min
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from incidents.api.http import collection_response, parse_id, reject_unknown
from incidents.api.pagination import page_url, parse_page
from incidents.api.renderers import GEOJSON
from incidents.api.schema import BBOX, DATETIME, OFFSET, OPENAPI_30_JSON, OpenDataAutoSchema, ref
from incidents.publish import crs as crs_module
from incidents.publish.cql2 import CQL2Error, parse_filter, queryables
from incidents.publish.features import Matched
from incidents.publish.filters import filter_bbox, filter_datetime, parse_bbox, parse_datetime_interval
from incidents.publish.layers import COLLECTIONS, Layer

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/property-property",
    "http://www.opengis.net/spec/cql2/1.0/conf/array-functions",
    # OGC API – Tiles: vector tiles of every collection (incidents/api/ogc/tiles.py).
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
]
CRS84 = crs_module.CRS84_URI
JSON = "application/json"
HTML = "text/html"
SCHEMA_JSON = "application/schema+json"
ITEM_PARAMS = ("bbox", "bbox-crs", "datetime", "limit", "offset", "f", "crs", "filter", "filter-lang", "filter-crs")
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
        """``self`` and ``alternate`` links: this query (filters, page, CRS) in JSON and in HTML."""
        url = request.build_absolute_uri(path)
        current = self.output(request)
        query = [(name, value) for name, value in request.GET.items() if name != "f"]
        return [
            {"href": f"{url}?{urlencode([*query, ('f', 'json')])}", "rel": "self" if current == "json" else "alternate",
             "type": json_type, "title": title + _(" (JSON)")},
            {"href": f"{url}?{urlencode([*query, ('f', 'html')])}", "rel": "self" if current == "html" else "alternate",
             "type": HTML, "title": title + _(" (HTML)")},
        ]  # fmt: skip

    def answer(self, request, body: dict, template: str, media_type: str = JSON, **context) -> HttpResponse:
        if self.output(request) == "html":
            shown = json.dumps(body, indent=2, default=str, ensure_ascii=False)
            return render(request, f"incidents/ogc/{template}", {"doc": body, "json": shown, **context})
        return HttpResponse(json.dumps(body, default=str), content_type=media_type)


def get_layer(collection_id: str) -> Layer:
    layer = COLLECTIONS.get(collection_id)
    if layer is None:
        raise Http404(_("No collection %(id)r.") % {"id": collection_id})
    return layer


def layer_extent(layer: Layer) -> dict:
    """Spatial (bbox) and temporal extent of a layer, cached for a few minutes."""
    key = f"ogc-extent:{layer.name}"
    extent = cache.get(key)
    if extent is not None:
        return extent
    box = layer.queryset().aggregate(box=Extent(layer.geometry))["box"]
    bbox = [round(v, 6) for v in box] if box else [-180, -90, 180, 90]
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
            # No query on the GeoJSON items link: clients append /{featureId} to it.
            {"href": items, "rel": "items", "type": GEOJSON, "title": layer.title},
            {"href": f"{items}?f=html", "rel": "items", "type": HTML, "title": layer.title},
            {
                "href": request.build_absolute_uri(reverse("ogc-queryables", args=[layer.name])),
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                "type": SCHEMA_JSON,
                "title": _("Properties a filter may use"),
            },
            {
                "href": request.build_absolute_uri(reverse("ogc-tilesets", args=[layer.name])),
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
                "type": JSON,
                "title": _("Vector tiles"),
            },
            {
                "href": "https://opendatacommons.org/licenses/odbl/1-0/",
                "rel": "license",
                "type": HTML,
                "title": "ODbL-1.0",
            },
        ],
        "extent": layer_extent(layer),
        "itemType": "feature",
        "crs": list(crs_module.supported()),
        "storageCrs": CRS84,
    }


F_PARAM = OpenApiParameter("f", str, enum=["json", "html"], description="Output format (default JSON).")
CRS_SCHEMA = {"type": "string", "enum": list(crs_module.supported())}
CRS_PARAM = OpenApiParameter("crs", CRS_SCHEMA, description="CRS of the output coordinates (default CRS84).")
# Four or six numbers, in any CRS (metres in Lambert-93 have more digits than degrees).
_NUMBER = r"-?[0-9]{1,9}(\.[0-9]{1,12})?"
BOX = {"type": "string", "pattern": rf"^{_NUMBER}(,{_NUMBER}){{3}}(,{_NUMBER},{_NUMBER})?$", "example": BBOX["example"]}
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
            "description": _(
                "Incidents in public space, roadworks and street segments (OGC API – Features and Tiles)."
            ),
            "links": [
                *self.links(request, root, title=_("This document")),
                *(
                    {
                        "href": request.build_absolute_uri(reverse(name)) + query,
                        "rel": rel,
                        "type": kind,
                        "title": title,
                    }
                    for name, query, rel, kind, title in (
                        ("api-schema", "?format=json", "service-desc", OPENAPI_30_JSON, _("The API definition")),
                        ("api-docs", "", "service-doc", HTML, _("The API documentation")),
                        ("ogc-conformance", "", "conformance", JSON, _("Conformance classes implemented")),
                        ("ogc-collections", "", "data", JSON, _("The feature collections")),
                        (
                            "ogc-tile-matrix-sets",
                            "",
                            "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
                            JSON,
                            _("Tiling schemes of the vector tiles"),
                        ),
                    )
                ),
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
            "collections": [collection_document(self, request, layer) for layer in COLLECTIONS.values()],
        }
        return self.answer(request, body, "collections.html")


COLLECTION_ID = OpenApiParameter(
    "collection_id", str, OpenApiParameter.PATH, enum=list(COLLECTIONS), description="Collection identifier."
)


class CollectionView(OGCView):
    @ogc_schema("One feature collection", "ogc_collection", "OGCCollection", parameters=[COLLECTION_ID], found=False)
    def get(self, request, collection_id: str):
        return self.answer(request, collection_document(self, request, get_layer(collection_id)), "collection.html")


class CRSField(forms.CharField):
    """A CRS URI among those on offer (``crs_module.supported()``)."""

    def clean(self, value):
        value = super().clean(value)
        return crs_module.parse_crs(value) if value else None


def parse_box(value: str, crs: crs_module.CRS):
    """``bbox`` in ``crs`` (4 numbers, or 6 for 3D), as a CRS84 box tuple or polygon."""
    parts = value.split(",")
    if len(parts) == 6:  # a 3D box: the heights do not matter for our 2D features
        parts = [parts[0], parts[1], parts[3], parts[4]]
    if crs.uri == CRS84:
        return parse_bbox(",".join(parts))
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        numbers = []
    if len(numbers) != 4 or not all(map(math.isfinite, numbers)) or numbers[0] > numbers[2] or numbers[1] > numbers[3]:
        raise forms.ValidationError(
            _("Give four numbers in the axis order of %(crs)s, the minimum first.") % {"crs": crs.uri}
        )
    return crs.box_to_storage(tuple(numbers))


def json_schema(schema: dict) -> dict:
    """An OpenAPI 3.0 property schema as JSON Schema: ``nullable`` becomes a null type."""
    result = {
        key: (str(value) if key == "description" else value) for key, value in schema.items() if key != "nullable"
    }
    if schema.get("nullable"):
        result["type"] = [schema["type"], "null"]
    return result


def queryables_document(request, layer: Layer) -> dict:
    """The JSON Schema of what a ``filter`` on ``layer`` may name (OGC API – Features Part 3)."""
    properties = {
        "geometry": {
            "title": _("Geometry"),
            "description": _("Compare it with S_INTERSECTS(geometry, …)."),
            "format": f"geometry-{layer.geometry_types[0].lower()}",
            "x-ogc-role": "primary-geometry",
        }
    }
    for name, queryable in queryables(layer).items():
        schema = json_schema(queryable.schema)
        properties[name] = {"title": schema.pop("description", name), **schema}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": request.build_absolute_uri(reverse("ogc-queryables", args=[layer.name])),
        "type": "object",
        "title": layer.title,
        "description": layer.description,
        "properties": properties,
        "additionalProperties": False,
    }


class QueryablesView(OGCView):
    @ogc_schema(
        "Queryables of a collection", "ogc_queryables", "OGCQueryables", media=SCHEMA_JSON,
        parameters=[COLLECTION_ID], found=False,
    )  # fmt: skip
    def get(self, request, collection_id: str):
        layer = get_layer(collection_id)
        return self.answer(request, queryables_document(request, layer), "queryables.html", media_type=SCHEMA_JSON)


class ItemsForm(forms.Form):
    """The query of ``/items``: ``bbox`` (in ``bbox-crs``), ``datetime``, ``crs`` and a CQL2 ``filter``."""

    bbox = forms.CharField(required=False)
    datetime = forms.CharField(required=False)

    def __init__(self, *args, layer: Layer, **kwargs):
        super().__init__(*args, **kwargs)
        self.layer = layer
        for name in ("bbox-crs", "crs", "filter-crs"):
            self.fields[name] = CRSField(required=False)
        self.fields["filter"] = forms.CharField(required=False, strip=False)
        self.fields["filter-lang"] = forms.ChoiceField(required=False, choices=[("cql2-text", "cql2-text")])

    def clean_datetime(self):
        value = self.cleaned_data["datetime"]
        return parse_datetime_interval(value) if value else None

    def clean(self):
        data = super().clean()
        if data.get("bbox"):
            try:
                data["bbox"] = parse_box(data["bbox"], data.get("bbox-crs") or crs_module.CRS84)
            except forms.ValidationError as error:
                self.add_error("bbox", error)
        if data.get("filter"):
            try:
                data["filter"] = parse_filter(data["filter"], self.layer, data.get("filter-crs") or crs_module.CRS84)
            except CQL2Error as error:
                self.add_error("filter", str(error))
        return data


class ItemsView(OGCView):
    allowed_params = ITEM_PARAMS

    @ogc_schema(
        "Features of a collection", "ogc_items", "OGCFeatureCollection", media=GEOJSON, found=False,
        parameters=[
            COLLECTION_ID,
            OpenApiParameter(
                "bbox", BOX, description="minx,miny,maxx,maxy in bbox-crs (default CRS84: lon/lat); 6 numbers for 3D.",
            ),
            OpenApiParameter("bbox-crs", CRS_SCHEMA, description="CRS of bbox (default CRS84)."),
            CRS_PARAM,
            OpenApiParameter("datetime", DATETIME, description="RFC 3339 instant or interval ('..' for an open end)."),
            OpenApiParameter(
                "filter", {"type": "string", "minLength": 1},
                description="CQL2 text over the collection's queryables, e.g. category = 'pothole' AND post_count > 2.",
            ),
            OpenApiParameter("filter-lang", {"type": "string", "enum": ["cql2-text"]}, description="Only cql2-text."),
            OpenApiParameter("filter-crs", CRS_SCHEMA, description="CRS of the filter's geometries (default CRS84)."),
            OpenApiParameter(
                "limit", {"type": "integer", "minimum": 1, "maximum": 10000, "default": 10},
                description="Features per page, 1 to 10000 (default 10).",
            ),
            OpenApiParameter("offset", OFFSET, description="Index of the first feature (default 0)."),
        ],
    )  # fmt: skip
    def get(self, request, collection_id: str):
        layer = get_layer(collection_id)
        form = ItemsForm(data=request.query_params, layer=layer)
        if not form.is_valid():
            raise exceptions.ValidationError(form.errors)
        page = parse_page(
            request.query_params,
            default=settings.INCIDENTS_OGC_PAGE_SIZE,
            maximum=settings.INCIDENTS_OGC_MAX_PAGE_SIZE,
            allow_all=False,
        )
        crs = form.cleaned_data["crs"] or crs_module.CRS84
        queryset = layer.queryset()
        box = form.cleaned_data["bbox"]
        if isinstance(box, tuple):
            queryset = filter_bbox(queryset, layer, box)
        elif box:
            queryset = queryset.filter(**{f"{layer.geometry}__intersects": box})
        if form.cleaned_data["datetime"]:
            queryset = filter_datetime(queryset, layer, form.cleaned_data["datetime"])
        if form.cleaned_data["filter"]:
            queryset = queryset.filter(form.cleaned_data["filter"])
        queryset = queryset.order_by(*layer.default_ordering)
        path = reverse("ogc-items", args=[layer.name])
        output = self.output(request)
        links_of = self.page_links(request, path, page, layer)

        if output == "html":
            total = queryset.count()
            features = [json.loads(text) for text in page.slice(layer.feature_texts(queryset, crs))]
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

        response = collection_response(
            request, layer, queryset, page, members, output="geojson", content_type=GEOJSON, crs=crs
        )
        response["Content-Crs"] = crs_module.content_crs_header(crs)
        return response

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
    allowed_params = ("f", "crs")

    @ogc_schema(
        "One feature", "ogc_item", "OGCFeature", media=GEOJSON, found=False,
        parameters=[COLLECTION_ID, OpenApiParameter("feature_id", str, OpenApiParameter.PATH), CRS_PARAM],
    )  # fmt: skip
    def get(self, request, collection_id: str, feature_id: str):
        layer = get_layer(collection_id)
        try:
            crs = CRSField(required=False).clean(request.query_params.get("crs")) or crs_module.CRS84
        except forms.ValidationError as error:
            raise exceptions.ValidationError({"crs": error.messages}) from None
        text = layer.feature_texts(layer.queryset().filter(pk=parse_id(feature_id)), crs).first()
        if text is None:
            raise Http404(_("No feature %(id)r in %(collection)s.") % {"id": feature_id, "collection": layer.name})
        feature = json.loads(text)
        path = reverse("ogc-item", args=[layer.name, feature["id"]])
        feature["links"] = [
            *self.links(request, path, title=_("This feature"), json_type=GEOJSON),
            {"href": request.build_absolute_uri(reverse("ogc-collection", args=[layer.name])), "rel": "collection",
             "type": JSON, "title": layer.title},
        ]  # fmt: skip
        response = self.answer(request, feature, "item.html", media_type=GEOJSON, layer=layer)
        response["Content-Crs"] = crs_module.content_crs_header(crs)
        return response
