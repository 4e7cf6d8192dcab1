"""
The published layers: what each resource exposes, in one place.

A :class:`Layer` names a model's public properties once, as SQL expressions with their
OpenAPI schema. The REST views, the OGC API, the CSV export and the OpenAPI document all
read the same definition, so a property cannot appear in one and be forgotten in another.

GeoJSON is built by PostgreSQL (``json_build_object`` + ``ST_AsGeoJSON``): a page of
1,000 features costs one indexed query and a string join, not 1,000 Python serializer
calls. Output follows RFC 7946: longitude/latitude, exterior rings counter-clockwise
(right-hand rule), no ``crs`` member, 6 decimals (about 10 cm).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.gis.db import models
from django.db.models import BooleanField, F, Func, OuterRef, QuerySet, Subquery, TextField, Value
from django.db.models.functions import Coalesce

from incidents.categories import Category
from incidents.models import Incident, IncidentStatus, IncidentWorksZone, StreetSegment, WorksStatus, WorksZone
from incidents.models.works import effective_end

# Decimal places of published coordinates: ~10 cm at the equator, RFC 7946 recommends 6.
COORDINATE_DECIMALS = 6


def right_hand_rule(sql: str) -> str:
    """SQL orienting the polygons of ``sql`` as RFC 7946 wants (exterior counter-clockwise).

    ST_ForcePolygonCCW is only applied to surfaces: on this PostGIS it also reverses lines.
    """
    return f"CASE WHEN ST_Dimension({sql}) = 2 THEN ST_ForcePolygonCCW({sql}) ELSE {sql} END"


class GeoJSONGeometry(Func):
    """The geometry as an RFC 7946 GeoJSON object: right-hand rings, 6 decimals, never a ``crs``.

    Pass ``surfaces=False`` for layers without polygons to skip the orientation test.
    """

    output_field = TextField()

    def __init__(self, expression, surfaces: bool = True, **extra):
        sql = right_hand_rule("%(expressions)s") if surfaces else "%(expressions)s"
        # Options 0: no bbox, no crs member (the default would add one for a non-4326 SRID).
        extra["template"] = f"ST_AsGeoJSON({sql}, {COORDINATE_DECIMALS}, 0)::json"
        super().__init__(expression, **extra)


class WKT(Func):
    """The geometry as WKT with 6 decimals (CSV exports)."""

    template = f"ST_AsText({right_hand_rule('%(expressions)s')}, {COORDINATE_DECIMALS})"
    output_field = TextField()


class Rounded(Func):
    """A coordinate rounded like the GeoJSON output."""

    template = f"round((%(expressions)s)::numeric, {COORDINATE_DECIMALS})"
    output_field = TextField()


class JSONBuildObject(Func):
    """``json_build_object(k1, v1, ...)``: keys keep their order, values keep their SQL types."""

    function = "json_build_object"
    output_field = TextField()

    def __init__(self, pairs: dict[str, Any], **extra):
        expressions = []
        for key, value in pairs.items():
            expressions += [Value(key), value]
        super().__init__(*expressions, **extra)


class FeatureJSON(Func):
    """One GeoJSON Feature, as JSON text built in PostgreSQL."""

    template = "(%(expressions)s)::text"
    output_field = TextField()

    def __init__(self, geometry: str, properties: dict[str, Any], surfaces: bool = True, **extra):
        feature = JSONBuildObject(
            {
                "type": Value("Feature"),
                "id": F("pk"),
                "geometry": GeoJSONGeometry(F(geometry), surfaces=surfaces),
                "properties": JSONBuildObject(properties),
            }
        )
        super().__init__(feature, **extra)


def string(description: str, **extra) -> dict:
    return {"type": "string", "description": description, **extra}


def datetime_(description: str, nullable: bool = False) -> dict:
    return {"type": "string", "format": "date-time", "description": description, "nullable": nullable}


def integer(description: str, nullable: bool = False) -> dict:
    return {"type": "integer", "description": description, "nullable": nullable}


def number(description: str, nullable: bool = False) -> dict:
    return {"type": "number", "description": description, "nullable": nullable}


def boolean(description: str) -> dict:
    return {"type": "boolean", "description": description}


@dataclass(frozen=True)
class Property:
    """One published property: its SQL expression and its OpenAPI schema."""

    name: str
    expression: Any
    schema: dict


@dataclass(frozen=True)
class Layer:
    """A published feature collection (REST resource and OGC collection)."""

    name: str
    # Name of the layer's feature in the OpenAPI components, e.g. "Incident".
    component: str
    title: str
    description: str
    model: type[models.Model]
    geometry: str
    # GeoJSON geometry types the layer's features may have (OpenAPI + OGC metadata).
    geometry_types: tuple[str, ...]
    properties: tuple[Property, ...]
    # Start and end of each feature's validity in time; the end may be NULL (open).
    temporal: tuple[Any, Any] | None
    ordering_fields: tuple[str, ...]
    default_ordering: tuple[str, ...]
    base_queryset: Callable[[], QuerySet]
    extra: dict = field(default_factory=dict)

    @property
    def is_point(self) -> bool:
        return self.geometry_types == ("Point",)

    def queryset(self) -> QuerySet:
        return self.base_queryset()

    def property_expressions(self) -> dict[str, Any]:
        return {prop.name: prop.expression for prop in self.properties}

    def with_features(self, queryset: QuerySet) -> QuerySet:
        """Annotate each row with ``feature``: its GeoJSON Feature as text."""
        surfaces = bool({"Polygon", "MultiPolygon"} & set(self.geometry_types))
        return queryset.annotate(feature=FeatureJSON(self.geometry, self.property_expressions(), surfaces))

    def feature_texts(self, queryset: QuerySet) -> QuerySet:
        return self.with_features(queryset).values_list("feature", flat=True)

    def csv_columns(self) -> list[str]:
        geometry_columns = ["lon", "lat", "wkt"] if self.is_point else ["wkt"]
        return ["id", *[prop.name for prop in self.properties], *geometry_columns]

    def csv_rows(self, queryset: QuerySet) -> QuerySet:
        """Rows in :meth:`csv_columns` order, coordinates rounded like the GeoJSON."""
        annotations = {f"p_{prop.name}": prop.expression for prop in self.properties}
        if self.is_point:
            annotations["g_lon"] = Rounded(Func(F(self.geometry), function="ST_X"))
            annotations["g_lat"] = Rounded(Func(F(self.geometry), function="ST_Y"))
        annotations["g_wkt"] = WKT(F(self.geometry))
        return queryset.annotate(**annotations).values_list("pk", *annotations)


# Per-row scalar subqueries, not a join or EXISTS: on a page of 1,000 the planner would
# otherwise hash the whole streets or works-links table (5 to 40 ms) instead of probing
# 1,000 index entries (bench/bench_geojson.py measures it).
def _segment_name() -> Subquery:
    return Subquery(StreetSegment.objects.filter(pk=OuterRef("segment_id")).order_by().values("name")[:1])


def _near_works() -> Coalesce:
    linked = IncidentWorksZone.objects.filter(incident=OuterRef("pk")).order_by().values(linked=Value(True))[:1]
    return Coalesce(Subquery(linked, output_field=BooleanField()), Value(False))


def _choices(choices) -> list[str]:
    return [value for value, _label in choices]


INCIDENTS = Layer(
    name="incidents",
    component="Incident",
    title="Incidents",
    description="Problems in public space reported by one or more posts, grouped and located on a street.",
    model=Incident,
    geometry="location",
    geometry_types=("Point",),
    properties=(
        Property("category", F("category"), string("Category code.", enum=_choices(Category.choices))),
        Property("status", F("status"), string("Triage status.", enum=_choices(IncidentStatus.choices))),
        Property("first_post_at", F("first_post_at"), datetime_("When the first post about it was published.")),
        Property("last_post_at", F("last_post_at"), datetime_("When the latest post about it was published.")),
        Property("post_count", F("post_count"), integer("Number of posts about it.")),
        Property("engagement", F("engagement"), integer("Likes, reposts, replies and quotes of its posts.")),
        Property("priority", F("priority"), number("Triage priority; higher means act sooner.")),
        Property("segment", F("segment_id"), integer("Street segment it lies on.", nullable=True)),
        Property("segment_name", _segment_name(), string("Name of that street.", nullable=True)),
        Property("segment_distance_m", F("segment_distance_m"), number("Metres to the segment.", nullable=True)),
        Property("district", F("district_id"), integer("District id.", nullable=True)),
        Property("near_works", _near_works(), boolean("True when works were active nearby while it was reported.")),
        Property("duplicate_of", F("duplicate_of_id"), integer("Original incident, for duplicates.", nullable=True)),
        Property("updated_at", F("updated_at"), datetime_("Last change.")),
    ),
    temporal=(F("first_post_at"), F("last_post_at")),
    ordering_fields=(
        "id",
        "last_post_at",
        "first_post_at",
        "priority",
        "post_count",
        "engagement",
        "category",
        "status",
    ),
    default_ordering=("-last_post_at", "id"),
    base_queryset=lambda: Incident.objects.all(),
)

WORKS_ZONES = Layer(
    name="works-zones",
    component="WorksZone",
    title="Works zones",
    description="Roadworks as published by the works feeds; status is derived from their dates.",
    model=WorksZone,
    geometry="geom",
    geometry_types=(
        *("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection"),
    ),
    properties=(
        Property("source", F("source"), string("Feed the zone comes from.")),
        Property("source_id", F("source_id"), string("Identifier in that feed.")),
        Property("reference", F("reference"), string("Public reference of the works permit.")),
        Property("title", F("title"), string("Title.")),
        Property("description", F("description"), string("Description.")),
        Property("nature", F("nature"), string("Kind of works.")),
        Property("road_names", F("road_names"), {"type": "array", "items": {"type": "string"}}),
        Property("commune", F("commune"), string("Commune.")),
        Property("declarant", F("declarant"), string("Owner of the works.")),
        Property("contractor", F("contractor"), string("Contractor.")),
        Property("starts_at", F("starts_at"), datetime_("Start.")),
        Property("ends_at", F("ends_at"), datetime_("Announced end; null when open-ended.", nullable=True)),
        Property("withdrawn_at", F("withdrawn_at"), datetime_("When the zone left its feed early.", nullable=True)),
        Property("status", F("status"), string("Status now.", enum=_choices(WorksStatus.choices))),
        Property("impact_vehicle", F("impact_vehicle"), boolean("Vehicle lanes affected.")),
        Property("impact_pedestrian", F("impact_pedestrian"), boolean("Pavement or pedestrians affected.")),
        Property("impact_cycle", F("impact_cycle"), boolean("Cycle lanes affected.")),
        Property("impact_parking", F("impact_parking"), boolean("Parking affected.")),
        Property("impact_closure", F("impact_closure"), boolean("Full closure.")),
        Property("impact_text", F("impact_text"), string("Impact as published.")),
        Property("updated_at", F("updated_at"), datetime_("Last change.")),
    ),
    temporal=(F("starts_at"), effective_end()),
    ordering_fields=("id", "starts_at", "ends_at", "title", "updated_at"),
    default_ordering=("-starts_at", "id"),
    base_queryset=lambda: WorksZone.objects.with_status(),
)

STREET_SEGMENTS = Layer(
    name="street-segments",
    component="StreetSegment",
    title="Street segments",
    description="Stretches of street incidents are linked to.",
    model=StreetSegment,
    geometry="geom",
    geometry_types=("MultiLineString",),
    properties=(
        Property("name", F("name"), string("Official name.")),
        Property("street_id", F("street_id"), string("Identifier of the whole street.")),
        Property("commune", F("commune"), string("Commune.")),
        Property("insee_code", F("insee_code"), string("Commune INSEE code.")),
        Property("length_m", F("length_m"), number("Length in metres.")),
        Property("source", F("source"), string("Dataset.")),
        Property("source_id", F("source_id"), string("Identifier in the dataset.")),
        Property("updated_at", F("updated_at"), datetime_("Last change.")),
        Property("retired_at", F("retired_at"), datetime_("When its dataset stopped listing it.", nullable=True)),
    ),
    temporal=None,
    ordering_fields=("id", "name", "length_m", "updated_at"),
    default_ordering=("name", "id"),
    base_queryset=lambda: StreetSegment.objects.all(),
)

LAYERS: dict[str, Layer] = {layer.name: layer for layer in (INCIDENTS, WORKS_ZONES, STREET_SEGMENTS)}
