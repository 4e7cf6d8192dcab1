"""Work zone feeds of the WZDx family: WZDx 4.x, WZDx 3.x and Connected Work Zones (CWZ) 1.0.

All three are a GeoJSON ``FeatureCollection`` of road events plus feed information; they
differ in names and nesting, and every feed is first brought to the WZDx 4.x shape:

* **WZDx 4.x** (``feed_info``, or 4.0's ``road_event_feed_info``; event fields under
  ``core_details``) is validated offline against the WZDx 4.2 JSON Schema
  (``WorkZoneFeed.json`` and the schemas it references, plus the GeoJSON geometry
  schemas that WZDx references by URL, all registered by ``$id``). Schema violations
  are reported per feature and the valid features are imported; a violation outside
  the features (e.g. in ``feed_info``) is reported as a note.
* **WZDx 3.x** (``road_event_feed_info``; flat event properties, ``road_name`` and
  ``road_event_id`` in 3.0, lane types such as ``lane`` and ``right-shoulder``,
  restrictions as plain codes) and **CWZ 1.0** (the 4.2 model with camelCase names:
  ``feedInfo``, ``coreDetails``, ``startDate``...) are read field by field: their schemas
  are not the one we ship, so a road event is refused only for what we cannot read
  (no id, no readable start date, a geometry that is not a line or points).

What becomes of a road event: ``work-zone`` events become works zones (road names,
start/end dates, geometry as published: LineString or MultiPoint, impact from
``vehicle_impact``, lanes and restrictions, the data source's organisation as
declarant, the types of work as nature). ``detour`` events describe the detour route,
not an obstruction: they are skipped and counted. A feed is a full snapshot as of its
``update_date``: zones of the same source missing from a newer feed are withdrawn. A
road event that cannot be read is rejected with its position and the reason; the
others are imported.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.text import slugify
from django.utils.translation import gettext as _
from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from incidents.importers import geometry
from incidents.importers.records import ParsedFile, Progress, WorksRecord, no_progress
from incidents.importers.restrictions import parse_wzdx
from incidents.importers.values import text
from incidents.inputs import InputError, InputFile, RecordError, parse_datetime

SCHEMA_DIR = settings.BASE_DIR / "fixtures" / "wzdx"
WORK_ZONE_FEED = "https://raw.githubusercontent.com/usdot-jpo-ode/wzdx/main/schemas/4.2/WorkZoneFeed.json"
WZDX_4, WZDX_3, CWZ_1 = "WZDx 4", "WZDx 3", "CWZ 1.0"
# WZDx 3.x lane types and the 4.x types they became ("lane" and its positions: "general").
LANE_TYPES_3 = {
    **dict.fromkeys(("lane", "left-lane", "right-lane", "middle-lane", "center-lane"), "general"),
    **dict.fromkeys(("left-shoulder", "right-shoulder"), "shoulder"),
}
# The fields of a 3.x event that 4.x moved under core_details.
CORE_FIELDS_3 = ("data_source_id", "event_type", "road_names", "direction", "description", "relationship", "name")
UNITS_3 = "restriction_units"
_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@functools.cache
def feed_validator() -> Draft7Validator:
    """A validator for WZDx 4.2 work zone feeds that resolves every reference offline."""
    resources = []
    for folder in ("schema_4.2", "geojson_schema"):
        for path in sorted((SCHEMA_DIR / folder).glob("*.json")):
            contents = json.loads(path.read_text(encoding="utf-8"))
            resources.append((contents["$id"], Resource.from_contents(contents, default_specification=DRAFT7)))
    registry = Registry().with_resources(resources)
    return Draft7Validator(registry.contents(WORK_ZONE_FEED), registry=registry)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _mappings(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _features(document: Mapping[str, Any]) -> list:
    features = document.get("features")
    return features if isinstance(features, list) else []


def _properties(feature: Any) -> Mapping[str, Any]:
    return _mapping(feature.get("properties")) if isinstance(feature, Mapping) else {}


def feed_version(document: Mapping[str, Any]) -> str:
    """Which member of the family ``document`` is: :data:`WZDX_4`, :data:`WZDX_3` or :data:`CWZ_1`."""
    first = [_properties(f) for f in _features(document)[:10]]
    if "feedInfo" in document or any("coreDetails" in p for p in first):
        return CWZ_1
    if "feed_info" in document or any("core_details" in p for p in first):
        return WZDX_4
    return WZDX_3


def detect(input_file: InputFile) -> bool:
    if not input_file.looks_like_json:
        return False
    document = input_file.json()
    if not isinstance(document, Mapping) or document.get("type") != "FeatureCollection":
        return False
    if {"feed_info", "road_event_feed_info", "feedInfo"} & set(document):
        return True
    return any({"core_details", "coreDetails"} & set(_properties(f)) for f in _features(document)[:10])


# --- one shape: WZDx 4.x ---------------------------------------------------------------------


def snake_case(value: Any) -> Any:
    """``value`` with every object key in snake_case (CWZ's ``startDate`` is WZDx's ``start_date``)."""
    if isinstance(value, Mapping):
        return {_CAMEL_HUMP.sub("_", str(key)).lower(): snake_case(item) for key, item in value.items()}
    if isinstance(value, list):
        return [snake_case(item) for item in value]
    return value


def _lanes_from_3(lanes: Any) -> list[dict[str, Any]]:
    return [
        {
            **lane,
            "type": LANE_TYPES_3.get(lane["type"], lane["type"]) if isinstance(lane.get("type"), str) else None,
            "restrictions": [
                {
                    "type": r.get("restriction_type"),
                    "value": r.get("restriction_value"),
                    "unit": r.get("restriction_units"),
                }
                for r in _mappings(lane.get("restrictions"))
            ],
        }
        for lane in _mappings(lanes)
    ]


def event_from_3(props: Mapping[str, Any]) -> dict[str, Any]:
    """A WZDx 3.x road event's properties in the 4.x shape (``core_details``, typed restrictions)."""
    core = {name: props[name] for name in CORE_FIELDS_3 if name in props}
    if "road_names" not in core and props.get("road_name"):
        core["road_names"] = [props["road_name"]]  # 3.0, deprecated in 3.1
    restrictions = props.get("restrictions")
    return {
        **{name: value for name, value in props.items() if name not in CORE_FIELDS_3},
        "core_details": core,
        "lanes": _lanes_from_3(props.get("lanes")),
        "restrictions": [{"type": r} for r in restrictions if isinstance(r, str)]
        if isinstance(restrictions, list)
        else [],
    }


