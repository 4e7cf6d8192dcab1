"""Import street segments: the ``import_streets`` service.

Each input is detected and parsed (:mod:`.detect`: Toulouse layers, OpenStreetMap,
generic GeoJSON); records that share a source id are folded into one segment (pieces
published as several rows, or the same segment in several layers of its source);
everything is written in one transaction through :mod:`.bulk`, and the links of
incidents near what changed are refreshed afterwards.

**Newer files retire what they no longer list.** An import is the whole of its source
(all of its files, as one batch), unless it says it is partial (``complete=False``, or an
API page holding part of its ``total_count``): segments of the source it does not list
get ``retired_at``. They are kept, for history and for the posts linked to them, but new
posts are neither linked to them nor located on them. A later import that lists one
again brings it back.

**Sources published in layers** (records with a ``layer``: Toulouse's
``sens-de-circulation`` and ``zones-de-rencontre``, one id space) are imported a layer at
a time or together with the same result: each segment keeps what each layer publishes
(``StreetSegment.layers``), and is the merge of those in order of precedence (the
layer's rank): the first layer listing it gives its name, street id, commune, INSEE code
and line; the others add the pieces of line it lacks and the attributes it does not
have. An import of some layers retires only the segments no layer lists any more.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

import shapely
from django.db import transaction
from django.db.models import Q

from incidents.geo import geog
from incidents.importers import geojson, streets_osm, streets_toulouse
from incidents.importers.bulk import (
    SOURCE_KEY,
    STAGE,
    UpsertTarget,
    check_code,
    fit,
    record_rows,
    relink_changes,
    stage_and_upsert,
)
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


# What a layer publishes about one segment, kept in StreetSegment.layers.
LayerSnapshot = dict[str, Any]


def _street_parts(record: StreetRecord) -> list[list[tuple[float, float]]]:
    geometry = shapely.from_wkt(record.ewkt.split(";", 1)[1])
    lines = geometry.geoms if hasattr(geometry, "geoms") else [geometry]
    return [list(line.coords) for line in lines]


def fold_pieces(group: list[StreetRecord]) -> StreetRecord:
    """One record from records of one segment, in order of precedence.

    The first record gives the name and attributes; later ones add attributes it lacks
    and pieces of line it does not already have (a piece within about a metre of one
    already kept, in either direction, is the same piece).
    """
    first = group[0]
    if len(group) == 1:
        return first
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
    return dataclasses.replace(first, ewkt=lines_to_ewkt(parts), properties=properties)


def layer_snapshot(record: StreetRecord) -> LayerSnapshot:
    """What the layer of ``record`` publishes about its segment, as kept in ``StreetSegment.layers``."""
    return {
        "rank": record.layer_rank,
        "name": record.name,
        "street_id": record.street_id,
        "commune": record.commune,
        "insee_code": record.insee_code,
        "lines": _street_parts(record),
        "properties": storable_json(record.properties),
    }


def record_from_snapshot(source_id: str, layer: str, snapshot: LayerSnapshot) -> StreetRecord:
    """The record a layer gave for ``source_id`` in an earlier import (see :func:`layer_snapshot`)."""
    return StreetRecord(
        position=f"{source_id} ({layer}, stored)",
        source_id=source_id,
        name=snapshot["name"],
        ewkt=lines_to_ewkt(snapshot["lines"]),
        street_id=snapshot["street_id"],
        commune=snapshot["commune"],
        insee_code=snapshot["insee_code"],
        properties=snapshot["properties"],
        layer=layer,
        layer_rank=snapshot["rank"],
    )


def merge_street_records(
    records: list[StreetRecord], stored: Mapping[str, Mapping[str, LayerSnapshot]] | None = None
) -> tuple[list[tuple[StreetRecord, dict[str, LayerSnapshot]]], int]:
    """Fold records that share a source id into one segment; return (segment, its layers) and how many were folded.

    Rows of one id are pieces of one segment (Toulouse publishes some segments in
    several rows) or the same segment in several layers. Pieces of one layer are folded
    in the order read; then the layers, with what ``stored`` holds of other layers not
    in this import, in order of precedence (:func:`fold_pieces`).
    """
    stored = stored or {}
    groups: dict[str, list[StreetRecord]] = {}
    for record in records:
        groups.setdefault(record.source_id, []).append(record)
    folded = len(records) - len(groups)
    for source_id in stored:
        groups.setdefault(source_id, [])
    merged = []
    for source_id, group in groups.items():
        if len(group) == 1 and not group[0].layer and source_id not in stored:
            merged.append((group[0], {}))
            continue
        by_layer: dict[str, list[StreetRecord]] = {}
        for record in group:
            by_layer.setdefault(record.layer, []).append(record)
        layer_records = [fold_pieces(pieces) for pieces in by_layer.values()]
        layer_records += [
            record_from_snapshot(source_id, layer, snapshot) for layer, snapshot in stored.get(source_id, {}).items()
        ]
        layers = {record.layer: layer_snapshot(record) for record in layer_records if record.layer}
        merged.append((fold_pieces(sorted(layer_records, key=lambda record: record.layer_rank)), layers))
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
    ("layers", "jsonb"),
)


# Listed by this import: current, whatever it was.
STREETS_COMPUTED = {"length_m": f"ST_Length({geog('s.geom')})", "retired_at": "NULL::timestamptz"}
STREETS = UpsertTarget(StreetSegment._meta.db_table, STREET_COLUMNS, "lines", SOURCE_KEY, STREETS_COMPUTED)


def _street_row(segment: tuple[StreetRecord, dict[str, LayerSnapshot]], source: str) -> tuple:
    record, layers = segment
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
        json.dumps(layers, ensure_ascii=False, default=str),
    )


@dataclasses.dataclass
class _Layered:
    """The stored segments an import of some layers of a source touches (ids are source ids)."""

    # What the layers this import does not hold publish about the segments it touches.
    other_layers: dict[str, dict[str, LayerSnapshot]]
    # Segments only the imported layers listed, gone from them: to retire (primary keys).
    retire: list[int]
    # Segments gone from the imported layers that other layers still list: merged again (primary keys).
    remerged: set[int]


def _stored_layers(source: str, records: list[StreetRecord], complete: bool) -> _Layered:
    """What the stored segments of ``source`` publish in layers other than the ones ``records`` come from."""
    imported = {record.layer for record in records}
    listed = {record.source_id for record in records}
    rows = (
        StreetSegment.objects.current()
        .filter(source=source)
        .exclude(layers={})
        .filter(Q(source_id__in=listed) | Q(layers__has_any_keys=sorted(imported)))
        .values_list("pk", "source_id", "layers")
    )
    found = _Layered({}, [], set())
    for pk, source_id, layers in rows:
        others = {layer: snapshot for layer, snapshot in layers.items() if layer not in imported}
        if source_id in listed:
            found.other_layers[source_id] = others
        elif complete and others:
            found.other_layers[source_id] = others
            found.remerged.add(pk)
        elif complete:
            found.retire.append(pk)
    return found


def _retire(cursor: Any, source: str, pks: list[int] | None) -> list[int]:
    """Retire the listed segments (``pks``), or (``None``) every segment of ``source`` the staged import lacks.

    Stamped with the clock, not the transaction's start: the per-process caches of streets
    (``max(updated_at)``) must see the change even when the import is part of a longer
    transaction.
    """
    table = StreetSegment._meta.db_table
    which = (
        "t.id = ANY(%(pks)s)"
        if pks is not None
        else f"t.source = %(source)s AND NOT EXISTS (SELECT 1 FROM {STAGE} s WHERE s.source_id = t.source_id)"
    )
    cursor.execute(
        f"""
        WITH gone AS (
            UPDATE {table} t SET retired_at = clock_timestamp(), layers = '{{}}', updated_at = clock_timestamp()
            WHERE t.retired_at IS NULL AND {which}
            RETURNING t.id
        )
        SELECT coalesce(array_agg(id ORDER BY id), '{{}}') FROM gone
        """,
        {"pks": pks or [], "source": source},
    )
    return list(cursor.fetchone()[0])


def import_streets(
    inputs: Sequence[InputFile],
    *,
    format: str | None = None,
    source: str | None = None,
    field_map: Mapping[str, str] | None = None,
    complete: bool = True,
    progress: Progress = no_progress,
) -> ImportResult:
    """Import street segments from ``inputs`` (one batch, one source); see the module docstring.

    ``complete=False`` says the inputs are only part of their source: nothing is
    retired. Raise :class:`InputError` when an input cannot be read at all (nothing is
    written).
    """
    started = time.monotonic()
    batch = parse_inputs(inputs, STREET_FORMATS, format, source, field_map, progress)
    result = new_result("streets", batch)
    complete = complete and all(parsed.complete for _, _, parsed in batch.parsed)
    records = batch.records
    # A source published whole is replaced whole; layers of a source only touch what they list.
    whole = any(not record.layer for record in records)
    with transaction.atomic():
        layered = _Layered({}, [], set()) if whole else _stored_layers(batch.source, records, complete)
        segments, result.merged = merge_street_records(records, layered.other_layers)
        rows = record_rows(segments, lambda segment: _street_row(segment, batch.source), result)

        def retire(cursor: Any) -> None:
            # An input with no street at all is more likely a broken export than a city without streets.
            if complete and rows:
                result.retired_ids = _retire(cursor, batch.source, None if whole else layered.retire)

        stage_and_upsert(result, STREETS, rows, progress=progress, after=retire)
    # Merged again because a layer dropped them: updated, or left as they were, but not read.
    result.unchanged -= len(layered.remerged - set(result.updated_ids))
    relink_changes(result, segment_ids=result.changed_ids)
    result.seconds = time.monotonic() - started
    return result
