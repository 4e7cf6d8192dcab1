"""Read features from GeoJSON and Opendatasoft JSON, and the generic ``--map`` importers.

:func:`iter_features` gives one :class:`Feature` per record, whatever the container:

* a GeoJSON ``FeatureCollection`` (or a single ``Feature``);
* an Opendatasoft v2.1 API answer (``{"total_count": n, "results": [...]}``) or its
  JSON export (a list of flat records), the geometry in ``geo_shape`` (a Feature or a
  bare geometry) or, for points, ``geo_point_2d`` (``{"lon", "lat"}``);
* an Opendatasoft v1 answer or export (``records`` / a list of
  ``{"recordid", "fields", "geometry"}``), where ``geo_point_2d`` is ``[lat, lon]``.

The generic parsers below turn features into records through a
:class:`~incidents.importers.fields.FieldMap`; the Toulouse parsers reuse them with
their presets.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from incidents.importers import geometry
from incidents.importers.fields import FieldMap
from incidents.importers.records import DistrictRecord, ParsedFile, Progress, StreetRecord, WorksRecord, no_progress
from incidents.importers.restrictions import parse_circulation
from incidents.importers.values import email_address, insee_code, text
from incidents.inputs import InputError, InputFile, RecordError, parse_datetime

# Opendatasoft keeps the geometry in these fields; they are not copied into properties.
ODS_GEOMETRY_FIELDS = ("geo_shape", "geo_point_2d")
PROGRESS_EVERY = 2_000


@dataclass(slots=True)
class Feature:
    """One record of a file: its position (for messages), id, attributes and GeoJSON geometry."""

    position: str
    id: Any
    properties: dict[str, Any]
    geometry: Any


@dataclass(slots=True)
class FeatureList:
    features: list[Feature]
    # How many records the source says it has in all (Opendatasoft ``total_count``), if it says.
    total_count: int | None = None
    container: str = "GeoJSON"


def _ods_geometry(fields: Mapping[str, Any], v1: bool) -> Any:
    shape = fields.get("geo_shape")
    if isinstance(shape, Mapping):
        return shape.get("geometry") if shape.get("type") == "Feature" else shape
    point = fields.get("geo_point_2d")
    if isinstance(point, Mapping) and "lon" in point and "lat" in point:
        return {"type": "Point", "coordinates": [point["lon"], point["lat"]]}
    if v1 and isinstance(point, list) and len(point) == 2:
        # Opendatasoft v1 writes geo_point_2d as [lat, lon].
        return {"type": "Point", "coordinates": [point[1], point[0]]}
    return None


def _ods_flat(position: str, record: Any) -> Feature:
    if not isinstance(record, Mapping):
        return Feature(position, None, {}, None)
    properties = {k: v for k, v in record.items() if k not in ODS_GEOMETRY_FIELDS}
    return Feature(position, None, properties, _ods_geometry(record, v1=False))


def _ods_v1(position: str, record: Any) -> Feature:
    if not isinstance(record, Mapping):
        return Feature(position, None, {}, None)
    fields = record.get("fields") or {}
    properties = {k: v for k, v in fields.items() if k not in ODS_GEOMETRY_FIELDS}
    geom = record.get("geometry") or _ods_geometry(fields, v1=True)
    return Feature(position, record.get("recordid"), properties, geom)


def _geojson_feature(position: str, feature: Any) -> Feature:
    if not isinstance(feature, Mapping):
        return Feature(position, None, {}, None)
    properties = feature.get("properties")
    properties = dict(properties) if isinstance(properties, Mapping) else {}
    return Feature(position, feature.get("id"), properties, feature.get("geometry"))


# Opendatasoft API answers: the list's key, the key of the total count, how to read a record.
ODS_ANSWERS = (
    ("results", "total_count", _ods_flat, "Opendatasoft API"),
    ("records", "nhits", _ods_v1, "Opendatasoft API v1"),
)


def iter_features(document: Any, name: str) -> FeatureList:
    """The features of a parsed JSON ``document``; raise :class:`InputError` if it holds none we can read."""
    if isinstance(document, Mapping):
        kind = document.get("type")
        if kind == "FeatureCollection":
            features = document.get("features")
            if not isinstance(features, list):
                raise InputError(_("%(name)s: a FeatureCollection without a 'features' list.") % {"name": name})
            return FeatureList([_geojson_feature(f"features[{i}]", f) for i, f in enumerate(features)])
        if kind == "Feature":
            return FeatureList([_geojson_feature("feature", document)])
        for key, total_key, read, container in ODS_ANSWERS:
            if isinstance(document.get(key), list):
                total = document.get(total_key)
                return FeatureList(
                    [read(f"{key}[{i}]", record) for i, record in enumerate(document[key])],
                    total if isinstance(total, int) else None,
                    container,
                )
    elif isinstance(document, list):
        if document and isinstance(document[0], Mapping) and "fields" in document[0]:
            return FeatureList([_ods_v1(f"[{i}]", r) for i, r in enumerate(document)], container="Opendatasoft v1")
        return FeatureList([_ods_flat(f"[{i}]", r) for i, r in enumerate(document)], container="JSON records")
    raise InputError(
        _(
            "%(name)s: neither GeoJSON (a FeatureCollection) nor an Opendatasoft records export "
            "(a 'results' list, a 'records' list or a list of records)."
        )
        % {"name": name}
    )


def all_properties(features: list[Feature]) -> set[str]:
    """Property names used by the first features (enough to recognise a schema)."""
    return {key for feature in features[:50] for key in feature.properties}


def feature_ewkt(feature: Feature, fields: FieldMap, allowed: frozenset[str]) -> str:
    """The feature's geometry as EWKT: its GeoJSON geometry, or the mapped lon/lat columns."""
    if feature.geometry is None and "lon" in fields and "lat" in fields:
        lon, lat = fields.get(feature.properties, "lon"), fields.get(feature.properties, "lat")
        if lon is None or lat is None:
            raise RecordError(_("missing geometry (no coordinates)"))
        return geometry.point_to_ewkt(lon, lat)
    return geometry.geojson_to_ewkt(feature.geometry, allowed)


