"""
OpenAPI descriptions of the GeoJSON bodies, generated from the layer definitions.

drf-spectacular documents serializers; our bodies are built by PostgreSQL, so their
schemas are written here from the same :class:`~incidents.publish.layers.Layer` properties
and added as components by :func:`add_geojson_components` (a postprocessing hook).
"""

from __future__ import annotations

from django.utils import translation
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.utils import OpenApiParameter, extend_schema
from drf_spectacular.views import SCHEMA_KWARGS, SpectacularAPIView

from incidents.categories import Category
from incidents.publish.filters import FILTERSETS, MAX_ID
from incidents.publish.layers import COLLECTIONS, LAYERS, Layer

POSITION = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 3}


def _geometry(kind: str, coordinates: dict) -> dict:
    return {
        "type": "object",
        "required": ["type", "coordinates"],
        "properties": {"type": {"type": "string", "enum": [kind]}, "coordinates": coordinates},
    }


def _array(items: dict, min_items: int = 0) -> dict:
    return {"type": "array", "items": items, "minItems": min_items}


LINEAR_RING = _array(POSITION, 4)
GEOMETRIES = {
    "Point": _geometry("Point", POSITION),
    "MultiPoint": _geometry("MultiPoint", _array(POSITION)),
    "LineString": _geometry("LineString", _array(POSITION, 2)),
    "MultiLineString": _geometry("MultiLineString", _array(_array(POSITION, 2))),
    "Polygon": _geometry("Polygon", _array(LINEAR_RING)),
    "MultiPolygon": _geometry("MultiPolygon", _array(_array(LINEAR_RING))),
    "GeometryCollection": {
        "type": "object",
        "required": ["type", "geometries"],
        "properties": {
            "type": {"type": "string", "enum": ["GeometryCollection"]},
            "geometries": {"type": "array", "items": {"type": "object"}},
        },
    },
}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


# The error answers every open-data operation may give.
# Errors are JSON whatever the output format asked for (incidents/api/errors.py).
ERRORS = {(400, "application/json"): ref("Error"), (429, "application/json"): ref("Error")}
NOT_FOUND = {(404, "application/json"): ref("Error")}


def geometry_schema(layer: Layer) -> dict:
    refs = [ref(f"GeoJSON{kind}") for kind in layer.geometry_types]
    return refs[0] if len(refs) == 1 else {"oneOf": refs}


def properties_schema(layer: Layer, extra: dict | None = None) -> dict:
    properties = {prop.name: prop.schema for prop in layer.properties}
    properties.update(extra or {})
    return {"type": "object", "required": list(properties), "properties": properties}


def feature_schema(layer: Layer, extra: dict | None = None) -> dict:
    return {
        "type": "object",
        "required": ["type", "id", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "integer"},
            "geometry": geometry_schema(layer),
            "properties": properties_schema(layer, extra),
        },
    }


def collection_schema(layer: Layer, members: dict) -> dict:
    return {
        "type": "object",
        "required": ["type", "features", *members],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            **members,
            "features": {"type": "array", "items": ref(f"{layer.component}Feature")},
        },
    }


NULLABLE_URL = {"type": "string", "format": "uri", "nullable": True}
PAGE_MEMBERS = {
    "total": {"type": "integer", "description": "Number of features matching the filters."},
    "next": {**NULLABLE_URL, "description": "Next page, null on the last one."},
    "previous": {**NULLABLE_URL, "description": "Previous page, null on the first one."},
}

# Members of the incident detail beyond the list properties.
INCIDENT_DETAIL = {
    "works_zones": _array(
        {
            "type": "object",
            "required": ["id", "title", "distance_m"],
            "properties": {
                "id": {"type": "integer"},
                "title": {"type": "string"},
                "distance_m": {"type": "number", "description": "Metres to the zone's impact area."},
            },
        }
    ),
    "posts": _array(
        {
            "type": "object",
            "description": "A post about the incident. Anonymous callers get scrubbed text and no author data.",
            "required": ["source", "posted_at", "text", "language", "category"],
            "properties": {
                "source": {"type": "string"},
                "posted_at": {"type": "string", "format": "date-time"},
                "text": {"type": "string"},
                "language": {"type": "string"},
                "category": {"type": "string"},
                "external_id": {"type": "string", "description": "Staff only."},
                "url": {"type": "string", "description": "Staff only."},
                "author_handle": {"type": "string", "description": "Staff only."},
                "author_id": {"type": "string", "description": "Staff only."},
                "media_urls": {"type": "array", "items": {"type": "string"}, "description": "Staff only."},
                "location": {**POSITION, "nullable": True, "description": "Staff only: [lon, lat]."},
                "raw": {"type": "object", "description": "Staff only: the payload as received."},
            },
        }
    ),
}

