"""WZDx 4.x work zone feeds (a GeoJSON ``FeatureCollection`` with ``feed_info``).

Each feed is validated offline against the WZDx 4.2 JSON Schema (``WorkZoneFeed.json``
and the schemas it references, plus the GeoJSON geometry schemas that WZDx references
by URL, all registered by ``$id``). Schema violations are reported per feature and the
valid features are imported; a violation outside the features (e.g. in ``feed_info``)
is reported as a note.

What becomes of a road event: ``work-zone`` events become works zones (road names,
start/end dates, geometry as published: LineString or MultiPoint, impact from
``vehicle_impact``, lanes and restrictions, the data source's organisation as
declarant, the types of work as nature). ``detour`` events describe the detour route,
not an obstruction: they are skipped and counted. A feed is a full snapshot as of its
``update_date``: zones of the same source missing from a newer feed are withdrawn.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections import defaultdict
from collections.abc import Mapping
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
WZDX_GEOMETRIES = frozenset({"LineString", "MultiPoint"})


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


def _feed_info(document: Mapping[str, Any]) -> Mapping[str, Any]:
    info = document.get("feed_info") or document.get("road_event_feed_info") or {}
    return info if isinstance(info, Mapping) else {}


def _features(document: Mapping[str, Any]) -> list:
    features = document.get("features")
    return features if isinstance(features, list) else []


def _properties(feature: Any) -> Mapping[str, Any]:
    properties = feature.get("properties") if isinstance(feature, Mapping) else None
    return properties if isinstance(properties, Mapping) else {}


def _is_device_feed(document: Mapping[str, Any]) -> bool:
    def core_details(feature: Any) -> Mapping[str, Any]:
        core = _properties(feature).get("core_details")
        return core if isinstance(core, Mapping) else {}

    return any("device_type" in core_details(f) for f in _features(document))


def detect(input_file: InputFile) -> bool:
    if not input_file.looks_like_json:
        return False
    document = input_file.json()
    if not isinstance(document, Mapping) or document.get("type") != "FeatureCollection":
        return False
    if "feed_info" in document or "road_event_feed_info" in document:
        return True
    return any("core_details" in _properties(f) for f in _features(document)[:10])


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


def _declarants(info: Mapping[str, Any]) -> dict[str, str]:
    return {
        text(source.get("data_source_id")): text(source.get("organization_name"))
        for source in info.get("data_sources") or []
        if isinstance(source, Mapping)
    }


def _build(
    position: str,
    feature: Mapping[str, Any],
    declarants: Mapping[str, str],
    publisher: str,
    seen_at: dt.datetime | None,
) -> WorksRecord:
    props = feature["properties"]
    core = props["core_details"]
    starts_at = parse_datetime(props.get("start_date"), label="start_date")
    if starts_at is None:
        raise RecordError(_("no start_date"))
    ends_at = parse_datetime(props.get("end_date"), label="end_date")
    if ends_at is not None and ends_at < starts_at:
        raise RecordError(
            _("end_date %(end)s is before start_date %(start)s")
            % {"end": props["end_date"], "start": props["start_date"]}
        )
    road_names = [text(name) for name in core.get("road_names") or [] if text(name)]
    direction = text(core.get("direction")).replace("-", " ")
    title = text(core.get("name")) or " ".join([", ".join(road_names), direction]).strip()
    works_types = [text(w.get("type_name")) for w in props.get("types_of_work") or [] if isinstance(w, Mapping)]
    return WorksRecord(
        position=position,
        source_id=text(feature["id"]),
        starts_at=starts_at,
        ends_at=ends_at,
        ewkt=geometry.geojson_to_ewkt(feature.get("geometry"), WZDX_GEOMETRIES),
        title=title,
        description=text(core.get("description")),
        nature=", ".join(w for w in works_types if w),
        road_names=road_names,
        declarant=declarants.get(text(core.get("data_source_id"))) or publisher,
        impact=parse_wzdx(props),
        seen_at=seen_at,
        properties=dict(props),
    )


def parse(
    input_file: InputFile,
    overrides: Mapping[str, str],
    progress: Progress = no_progress,
    as_of: dt.datetime | None = None,
    **_options: Any,
) -> ParsedFile[WorksRecord]:
    """Validate a WZDx feed and read its valid work zone events."""
    name = input_file.name
    document = input_file.json()
    if not isinstance(document, Mapping) or document.get("type") != "FeatureCollection":
        raise InputError(_("%(name)s: a WZDx feed is a GeoJSON FeatureCollection.") % {"name": name})
    if _is_device_feed(document):
        raise InputError(
            _(
                "%(name)s: a WZDx device feed (arrow boards, cameras, signs...), not a work zone feed; "
                "import_works reads WorkZoneFeed files."
            )
            % {"name": name}
        )
    info = _feed_info(document)
    publisher = text(info.get("publisher"))
    parsed: ParsedFile[WorksRecord] = ParsedFile(default_source=f"wzdx-{slugify(publisher)}" if publisher else "wzdx")
    if overrides:
        parsed.notes.append(_("%(name)s: --map is ignored for WZDx feeds: their fields are standard.") % {"name": name})

    by_feature, feed_level = schema_errors(document)
    for error in feed_level:
        parsed.notes.append(
            _("%(name)s: schema violation outside the features: %(error)s")
            % {"name": name, "error": _error_text(error)}
        )
    try:
        update_date = parse_datetime(info.get("update_date"), label="feed_info.update_date")
    except RecordError as error:
        parsed.notes.append(f"{name}: {error}")
        update_date = None
    seen_at = update_date or as_of
    declarants = _declarants(info)

    features = document.get("features") if isinstance(document.get("features"), list) else []
    for index, feature in enumerate(features):
        position = f"{name}: features[{index}]"
        feature_id = feature.get("id") if isinstance(feature, Mapping) else None
        if feature_id:
            position += f" (id {feature_id})"
        if index in by_feature:
            errors = by_feature[index]
            more = _(" (and %(count)s more)") % {"count": len(errors) - 1} if len(errors) > 1 else ""
            reason = _error_text(explain(errors), skip=2)
            parsed.reject(position, _("WZDx 4.2 schema: %(reason)s%(more)s") % {"reason": reason, "more": more})
            continue
        if feature["properties"]["core_details"].get("event_type") == "detour":
            parsed.skip("detour road events (a detour route, not works)")
            continue
        try:
            parsed.records.append(_build(position, feature, declarants, publisher, seen_at))
        except RecordError as error:
            parsed.reject(position, str(error))
        progress(_("reading %(name)s") % {"name": name}, index + 1, len(features))
    if seen_at is not None:
        parsed.snapshots.append(seen_at)
    return parsed