def required(fields: FieldMap, feature: Feature, name: str, fallback: Any = None) -> str:
    value = fields.get(feature.properties, name)
    value = text(fallback if value is None else value)
    if not value:
        raise RecordError(
            _("no %(name)s (looked in %(where)s; choose another with --map %(name)s=PROPERTY)")
            % {"name": name, "where": fields.describe(name)}
        )
    return value


_HOUSE_NUMBERS = re.compile(r"\(\s*[\d\s]*-?[\d\s]*\)\s*$")


def split_road_names(value: Any) -> list[str]:
    """Road names from a published value: a list, or text separated by '|' or ';'.

    House-number ranges such as "(  - )" or "(12 - 30)" are dropped; duplicates too.
    """
    if value is None:
        return []
    items = value if isinstance(value, list) else re.split(r"[|;]", str(value))
    names: list[str] = []
    for item in items:
        name = _HOUSE_NUMBERS.sub("", text(item)).strip()
        if name and name not in names:
            names.append(name)
    return names


def parse_features(
    input_file: InputFile,
    build: Callable[[Feature], Any],
    parsed: ParsedFile,
    progress: Progress = no_progress,
    fields: FieldMap | None = None,
) -> FeatureList:
    """Run ``build`` on every feature of ``input_file``; records go to ``parsed``, failures become rejections.

    A rejection names the record by position and, when it has one, by its id (read
    through ``fields``).
    """
    features = iter_features(input_file.json(), input_file.name)
    total = len(features.features)
    phase = _("reading %(name)s") % {"name": input_file.name}
    for index, feature in enumerate(features.features):
        feature.position = f"{input_file.name}: {feature.position}{_id_hint(feature, fields)}"
        try:
            record = build(feature)
        except RecordError as error:
            parsed.reject(feature.position, str(error))
        else:
            if record is not None:
                parsed.records.append(record)
        if index % PROGRESS_EVERY == 0:
            progress(phase, index, total)
    progress(phase, total, total)
    return features


def note_partial(parsed: ParsedFile, features: FeatureList, name: str) -> bool:
    """Mark ``parsed`` incomplete, with a note, when ``features`` is one page of a larger answer; say if it is."""
    count = len(features.features)
    if features.total_count is None or features.total_count <= count:
        return False
    parsed.complete = False
    parsed.notes.append(
        _("%(name)s: a partial answer (%(count)s of %(total)s records): what is missing from it is kept as it is.")
        % {"name": name, "count": f"{count:,}", "total": f"{features.total_count:,}"}
    )
    return True


def _id_hint(feature: Feature, fields: FieldMap | None) -> str:
    identifier = (fields.get(feature.properties, "id") if fields else None) or feature.id
    return f" (id {text(identifier)})" if text(identifier) else ""


# --- generic importers (``--format geojson``) ------------------------------------------

GENERIC_STREET_PRESET = {"id": ("id",), "name": ("name",)}
GENERIC_WORKS_PRESET = {
    "id": ("id",),
    "title": ("title", "name"),
    "description": ("description",),
    "start": ("start", "start_date", "starts_at"),
    "end": ("end", "end_date", "ends_at"),
    "impact": ("impact",),
}
# Districts: common names of code/name columns, including the INSEE "grands quartiers" and IRIS ones.
GENERIC_DISTRICT_PRESET = {
    "code": ("code", "grd_quart", "code_iris", "iris"),
    "name": ("name", "nom", "lib_grd_quart", "nom_iris", "libelle"),
}