CLUSTERS = {
    "type": "object",
    "required": ["type", "zoom", "total", "features"],
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "zoom": {"type": "integer"},
        "total": {"type": "integer", "description": "Incidents in the viewport matching the filters."},
        "features": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "geometry", "properties"],
                "properties": {
                    "type": {"type": "string", "enum": ["Feature"]},
                    "id": {"type": "integer", "description": "The incident, for a single incident."},
                    "geometry": {"$ref": "#/components/schemas/GeoJSONPoint"},
                    "properties": {
                        "type": "object",
                        "required": ["cluster", "count"],
                        "properties": {
                            "cluster": {"type": "boolean"},
                            "count": {"type": "integer", "minimum": 1},
                            "expansion_zoom": {"type": "integer", "description": "Zoom at which the cluster splits."},
                            "categories": {
                                "type": "object",
                                "additionalProperties": {"type": "integer"},
                                "description": "Incidents per category code.",
                            },
                            "category": {"type": "string", "description": "For a single incident."},
                            "status": {"type": "string", "description": "For a single incident."},
                        },
                    },
                },
            },
        },
    },
}

# The period a report covers.
_PERIOD = {"from": {"type": "string", "format": "date-time"}, "to": {"type": "string", "format": "date-time"}}

COUNTS = {
    "type": "object",
    "required": ["from", "to", "total", "by_category", "by_affects"],
    "properties": {
        **_PERIOD,
        "total": {"type": "integer"},
        "by_category": {"type": "object", "additionalProperties": {"type": "integer"}},
        "by_affects": {
            "type": "object",
            "additionalProperties": {"type": "integer"},
            "description": "Incidents whose posts say they harm each group (an incident may count in several).",
        },
    },
}
IMPACT = {
    "type": "object",
    "required": [
        "works_zone",
        "title",
        "status",
        "radius_m",
        "announced",
        "before",
        "during",
        "excess",
        "ratio",
        "top_segments",
    ],
    "properties": {
        "works_zone": {"type": "integer"},
        "title": {"type": "string"},
        "status": {"type": "string", "enum": ["planned", "active", "ended"]},
        "radius_m": {"type": "number"},
        "announced": {
            "type": "object",
            "description": "What the works announced they would take: the pavement (pedestrians), cycle lanes, "
            "vehicle lanes, parking, the whole street.",
            "required": ["pedestrians", "cyclists", "motor_vehicles", "parking", "closure"],
            "properties": {
                name: {"type": "boolean"}
                for name in ("pedestrians", "cyclists", "motor_vehicles", "parking", "closure")
            },
        },
        "before": COUNTS,
        "during": COUNTS,
        "excess": {"type": "integer", "description": "Incidents during minus incidents before."},
        "ratio": {"type": "number", "nullable": True, "description": "During / before; null when before is 0."},
        "top_segments": _array(
            {
                "type": "object",
                "required": ["segment", "name", "before", "during"],
                "properties": {
                    "segment": {"type": "integer"},
                    "name": {"type": "string"},
                    "before": {"type": "integer"},
                    "during": {"type": "integer"},
                },
            }
        ),
    },
}
_DATETIME_NULLABLE = {"type": "string", "format": "date-time", "nullable": True}
_RESPONSE_TIMES = {
    "incidents": {"type": "integer", "description": "Incidents created in the window."},
    "open": {"type": "integer", "description": "Of which still new, acknowledged or dispatched."},
    "acknowledged": {"type": "integer", "description": "Of which had a first reaction (status changed from new)."},
    "resolved": {"type": "integer", "description": "Of which were resolved."},
    "median_acknowledge_s": {
        "type": "number",
        "nullable": True,
        "description": "Median seconds from creation to the first reaction; null when none.",
    },
    "median_resolve_s": {
        "type": "number",
        "nullable": True,
        "description": "Median seconds from creation to resolution; null when none.",
    },
}


