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
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import (
    BooleanField,
    Case,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from incidents.categories import Affected, Category
from incidents.models import Incident, IncidentStatus, IncidentWorksZone, StreetSegment, WorksStatus, WorksZone
from incidents.models.works import effective_end
from incidents.publish.crs import CRS, CRS84

# Decimal places of published coordinates: ~10 cm at the equator, RFC 7946 recommends 6.
COORDINATE_DECIMALS = 6


def right_hand_rule(sql: str) -> str:
    """SQL orienting the polygons of ``sql`` as RFC 7946 wants (exterior counter-clockwise).

    ST_ForcePolygonCCW is only applied to surfaces: on this PostGIS it also reverses lines.
    """
    return f"CASE WHEN ST_Dimension({sql}) = 2 THEN ST_ForcePolygonCCW({sql}) ELSE {sql} END"


class GeoJSONGeometry(Func):
    """The geometry as a GeoJSON object: right-hand rings, never a ``crs`` member.

    RFC 7946 (CRS84, 6 decimals) unless ``crs`` asks for another CRS (OGC API Part 2).
    Pass ``surfaces=False`` for layers without polygons to skip the orientation test.
    """

    output_field = TextField()

    def __init__(self, expression, surfaces: bool = True, crs: CRS = CRS84, **extra):
        sql = right_hand_rule("%(expressions)s") if surfaces else "%(expressions)s"
        # Options 0: no bbox, no crs member (the default would add one for a non-4326 SRID).
        extra["template"] = f"ST_AsGeoJSON({crs.output_sql(sql)}, {crs.decimals}, 0)::json"
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

    def __init__(self, geometry, properties: dict[str, Any], surfaces: bool = True, crs: CRS = CRS84, **extra):
        feature = JSONBuildObject(
            {
                "type": Value("Feature"),
                "id": F("pk"),
                "geometry": GeoJSONGeometry(geometry, surfaces=surfaces, crs=crs),
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
    # SQL of the published geometry from the stored one (``%(expressions)s``), when they differ.
    geometry_template: str | None = None

    @property
    def is_point(self) -> bool:
        return self.geometry_types == ("Point",)

    @property
    def has_surfaces(self) -> bool:
        return bool({"Polygon", "MultiPolygon"} & set(self.geometry_types))

    def queryset(self) -> QuerySet:
        return self.base_queryset()

    def geometry_expression(self) -> Func | F:
        """The published geometry, as stored or as ``geometry_template`` derives it."""
        if self.geometry_template is None:
            return F(self.geometry)
        return Func(
            F(self.geometry), template=self.geometry_template, output_field=self.model._meta.get_field(self.geometry)
        )

    def property_expressions(self) -> dict[str, Any]:
        return {prop.name: prop.expression for prop in self.properties}

    def with_features(self, queryset: QuerySet, crs: CRS = CRS84) -> QuerySet:
        """Annotate each row with ``feature``: its GeoJSON Feature as text (coordinates in ``crs``)."""
        feature = FeatureJSON(self.geometry_expression(), self.property_expressions(), self.has_surfaces, crs)
        return queryset.annotate(feature=feature)

    def feature_texts(self, queryset: QuerySet, crs: CRS = CRS84) -> QuerySet:
        return self.with_features(queryset, crs).values_list("feature", flat=True)

    def csv_columns(self) -> list[str]:
        geometry_columns = ["lon", "lat", "wkt"] if self.is_point else ["wkt"]
        return ["id", *[prop.name for prop in self.properties], *geometry_columns]

    def csv_rows(self, queryset: QuerySet) -> QuerySet:
        """Rows in :meth:`csv_columns` order, coordinates rounded like the GeoJSON."""
        annotations = {f"p_{prop.name}": prop.expression for prop in self.properties}
        if self.is_point:
            annotations["g_lon"] = Rounded(Func(F(self.geometry), function="ST_X"))
            annotations["g_lat"] = Rounded(Func(F(self.geometry), function="ST_Y"))
        annotations["g_wkt"] = WKT(self.geometry_expression())
        return queryset.annotate(**annotations).values_list("pk", *annotations)


# Per-row scalar subqueries, not a join or EXISTS: on a page of 1,000 the planner would
# otherwise hash the whole streets or works-links table (5 to 40 ms) instead of probing
# 1,000 index entries (bench/bench_geojson.py measures it).
def _segment_name() -> Subquery:
    return Subquery(StreetSegment.objects.filter(pk=OuterRef("segment_id")).order_by().values("name")[:1])


def _near_works() -> Coalesce:
    linked = IncidentWorksZone.objects.filter(incident=OuterRef("pk")).order_by().values(linked=Value(True))[:1]
    return Coalesce(Subquery(linked, output_field=BooleanField()), Value(False))


def _scope() -> Case:
    """How far its point is known: to a spot, along a whole street, or to an area (see the pipeline's grouping)."""
    coarse = Q(location_accuracy_m__gt=settings.INCIDENTS_GROUP_DISTANCE_M)
    return Case(
        When(coarse & Q(segment__isnull=False), then=Value("street")),
        When(coarse, then=Value("area")),
        default=Value("point"),
        output_field=TextField(),
    )


def _choices(choices) -> list[str]:
    return [value for value, _label in choices]


INCIDENTS = Layer(
    name="incidents",
    component="Incident",
    title=_("Incidents"),
    description=_("Problems in public space reported by one or more posts, grouped and located on a street."),
    model=Incident,
    geometry="location",
    geometry_types=("Point",),
    properties=(
        Property("category", F("category"), string(_("Category code."), enum=_choices(Category.choices))),
        Property("status", F("status"), string(_("Triage status."), enum=_choices(IncidentStatus.choices))),
        Property("first_post_at", F("first_post_at"), datetime_(_("When the first post about it was published."))),
        Property("last_post_at", F("last_post_at"), datetime_(_("When the latest post about it was published."))),
        Property("post_count", F("post_count"), integer(_("Number of posts about it."))),
        Property("engagement", F("engagement"), integer(_("Likes, reposts, replies and quotes of its posts."))),
        Property("priority", F("priority"), number(_("Triage priority; higher means act sooner."))),
        Property("segment", F("segment_id"), integer(_("Street segment it lies on."), nullable=True)),
        Property("segment_name", _segment_name(), string(_("Name of that street."), nullable=True)),
        Property("segment_distance_m", F("segment_distance_m"), number(_("Metres to the segment."), nullable=True)),
        Property(
            "location_accuracy_m",
            F("location_accuracy_m"),
            number(_("How precisely its point is known: metres around it."), nullable=True),
        ),
        Property(
            "scope",
            _scope(),
            string(
                _(
                    "point: known to a spot; street: its posts only say the street (the map draws the street, "
                    "see street_of of the street segments); area: known to a neighbourhood."
                ),
                enum=["point", "street", "area"],
            ),
        ),
        Property(
            "affects",
            F("affects"),
            {
                "type": "array",
                "items": {"type": "string", "enum": _choices(Affected.choices)},
                "description": _("Who its posts say the problem harms."),
            },
        ),
        Property("district", F("district_id"), integer(_("District id."), nullable=True)),
        Property("near_works", _near_works(), boolean(_("True when works were active nearby while it was reported."))),
        Property("duplicate_of", F("duplicate_of_id"), integer(_("Original incident, for duplicates."), nullable=True)),
        Property(
            "recurrence_of",
            F("recurrence_of_id"),
            integer(_("The resolved incident, same problem at the same place, that this one reports again."), True),
        ),
        Property("updated_at", F("updated_at"), datetime_(_("Last change."))),
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
    title=_("Works zones"),
    description=_("Roadworks as published by the works feeds; status is derived from their dates."),
    model=WorksZone,
    geometry="geom",
    geometry_types=(
        *("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection"),
    ),
    properties=(
        Property("source", F("source"), string(_("Feed the zone comes from."))),
        Property("source_id", F("source_id"), string(_("Identifier in that feed."))),
        Property("reference", F("reference"), string(_("Public reference of the works permit."))),
        Property("title", F("title"), string(_("Title."))),
        Property("description", F("description"), string(_("Description."))),
        Property("nature", F("nature"), string(_("Kind of works."))),
        Property(
            "road_names",
            F("road_names"),
            {"type": "array", "items": {"type": "string"}, "description": _("Streets concerned.")},
        ),
        Property("commune", F("commune"), string(_("Commune."))),
        Property("declarant", F("declarant"), string(_("Owner of the works."))),
        Property("contractor", F("contractor"), string(_("Contractor."))),
        Property("starts_at", F("starts_at"), datetime_(_("Start."))),
        Property("ends_at", F("ends_at"), datetime_(_("Announced end; null when open-ended."), nullable=True)),
        Property("withdrawn_at", F("withdrawn_at"), datetime_(_("When the zone left its feed early."), nullable=True)),
        Property("status", F("status"), string(_("Status now."), enum=_choices(WorksStatus.choices))),
        Property("impact_vehicle", F("impact_vehicle"), boolean(_("Vehicle lanes affected."))),
        Property("impact_pedestrian", F("impact_pedestrian"), boolean(_("Pavement or pedestrians affected."))),
        Property("impact_cycle", F("impact_cycle"), boolean(_("Cycle lanes affected."))),
        Property("impact_parking", F("impact_parking"), boolean(_("Parking affected."))),
        Property("impact_closure", F("impact_closure"), boolean(_("Full closure."))),
        Property("impact_text", F("impact_text"), string(_("Impact as published."))),
        Property("updated_at", F("updated_at"), datetime_(_("Last change."))),
    ),
    temporal=(F("starts_at"), effective_end()),
    ordering_fields=("id", "starts_at", "ends_at", "title", "updated_at"),
    default_ordering=("-starts_at", "id"),
    base_queryset=lambda: WorksZone.objects.with_status(),
)


def _flat(prop: Property) -> Property:
    """``prop`` as GIS formats can hold it: a list becomes text, items separated by "; "."""
    if prop.schema.get("type") != "array":
        return prop
    text = Func(prop.expression, template="array_to_string(%(expressions)s, '; ')", output_field=TextField())
    return Property(prop.name, text, string(format_lazy("{} {}", prop.schema["description"], _("Separated by '; '."))))


# Works zones as layers of one geometry type each, for GIS clients (a layer has one type in
# QGIS, Shapefile, GeoPackage): the announced geometry by its dimension, always as a multi-
# geometry (a feed mixes Point and MultiPoint), and the impact areas. Feature ids are the
# works zone ids in every layer; lists are flattened to text (a Shapefile holds no list).
WORKS_GIS = replace(WORKS_ZONES, properties=tuple(_flat(prop) for prop in WORKS_ZONES.properties))


def _works_of_dimension(dimension: int, name: str, component: str, title, description) -> Layer:
    """The works zones whose announced geometry has ``dimension`` (0 points, 1 lines, 2 surfaces)."""
    kind = Func(F("geom"), function="ST_Dimension", output_field=IntegerField())
    return replace(
        WORKS_GIS,
        name=name,
        component=component,
        title=title,
        description=description,
        geometry_types=(("MultiPoint", "MultiLineString", "MultiPolygon")[dimension],),
        # ST_CollectionExtract types: 1 points, 2 lines, 3 polygons.
        geometry_template=f"ST_Multi(ST_CollectionExtract(%(expressions)s, {dimension + 1}))",
        base_queryset=lambda: WorksZone.objects.with_status().alias(_dimension=kind).filter(_dimension=dimension),
    )


WORKS_POINTS = _works_of_dimension(
    0,
    "works-points",
    "WorksPoint",
    _("Works zones: points"),
    _("Works zones announced as a point (an address, a site)."),
)
WORKS_LINES = _works_of_dimension(
    1, "works-lines", "WorksLine", _("Works zones: lines"), _("Works zones announced as a line along the street.")
)
WORKS_POLYGONS = _works_of_dimension(
    2, "works-polygons", "WorksPolygon", _("Works zones: areas"), _("Works zones announced as an area.")
)
WORKS_IMPACT_AREAS = replace(
    WORKS_GIS,
    name="works-impact-areas",
    component="WorksImpactArea",
    title=_("Works zones: impact areas"),
    description=_(
        "Every works zone's impact area: its announced geometry widened by INCIDENTS_WORKS_IMPACT_BUFFER_M metres."
    ),
    geometry="impact_area",
    geometry_types=("MultiPolygon",),
)

STREET_SEGMENTS = Layer(
    name="street-segments",
    component="StreetSegment",
    title=_("Street segments"),
    description=_("Stretches of street incidents are linked to."),
    model=StreetSegment,
    geometry="geom",
    geometry_types=("MultiLineString",),
    properties=(
        Property("name", F("name"), string(_("Official name."))),
        Property("street_id", F("street_id"), string(_("Identifier of the whole street."))),
        Property("commune", F("commune"), string(_("Commune."))),
        Property("insee_code", F("insee_code"), string(_("Commune INSEE code."))),
        Property("length_m", F("length_m"), number(_("Length in metres."))),
        Property("source", F("source"), string(_("Dataset."))),
        Property("source_id", F("source_id"), string(_("Identifier in the dataset."))),
        Property("updated_at", F("updated_at"), datetime_(_("Last change."))),
        Property("retired_at", F("retired_at"), datetime_(_("When its dataset stopped listing it."), nullable=True)),
    ),
    temporal=None,
    ordering_fields=("id", "name", "length_m", "updated_at"),
    default_ordering=("name", "id"),
    base_queryset=lambda: StreetSegment.objects.all(),
)

LAYERS: dict[str, Layer] = {
    layer.name: layer
    for layer in (
        INCIDENTS,
        WORKS_ZONES,
        WORKS_POINTS,
        WORKS_LINES,
        WORKS_POLYGONS,
        WORKS_IMPACT_AREAS,
        STREET_SEGMENTS,
    )
}
# The OGC API collections: the layers of one geometry type (all but the mixed works zones).
COLLECTIONS: dict[str, Layer] = {name: layer for name, layer in LAYERS.items() if len(layer.geometry_types) == 1}