def build_street(feature: Feature, fields: FieldMap, source_id: Callable[[Feature], str] | None = None) -> StreetRecord:
    """A :class:`StreetRecord` from a feature read through ``fields``."""
    identifier = source_id(feature) if source_id else required(fields, feature, "id", feature.id)
    name = required(fields, feature, "name")
    props = feature.properties
    return StreetRecord(
        position=feature.position,
        source_id=identifier,
        name=name,
        ewkt=feature_ewkt(feature, fields, geometry.LINES),
        street_id=text(fields.get(props, "street_id")),
        commune=text(fields.get(props, "commune")),
        insee_code=insee_code(fields.get(props, "insee")),
        properties=props,
    )


def build_works(
    feature: Feature,
    fields: FieldMap,
    *,
    source_id: str | None = None,
    seen_at: dt.datetime | None = None,
    utc_midnight_is_a_day: bool = False,
) -> WorksRecord:
    """A :class:`WorksRecord` from a feature read through ``fields``.

    Dates are read by :func:`~incidents.inputs.parse_datetime`, French day-first dates
    included; ``utc_midnight_is_a_day`` reads UTC midnight as the calendar day it stands for.
    """
    props = feature.properties
    identifier = source_id or required(fields, feature, "id", feature.id)

    def read_date(name: str, label: str, end: bool = False) -> dt.datetime | None:
        value = fields.get(props, name)
        return parse_datetime(value, label=label, end=end, day_first=True, utc_midnight_is_a_day=utc_midnight_is_a_day)

    starts_at = read_date("start", "start date")
    if starts_at is None:
        raise RecordError(
            _("no start date (looked in %(where)s; choose another with --map start=PROPERTY)")
            % {"where": fields.describe("start")}
        )
    ends_at = read_date("end", "end date", end=True)
    if ends_at is not None and ends_at < starts_at:
        raise RecordError(
            _("ends (%(end)s) before it starts (%(start)s)")
            % {"end": ends_at.isoformat(), "start": starts_at.isoformat()}
        )
    seen = read_date("seen", "snapshot time") or seen_at
    return WorksRecord(
        position=feature.position,
        source_id=identifier,
        starts_at=starts_at,
        ends_at=ends_at,
        ewkt=feature_ewkt(feature, fields, geometry.ANY),
        reference=text(fields.get(props, "reference")),
        title=text(fields.get(props, "title")),
        description=text(fields.get(props, "description")),
        nature=text(fields.get(props, "nature")),
        road_names=split_road_names(fields.get(props, "road")),
        commune=text(fields.get(props, "commune")),
        declarant=text(fields.get(props, "declarant")),
        contractor=text(fields.get(props, "contractor")),
        contact=email_address(fields.get(props, "contact")),
        impact=parse_circulation(text(fields.get(props, "impact"))),
        seen_at=seen,
        properties=props,
    )


def build_district(feature: Feature, fields: FieldMap) -> DistrictRecord:
    return DistrictRecord(
        position=feature.position,
        code=required(fields, feature, "code", feature.id),
        name=required(fields, feature, "name"),
        ewkt=feature_ewkt(feature, fields, geometry.POLYGONS),
        properties=feature.properties,
    )


def parse_streets(
    input_file: InputFile, overrides: Mapping[str, str], progress: Progress = no_progress, **_options: Any
) -> ParsedFile[StreetRecord]:
    """Generic GeoJSON/JSON streets: ``id`` and ``name`` from the feature or ``--map``."""
    fields = FieldMap(GENERIC_STREET_PRESET, overrides)
    parsed: ParsedFile[StreetRecord] = ParsedFile()
    features = parse_features(input_file, lambda f: build_street(f, fields), parsed, progress, fields)
    note_partial(parsed, features, input_file.name)
    return parsed


def parse_works(
    input_file: InputFile,
    overrides: Mapping[str, str],
    progress: Progress = no_progress,
    as_of: dt.datetime | None = None,
    **_options: Any,
) -> ParsedFile[WorksRecord]:
    """Generic GeoJSON/JSON works (points, lines, polygons) through ``--map``.

    With ``as_of`` the file is taken as a full snapshot of its source at that time.
    """
    fields = FieldMap(GENERIC_WORKS_PRESET, overrides)
    parsed: ParsedFile[WorksRecord] = ParsedFile()
    parse_features(input_file, lambda f: build_works(f, fields, seen_at=as_of), parsed, progress, fields)
    if as_of is not None:
        parsed.snapshots.append(as_of)
    return parsed


def parse_districts(
    input_file: InputFile, overrides: Mapping[str, str], progress: Progress = no_progress, **_options: Any
) -> ParsedFile[DistrictRecord]:
    fields = FieldMap(GENERIC_DISTRICT_PRESET, overrides)
    parsed: ParsedFile[DistrictRecord] = ParsedFile()
    parse_features(input_file, lambda f: build_district(f, fields), parsed, progress)
    return parsed