def _times(**extra: dict) -> dict:
    properties = {**extra, **_RESPONSE_TIMES}
    return {"type": "object", "required": list(properties), "properties": properties}


TRIAGE_METRICS = {
    "type": "object",
    "required": ["from", "to", "overall", "by_category", "by_week"],
    "properties": {
        **_PERIOD,
        "overall": _times(),
        "by_category": _array(_times(category={"type": "string", "enum": [c for c, _label in Category.choices]})),
        "by_week": _array(_times(week={"type": "string", "format": "date", "description": "Monday of the week."})),
    },
}

IMPACT_RANKING = {
    "type": "object",
    "required": ["type", "total", "next", "previous", "features"],
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        **PAGE_MEMBERS,
        "features": _array(
            {
                "type": "object",
                "required": ["type", "id", "geometry", "properties"],
                "properties": {
                    "type": {"type": "string", "enum": ["Feature"]},
                    "id": {"type": "integer"},
                    "geometry": geometry_schema(LAYERS["works-zones"]),
                    "properties": {
                        "type": "object",
                        "required": ["rank", "title", "starts_at", "ends_at", "incidents_before",
                                     "incidents_during", "excess", "ratio"],
                        "properties": {
                            "rank": {"type": "integer"},
                            "title": {"type": "string"},
                            "starts_at": {"type": "string", "format": "date-time"},
                            "ends_at": _DATETIME_NULLABLE,
                            "measured_from": {"type": "string", "format": "date-time"},
                            "measured_to": {"type": "string", "format": "date-time"},
                            "incidents_before": {"type": "integer"},
                            "incidents_during": {"type": "integer"},
                            "excess": {"type": "integer"},
                            "ratio": {"type": "number", "nullable": True},
                        },
                    },
                },
            }
        ),
    },
}  # fmt: skip

ERROR = {
    "type": "object",
    "description": "What was wrong: a `detail` message, or a list of messages per parameter.",
    "additionalProperties": True,
}


def components() -> dict:
    schemas = {f"GeoJSON{kind}": schema for kind, schema in GEOMETRIES.items()}
    for layer in LAYERS.values():
        schemas[f"{layer.component}Feature"] = feature_schema(layer)
        schemas[f"{layer.component}FeatureCollection"] = collection_schema(layer, PAGE_MEMBERS)
    schemas["IncidentDetailFeature"] = feature_schema(LAYERS["incidents"], INCIDENT_DETAIL)
    schemas["ClusterCollection"] = CLUSTERS
    schemas["WorksZoneImpact"] = IMPACT
    schemas["WorksImpactCollection"] = IMPACT_RANKING
    schemas["TriageMetrics"] = TRIAGE_METRICS
    schemas.update(ogc_components())
    schemas["Error"] = ERROR
    return schemas


class OpenDataAutoSchema(AutoSchema):
    """drf-spectacular's schema, told two things it cannot see in our views.

    Our list responses are FeatureCollection objects, never JSON arrays; and reads need
    no credentials (our permission classes are not the DRF ones spectacular recognises).
    """

    def _is_list_view(self, serializer=None) -> bool:
        return False

    def get_auth(self):
        auths = super().get_auth()
        if self.method in ("GET", "HEAD", "OPTIONS") and {} not in auths:
            auths.append({})
        return auths