def event_in_4x_shape(feature: Any, version: str) -> dict[str, Any] | None:
    """The road event of ``feature`` in the WZDx 4.x shape; ``None`` when it is not a Feature with properties."""
    if not isinstance(feature, Mapping) or not isinstance(feature.get("properties"), Mapping):
        return None
    props = feature["properties"]
    if version == CWZ_1:
        return snake_case(props)
    if version == WZDX_3 and "core_details" not in props:
        return event_from_3(props)
    return dict(props)


def _feature_id(feature: Any, event: Mapping[str, Any] | None) -> str:
    """The feature's id; WZDx 3.0 gave it as the event's ``road_event_id``."""
    identifier = feature.get("id") if isinstance(feature, Mapping) else None
    if identifier in (None, "") and event is not None:
        identifier = event.get("road_event_id")
    return text(identifier) if isinstance(identifier, str | int) and not isinstance(identifier, bool) else ""


# --- WZDx 4.2 schema ---------------------------------------------------------------------------


def _error_text(error: ValidationError, skip: int = 0) -> str:
    where = "/".join(str(part) for part in list(error.absolute_path)[skip:])
    return f"{where}: {error.message}" if where else error.message


def _leaves(errors: list[ValidationError]):
    for error in errors:
        if error.context:
            yield from _leaves(error.context)
        else:
            yield error


def explain(errors: list[ValidationError]) -> ValidationError:
    """The most specific violation among a feature's errors.

    A work zone with one bad field fails both branches of the ``oneOf`` (work zone or
    detour); "'detour' was expected" is true but useless, so the other branch's event
    type mismatch is left out, and the deepest remaining error explains best.
    """
    leaves = list(_leaves(errors))
    useful = [e for e in leaves if not (e.validator == "const" and list(e.path)[-1:] == ["event_type"])]
    return max(useful or leaves, key=lambda error: len(error.absolute_path))


def schema_errors(document: Any) -> tuple[dict[int, list[ValidationError]], list[ValidationError]]:
    """Schema violations of a feed: by feature index, and those outside the features."""
    by_feature: dict[int, list[ValidationError]] = defaultdict(list)
    feed_level: list[ValidationError] = []
    for error in feed_validator().iter_errors(document):
        path = list(error.absolute_path)
        if len(path) >= 2 and path[0] == "features" and isinstance(path[1], int):
            by_feature[path[1]].append(error)
        else:
            feed_level.append(error)
    return by_feature, feed_level


# --- records -----------------------------------------------------------------------------------


def _declarants(info: Mapping[str, Any]) -> dict[str, str]:
    return {
        text(source.get("data_source_id")): text(source.get("organization_name"))
        for source in _mappings(info.get("data_sources"))
    }


