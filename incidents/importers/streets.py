"""Import street segments: the ``import_streets`` service.

Each input is detected and parsed (:mod:`.detect`: Toulouse layers, OpenStreetMap,
generic GeoJSON); records that share a source id are folded into one segment (pieces
published as several rows, or the same segment in two layers); everything is written in
one transaction through :mod:`.bulk`, and the links of incidents near what changed are
refreshed afterwards.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence

import shapely
from django.db import transaction

from incidents.geo import geog
from incidents.importers import geojson, streets_osm, streets_toulouse
from incidents.importers.bulk import check_code, fit, record_rows, relink_changes, stage_and_upsert
from incidents.importers.detect import Format, any_json, new_result, parse_inputs
from incidents.importers.geometry import lines_to_ewkt
from incidents.importers.records import ImportResult, Progress, StreetRecord, no_progress
from incidents.inputs import InputFile, storable_json
from incidents.locate.normalize import normalize_street_name
from incidents.models import StreetSegment

# Detection tries the formats in this order; generic GeoJSON comes last.
STREET_FORMATS: dict[str, Format] = {
    "osm": Format(streets_osm.detect, streets_osm.parse),
    "toulouse": Format(streets_toulouse.detect, streets_toulouse.parse),
    "geojson": Format(any_json, geojson.parse_streets),
}

# Two versions of a street piece closer than this (degrees, about a metre) are one piece.
SAME_PIECE_TOLERANCE_DEG = 1e-5


def _street_parts(record: StreetRecord) -> list[list[tuple[float, float]]]:
    geometry = shapely.from_wkt(record.ewkt.split(";", 1)[1])
    lines = geometry.geoms if hasattr(geometry, "geoms") else [geometry]
    return [list(line.coords) for line in lines]


def merge_street_records(records: list[StreetRecord]) -> tuple[list[StreetRecord], int]:
    """Fold records that share a source id into one segment; return them and how many were folded.

    Rows of one id are pieces of one segment (Toulouse publishes some segments in
    several rows) or the same segment in two layers (``sens-de-circulation`` and
    ``zones-de-rencontre``). The first record gives the name and attributes; later ones
    add attributes it lacks and pieces of line it does not already have (a piece within
    about a metre of one already kept, in either direction, is the same piece).
    """
    groups: dict[str, list[StreetRecord]] = {}
    for record in records:
        groups.setdefault(record.source_id, []).append(record)
    merged: list[StreetRecord] = []
    folded = 0
    for group in groups.values():
        first = group[0]
        if len(group) == 1:
            merged.append(first)
            continue
        folded += len(group) - 1
        parts = _street_parts(first)
        kept = [shapely.LineString(part) for part in parts]
        properties = dict(first.properties)
        for other in group[1:]:
            for part in _street_parts(other):
                line = shapely.LineString(part)
                if not any(line.hausdorff_distance(k) < SAME_PIECE_TOLERANCE_DEG for k in kept):
                    kept.append(line)
                    parts.append(part)
            for name, value in other.properties.items():
                properties.setdefault(name, value)
        first.ewkt = lines_to_ewkt(parts)
        first.properties = properties
        merged.append(first)
    return merged, folded


STREET_COLUMNS = (
    ("source", "text"),
    ("source_id", "text"),
    ("name", "text"),
    ("name_normalized", "text"),
    ("street_id", "text"),
    ("commune", "text"),
    ("insee_code", "text"),
    ("properties", "jsonb"),
)


def _street_row(record: StreetRecord, source: str) -> tuple:
    name = fit(record.name, StreetSegment, "name")
    check_code(record.source_id, StreetSegment, "source_id", "id")
    check_code(record.street_id, StreetSegment, "street_id", "street id")
    check_code(record.insee_code, StreetSegment, "insee_code", "INSEE code")
    return (
        record.position,
        record.ewkt,
        source,
        record.source_id,
        name,
        fit(normalize_street_name(name), StreetSegment, "name_normalized"),
        record.street_id,
        fit(record.commune, StreetSegment, "commune"),
        record.insee_code,
        json.dumps(storable_json(record.properties), ensure_ascii=False, default=str),
    )


def import_streets(
    inputs: Sequence[InputFile],
    *,
    format: str | None = None,
    source: str | None = None,
    field_map: Mapping[str, str] | None = None,
    progress: Progress = no_progress,
) -> ImportResult:
    """Import street segments from ``inputs`` (one batch, one source); see the module docstring.

    Raise :class:`InputError` when an input cannot be read at all (nothing is written).
    """
    started = time.monotonic()
    batch = parse_inputs(inputs, STREET_FORMATS, format, source, field_map, progress)
    result = new_result("streets", batch)
    records, result.merged = merge_street_records(batch.records)
    rows = record_rows(records, lambda r: _street_row(r, batch.source), result)
    values = {name: f"s.{name}" for name, _ in STREET_COLUMNS}
    values["geom"] = "s.geom"
    values["length_m"] = f"ST_Length({geog('s.geom')})"
    with transaction.atomic():
        stage_and_upsert(
            result,
            columns=STREET_COLUMNS,
            rows=rows,
            kind="lines",
            key=("source", "source_id"),
            table=StreetSegment._meta.db_table,
            values=values,
            progress=progress,
        )
    relink_changes(result, segment_ids=result.changed_ids)
    result.seconds = time.monotonic() - started
    return result