def add_geojson_components(result, generator, request, public):
    """drf-spectacular postprocessing hook: add the GeoJSON schemas referenced by the views."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(components())
    return result


# Constraints of the query parameters, so that clients (and API fuzzers) know what is valid.
_NUMBER = r"-?[0-9]{1,3}(\.[0-9]{1,12})?"
_INSTANT = (
    r"[0-9]{4}-[01][0-9]-[0-3][0-9](T[0-2][0-9]:[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|[+-][01][0-9]:[0-5][0-9]))?"
)
_END = rf"(\.\.|{_INSTANT})"
BBOX = {"type": "string", "pattern": rf"^{_NUMBER},{_NUMBER},{_NUMBER},{_NUMBER}$", "example": "1.43,43.59,1.46,43.61"}
POINT = {"type": "string", "pattern": rf"^{_NUMBER},{_NUMBER}$", "example": "1.444,43.604"}
DATETIME = {"type": "string", "pattern": rf"^({_INSTANT}|{_END}/{_END})$", "example": "2024-05-01T00:00:00Z/.."}
IDENTIFIER = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
INSTANT = {"type": "string", "pattern": rf"^{_INSTANT}$", "example": "2024-05-01T00:00:00Z"}
BOOLEAN = {"type": "string", "enum": ["true", "false"]}
LIMIT = {"type": "string", "pattern": "^([1-9][0-9]{0,2}|1000|all)$", "default": "100"}
OFFSET = {"type": "integer", "minimum": 0, "maximum": 2**31 - 1, "default": 0}


def codes(values) -> dict:
    """A comma-separated list of codes."""
    alternatives = "|".join(values)
    return {"type": "string", "pattern": f"^({alternatives})(,({alternatives}))*$"}


def ordering(keys) -> dict:
    alternatives = "|".join(keys)
    return {"type": "string", "pattern": f"^-?({alternatives})(,-?({alternatives}))*$"}


def parameter_schema(name: str, field) -> dict:
    """The OpenAPI schema of a form field or filter, with its bounds."""
    field_class = getattr(field, "field_class", None) or type(field)
    options = getattr(field, "extra", {}) if hasattr(field, "field_class") else field.__dict__
    kind = field_class.__name__
    if name in {"bbox"}:
        return BBOX
    if name == "near":
        return POINT
    if name == "datetime":
        return DATETIME
    if kind == "StrictBooleanField":
        return BOOLEAN
    if kind == "DateField":
        return {"type": "string", "format": "date"}
    if kind == "CodeListField":
        return codes(getattr(field, "valid", None) or options.get("choices", []))
    if kind == "ChoiceField":
        return {"type": "string", "enum": [value for value, _label in options.get("choices", [])]}
    if kind == "IntegerField":
        schema = dict(IDENTIFIER) if name not in {"zoom"} else {"type": "integer"}
    elif kind in {"DecimalField", "FloatField"}:
        schema = {"type": "number"}
    else:
        return {"type": "string", "minLength": 1, "maxLength": 255}
    for key, bound in (("minimum", "min_value"), ("maximum", "max_value")):
        value = options.get(bound)
        if value is not None:
            schema[key] = value
    return schema


def filter_parameters(layer: Layer) -> list[OpenApiParameter]:
    """Query parameters of a layer's list: its filters with their constraints."""
    filterset = FILTERSETS[layer.name]
    parameters = []
    for name, filter_ in filterset.base_filters.items():
        description = str(filter_.label or getattr(filter_, "help_text", "") or "")
        schema = ordering(layer.ordering_fields) if name == "ordering" else parameter_schema(name, filter_)
        parameters.append(OpenApiParameter(name, schema, description=description))
    return parameters


def form_parameters(form_class) -> list[OpenApiParameter]:
    """Query parameters of a Django form, with their constraints."""
    return [
        OpenApiParameter(name, parameter_schema(name, field), required=field.required, description=str(field.help_text))
        for name, field in form_class.base_fields.items()
    ]


PAGE_PARAMETERS = [
    OpenApiParameter("limit", LIMIT, description="Features per page, 1 to 1000 (default 100), or 'all' to export."),
    OpenApiParameter("offset", OFFSET, description="Index of the first feature (default 0)."),
    OpenApiParameter("format", str, enum=["geojson", "json", "csv"], description="Output format (default geojson)."),
]