def _texts(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [text(item) for item in values if isinstance(item, str | int | float) and text(item)]


def published_name(version: str, field: str) -> str:
    """``field`` as a feed of ``version`` writes it (CWZ: camelCase), for messages."""
    if version != CWZ_1:
        return field
    head, *rest = field.split("_")
    return head + "".join(part.title() for part in rest)


@dataclass(frozen=True)
class _Feed:
    """What every road event of one feed shares."""

    version: str
    publisher: str
    declarants: Mapping[str, str]
    seen_at: dt.datetime | None

    def label(self, field: str) -> str:
        return published_name(self.version, field)


def _build(
    position: str, identifier: str, feature: Mapping[str, Any], event: Mapping[str, Any], feed: _Feed
) -> WorksRecord:
    if not identifier:
        raise RecordError(_("no id (a road event is known by its feature id)"))
    core = _mapping(event.get("core_details"))
    start_label, end_label = feed.label("start_date"), feed.label("end_date")
    starts_at = parse_datetime(event.get("start_date"), label=start_label)
    if starts_at is None:
        raise RecordError(_("no %(field)s") % {"field": start_label})
    ends_at = parse_datetime(event.get("end_date"), label=end_label)
    if ends_at is not None and ends_at < starts_at:
        raise RecordError(
            _("%(end_field)s %(end)s is before %(start_field)s %(start)s")
            % {
                "end_field": end_label,
                "end": event["end_date"],
                "start_field": start_label,
                "start": event["start_date"],
            }
        )
    road_names = _texts(core.get("road_names"))
    direction = " ".join(_texts(core.get("direction"))).replace("-", " ")
    title = " ".join(_texts(core.get("name"))) or " ".join([", ".join(road_names), direction]).strip()
    works_types = [name for w in _mappings(event.get("types_of_work")) for name in _texts(w.get("type_name"))]
    return WorksRecord(
        position=position,
        source_id=identifier,
        starts_at=starts_at,
        ends_at=ends_at,
        ewkt=geometry.geojson_to_ewkt(feature.get("geometry"), geometry.LINE_OR_POINTS),
        title=title,
        description=" ".join(_texts(core.get("description"))),
        nature=", ".join(works_types),
        road_names=road_names,
        declarant=feed.declarants.get(text(core.get("data_source_id"))) or feed.publisher,
        impact=parse_wzdx(event),
        seen_at=feed.seen_at,
        properties=dict(feature["properties"]),
    )


def parse(
    input_file: InputFile,
    overrides: Mapping[str, str],
    progress: Progress = no_progress,
    as_of: dt.datetime | None = None,
    **_options: Any,
) -> ParsedFile[WorksRecord]:
    """Read the work zone events of a WZDx 4.x, WZDx 3.x or CWZ 1.0 feed (4.x validated first)."""
    name = input_file.name
    document = input_file.json()
    if not isinstance(document, Mapping) or document.get("type") != "FeatureCollection":
        raise InputError(_("%(name)s: a WZDx feed is a GeoJSON FeatureCollection.") % {"name": name})
    version = feed_version(document)
    info_key = {WZDX_4: "feed_info", WZDX_3: "road_event_feed_info", CWZ_1: "feedInfo"}[version]
    if version == WZDX_4 and "feed_info" not in document:
        info_key = "road_event_feed_info"  # WZDx 4.0
    info = snake_case(_mapping(document.get(info_key)))
    features = _features(document)
    events = [event_in_4x_shape(feature, version) for feature in features]
    if any("device_type" in _mapping(event.get("core_details")) for event in events if event is not None):
        raise InputError(
            _(
                "%(name)s: a WZDx device feed (arrow boards, cameras, signs...), not a work zone feed; "
                "import_works reads WorkZoneFeed files."
            )
            % {"name": name}
        )
    publisher = text(info.get("publisher")) if isinstance(info.get("publisher"), str) else ""
    parsed: ParsedFile[WorksRecord] = ParsedFile(default_source=f"wzdx-{slugify(publisher)}" if publisher else "wzdx")
    if overrides:
        parsed.notes.append(_("%(name)s: --map is ignored for WZDx feeds: their fields are standard.") % {"name": name})

    by_feature: dict[int, list[ValidationError]] = {}
    if version == WZDX_4:
        by_feature, feed_level = schema_errors(document)
        for error in feed_level:
            parsed.notes.append(
                _("%(name)s: schema violation outside the features: %(error)s")
                % {"name": name, "error": _error_text(error)}
            )
    try:
        update_date = parse_datetime(
            info.get("update_date"), label=f"{info_key}.{published_name(version, 'update_date')}"
        )
    except RecordError as error:
        parsed.notes.append(f"{name}: {error}")
        update_date = None
    feed = _Feed(version, publisher, _declarants(info), update_date or as_of)

    for index, (feature, event) in enumerate(zip(features, events, strict=True)):
        identifier = _feature_id(feature, event)
        position = f"{name}: features[{index}]" + (f" (id {identifier})" if identifier else "")
        progress(_("reading %(name)s") % {"name": name}, index + 1, len(features))
        if index in by_feature:
            errors = by_feature[index]
            more = _(" (and %(count)s more)") % {"count": len(errors) - 1} if len(errors) > 1 else ""
            reason = _error_text(explain(errors), skip=2)
            parsed.reject(position, _("WZDx 4.2 schema: %(reason)s%(more)s") % {"reason": reason, "more": more})
            continue
        if event is None:
            parsed.reject(position, _("not a GeoJSON Feature with properties"))
            continue
        if _mapping(event.get("core_details")).get("event_type") == "detour":
            parsed.skip(_("detour road events (a detour route, not works)"))
            continue
        try:
            parsed.records.append(_build(position, identifier, feature, event, feed))
        except RecordError as error:
            parsed.reject(position, str(error))
    if feed.seen_at is not None:
        parsed.snapshots.append(feed.seen_at)
    return parsed
