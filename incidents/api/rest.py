"""
The REST API: GeoJSON feature collections of incidents, works zones and street segments.

Reads are open (anonymous callers throttled); the only write here is the triage status
change of an incident, for staff, through :func:`change_incident_status`.
"""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.views import APIView

from incidents.api.errors import JSONErrors
from incidents.api.http import IsStaffOrReadOnly, apply_filters, collection_response, media_type, parse_form, parse_id
from incidents.api.pagination import PAGE_PARAMS, page_url, parse_page
from incidents.api.renderers import (
    GEOJSON,
    CSVRenderer,
    GeoJSONRenderer,
    PlainJSONRenderer,
    StrictContentNegotiation,
    feature_collection,
)
from incidents.api.schema import (
    ERRORS,
    NOT_FOUND,
    PAGE_PARAMETERS,
    OpenDataAutoSchema,
    filter_parameters,
    form_parameters,
    ref,
)
from incidents.api.serializers import IncidentStatusChangeSerializer
from incidents.models import Incident, WorksZone
from incidents.publish import impact as impact_module
from incidents.publish import layers
from incidents.publish.clusters import INDEX, MAX_CELLS, ClusterQuery, cell_range, clusters_geojson
from incidents.publish.features import Matched, feature_of, incident_detail
from incidents.publish.filters import ClusterForm, ImpactForm, ImpactRankingForm
from incidents.publish.impact import rank_zones, zone_impact
from incidents.publish.layers import Layer
from incidents.publish.privacy import sees_personal_data
from incidents.services.incidents import change_incident_status


def list_schema(layer: Layer):
    collection = ref(f"{layer.component}FeatureCollection")
    return extend_schema(
        operation_id=f"{layer.name.replace('-', '_')}_list",
        summary=f"{layer.name}: a page of the collection",
        description=layer.description,
        parameters=[*filter_parameters(layer), *PAGE_PARAMETERS],
        responses={
            (200, GEOJSON): collection,
            (200, "application/json"): collection,
            (200, "text/csv"): OpenApiResponse({"type": "string"}, description="CSV, one row per feature."),
            **ERRORS,
        },
    )


def detail_schema(layer: Layer, component: str | None = None):
    feature = ref(component or f"{layer.component}Feature")
    return extend_schema(
        operation_id=f"{layer.name.replace('-', '_')}_retrieve",
        summary=f"{layer.name}: one feature",
        responses={(200, GEOJSON): feature, (200, "application/json"): feature, **ERRORS, **NOT_FOUND},
    )


class LayerViewSet(JSONErrors, viewsets.ViewSet):
    """List and retrieve the features of one layer."""

    layer: Layer
    schema = OpenDataAutoSchema()
    # Any segment reaches the view, so a bad id is a JSON 404 (parse_id), not Django's HTML page.
    lookup_value_regex = r"[^/]+"
    renderer_classes = [GeoJSONRenderer, PlainJSONRenderer, CSVRenderer]
    content_negotiation_class = StrictContentNegotiation
    permission_classes = [IsStaffOrReadOnly]

    def filtered(self, request):
        return apply_filters(self.layer, request, self.layer.queryset(), extra_params=[*PAGE_PARAMS, "format"])

    def list(self, request):
        queryset = self.filtered(request)
        page = parse_page(request.query_params)

        def members(matched: Matched, returned: int | None) -> dict:
            return {
                "total": matched.total,
                "next": page_url(request, page.next_offset(matched.total)),
                "previous": page_url(request, page.previous_offset()),
            }

        def links(matched: Matched) -> dict:
            return {
                "next": page_url(request, page.next_offset(matched.total)),
                "prev": page_url(request, page.previous_offset()),
            }

        return collection_response(
            request,
            self.layer,
            queryset,
            page,
            members,
            output=request.accepted_renderer.format,
            content_type=media_type(request),
            links=links,
        )

    def feature(self, pk) -> dict:
        return _found(feature_of(self.layer, parse_id(pk)))

    def retrieve(self, request, pk=None):
        return self.feature_response(request, self.feature(pk))

    def feature_response(self, request, feature: dict) -> HttpResponse:
        return HttpResponse(json.dumps(feature), content_type=media_type(request))


@extend_schema_view(list=list_schema(layers.WORKS_ZONES), retrieve=detail_schema(layers.WORKS_ZONES))
class WorksZoneViewSet(LayerViewSet):
    layer = layers.WORKS_ZONES

    @extend_schema(
        summary="Incidents near a works zone before and during the works",
        description=impact_module.__doc__,
        parameters=form_parameters(ImpactForm),
        responses={200: ref("WorksZoneImpact"), **NOT_FOUND, **ERRORS},
    )
    @action(detail=True, methods=["get"], renderer_classes=[PlainJSONRenderer])
    def impact(self, request, pk=None):
        params = parse_form(ImpactForm, request.query_params)
        zone = WorksZone.objects.filter(pk=parse_id(pk)).first()
        if zone is None:
            raise Http404
        body = zone_impact(zone, params["radius"], params["category"])
        return HttpResponse(json.dumps(body), content_type="application/json")