def ogc_components() -> dict:
    """Schemas of the OGC API – Features documents (after OGC's published building blocks)."""
    link = {
        "type": "object",
        "required": ["href", "rel"],
        "properties": {name: {"type": "string"} for name in ("href", "rel", "type", "hreflang", "title")},
    }
    links = {"type": "array", "items": ref("OGCLink")}
    feature_any = {"anyOf": [ref(f"{layer.component}Feature") for layer in COLLECTIONS.values()]}
    bbox = {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 6}
    instant = {"type": "string", "format": "date-time", "nullable": True}
    return {
        "OGCLink": link,
        "OGCLandingPage": {
            "type": "object",
            "required": ["links"],
            "properties": {"title": {"type": "string"}, "description": {"type": "string"}, "links": links},
        },
        "OGCConformance": {
            "type": "object",
            "required": ["conformsTo"],
            "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}},
        },
        "OGCCollection": {
            "type": "object",
            "required": ["id", "links"],
            "properties": {
                "id": {"type": "string"},
                "title": {"type": "string"},
                "description": {"type": "string"},
                "links": links,
                "extent": {
                    "type": "object",
                    "properties": {
                        "spatial": {
                            "type": "object",
                            "properties": {"bbox": {"type": "array", "items": bbox}, "crs": {"type": "string"}},
                        },
                        "temporal": {
                            "type": "object",
                            "properties": {
                                "interval": {"type": "array", "items": {"type": "array", "items": instant}},
                                "trs": {"type": "string"},
                            },
                        },
                    },
                },
                "itemType": {"type": "string"},
                "crs": {"type": "array", "items": {"type": "string"}},
            },
        },
        "OGCCollections": {
            "type": "object",
            "required": ["links", "collections"],
            "properties": {"links": links, "collections": {"type": "array", "items": ref("OGCCollection")}},
        },
        "OGCFeature": {"allOf": [feature_any, {"type": "object", "properties": {"links": links}}]},
        "OGCFeatureCollection": {
            "type": "object",
            "required": ["type", "features", "links", "numberMatched", "numberReturned", "timeStamp"],
            "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "links": links,
                "numberMatched": {"type": "integer", "minimum": 0},
                "numberReturned": {"type": "integer", "minimum": 0},
                "timeStamp": {"type": "string", "format": "date-time"},
                "features": {"type": "array", "items": feature_any},
            },
        },
        "OGCException": {
            "type": "object",
            "required": ["code"],
            "properties": {"code": {"type": "string"}, "description": {"type": "string"}},
        },
        "OGCQueryables": {
            "type": "object",
            "description": "JSON Schema of the properties a CQL2 filter may name.",
            "required": ["type", "properties"],
            "properties": {"type": {"type": "string"}, "title": {"type": "string"}, "properties": {"type": "object"}},
        },
        "OGCTileMatrixSets": {
            "type": "object",
            "required": ["tileMatrixSets"],
            "properties": {"links": links, "tileMatrixSets": {"type": "array", "items": {"type": "object"}}},
        },
        "OGCTileMatrixSet": {
            "type": "object",
            "description": "OGC 2D Tile Matrix Set 2.0 (JSON).",
            "required": ["id", "crs", "tileMatrices"],
            "properties": {
                "id": {"type": "string"},
                "uri": {"type": "string"},
                "crs": {"type": "string"},
                "tileMatrices": {"type": "array", "items": {"type": "object"}},
            },
        },
        "OGCTilesets": {
            "type": "object",
            "required": ["tilesets"],
            "properties": {"links": links, "tilesets": {"type": "array", "items": {"type": "object"}}},
        },
        "OGCTileset": {
            "type": "object",
            "required": ["dataType", "tileMatrixSetURI", "links"],
            "properties": {
                "title": {"type": "string"},
                "dataType": {"type": "string", "enum": ["vector"]},
                "crs": {"type": "string"},
                "tileMatrixSetURI": {"type": "string"},
                "links": links,
                "layers": {"type": "array", "items": {"type": "object"}},
            },
        },
    }


OPENAPI_30_JSON = "application/vnd.oai.openapi+json;version=3.0"


class SchemaView(SpectacularAPIView):
    """``/api/schema/``: the OpenAPI 3.0 document, in English unless ``?lang=`` asks otherwise.

    The document is written in English; only the layers' titles and descriptions are
    translatable, and a document half in the caller's language would help nobody.
    """

    @extend_schema(**SCHEMA_KWARGS)
    def get(self, request, *args, **kwargs):
        if request.GET.get("lang"):
            return super().get(request, *args, **kwargs)
        with translation.override("en"):
            return super().get(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # Label the OpenAPI JSON as the OGC landing page announces it (GDAL checks the label).
        if response.status_code == 200 and response.accepted_media_type.startswith(OpenApiJsonRenderer.media_type):
            response.content_type = OPENAPI_30_JSON
        return response