class WorksImpactView(JSONErrors, APIView):
    """Works zones active in a time window, ranked by the incidents they brought (excess over before)."""

    schema = OpenDataAutoSchema()
    renderer_classes = [GeoJSONRenderer, PlainJSONRenderer]
    content_negotiation_class = StrictContentNegotiation
    permission_classes = [IsStaffOrReadOnly]

    @extend_schema(
        summary="Works zones ranked by impact for a time window",
        description=impact_module.__doc__,
        parameters=[*form_parameters(ImpactRankingForm), *PAGE_PARAMETERS[:2]],
        responses={
            (200, GEOJSON): ref("WorksImpactCollection"),
            (200, "application/json"): ref("WorksImpactCollection"),
            **ERRORS,
        },
    )
    def get(self, request):
        params = parse_form(ImpactRankingForm, request.query_params, extra=PAGE_PARAMS)
        page = parse_page(request.query_params, allow_all=False)
        start, end = params["datetime"]
        features, total = rank_zones(
            start, end, params["radius"], categories=params["category"], bbox=params["bbox"],
            limit=page.limit, offset=page.offset,
        )  # fmt: skip
        members = {
            "total": total,
            "next": page_url(request, page.next_offset(total)),
            "previous": page_url(request, page.previous_offset()),
        }
        return feature_collection(features, members, media_type(request))


@extend_schema_view(list=list_schema(layers.STREET_SEGMENTS), retrieve=detail_schema(layers.STREET_SEGMENTS))
class StreetSegmentViewSet(LayerViewSet):
    layer = layers.STREET_SEGMENTS


def _works_layer_viewset(layer: Layer) -> type[LayerViewSet]:
    viewset = type(f"{layer.component}ViewSet", (LayerViewSet,), {"layer": layer})
    return extend_schema_view(list=list_schema(layer), retrieve=detail_schema(layer))(viewset)


WORKS_LAYER_VIEWSETS = [
    _works_layer_viewset(layer)
    for layer in (layers.WORKS_POINTS, layers.WORKS_LINES, layers.WORKS_POLYGONS, layers.WORKS_IMPACT_AREAS)
]


def _found(feature: dict | None) -> dict:
    if feature is None:
        raise Http404
    return feature


@extend_schema_view(
    list=list_schema(layers.INCIDENTS),
    retrieve=detail_schema(layers.INCIDENTS, "IncidentDetailFeature"),
    partial_update=extend_schema(
        summary="Change the triage status of an incident (staff only)",
        request=IncidentStatusChangeSerializer,
        responses={
            (200, GEOJSON): ref("IncidentDetailFeature"),
            (200, "application/json"): ref("IncidentDetailFeature"),
            **ERRORS,
            (401, "application/json"): ref("Error"),
            (403, "application/json"): ref("Error"),
            **NOT_FOUND,
        },
    ),
)
class IncidentViewSet(LayerViewSet):
    layer = layers.INCIDENTS

    def feature(self, pk) -> dict:
        return _found(incident_detail(parse_id(pk), staff=sees_personal_data(self.request)))

    def partial_update(self, request, pk=None):
        incident = Incident.objects.filter(pk=parse_id(pk)).first()
        if incident is None:
            raise Http404
        body = IncidentStatusChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        duplicate_of = None
        if body.validated_data["duplicate_of"] is not None:
            duplicate_of = Incident.objects.filter(pk=body.validated_data["duplicate_of"]).first()
            if duplicate_of is None:
                raise ValidationError({"duplicate_of": ["No incident has this id."]})
        try:
            change_incident_status(
                incident,
                body.validated_data["status"],
                actor=request.user,
                note=body.validated_data["note"],
                duplicate_of=duplicate_of,
            )
        except DjangoValidationError as error:
            raise ValidationError({"status": error.messages}) from None
        return self.feature_response(request, self.feature(pk))

    @extend_schema(
        summary="Clusters of incidents for a map viewport",
        description=(
            "Incidents grouped in 64 px cells of the zoom level (1/4 of a 256 px tile). A cluster has its "
            "`count`, its category breakdown and the `expansion_zoom` at which it splits; a cell holding a "
            "single incident answers that incident (`cluster: false`, with its id). Filters as on the list."
        ),
        parameters=form_parameters(ClusterForm),
        responses={(200, GEOJSON): ref("ClusterCollection"), (200, "application/json"): ref("ClusterCollection"),
                   **ERRORS},
    )  # fmt: skip
    @action(detail=False, methods=["get"], renderer_classes=[GeoJSONRenderer, PlainJSONRenderer])
    def clusters(self, request):
        params = parse_form(ClusterForm, request.query_params)
        start, end = params["datetime"] or (None, None)
        query = ClusterQuery(
            bbox=params["bbox"],
            zoom=params["zoom"],
            categories=params["category"],
            statuses=params["status"],
            start=start,
            end=end,
            near_works=params["near_works"],
            affects=params["affects"],
        )
        x0, y0, x1, y1 = cell_range(query)
        if (x1 - x0 + 1) * (y1 - y0 + 1) > MAX_CELLS:
            raise ValidationError({"bbox": [f"This box spans more than {MAX_CELLS} cells at this zoom: zoom out."]})
        result = INDEX.query(query)
        body = clusters_geojson(result, {"zoom": query.zoom, "total": result.total})
        return HttpResponse(body, content_type=media_type(request))
