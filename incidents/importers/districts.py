"""Import districts (polygons with an official code and a name): the ``import_districts`` service."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence

from django.db import transaction

from incidents.importers import geojson
from incidents.importers.bulk import UpsertTarget, check_code, fit, record_rows, stage_and_upsert
from incidents.importers.detect import Format, any_json, new_result, parse_inputs
from incidents.importers.records import DistrictRecord, ImportResult, Progress, no_progress
from incidents.inputs import InputFile, storable_json
from incidents.models import District

DISTRICT_FORMATS: dict[str, Format] = {"geojson": Format(any_json, geojson.parse_districts)}

DISTRICT_COLUMNS = (("code", "text"), ("name", "text"), ("properties", "jsonb"))
# Keyed on the official code, whatever file it comes from; no timestamps on districts.
DISTRICTS = UpsertTarget(
    District._meta.db_table,
    DISTRICT_COLUMNS,
    "polygons",
    ("code",),
    update={c: f"EXCLUDED.{c}" for c in ("name", "geom", "properties")},
    timestamps=False,
)


def _district_row(record: DistrictRecord) -> tuple:
    check_code(record.code, District, "code", "code")
    return (
        record.position,
        record.ewkt,
        record.code,
        fit(record.name, District, "name"),
        json.dumps(storable_json(record.properties), ensure_ascii=False, default=str),
    )


def import_districts(
    inputs: Sequence[InputFile],
    *,
    field_map: Mapping[str, str] | None = None,
    progress: Progress = no_progress,
) -> ImportResult:
    """Import districts (polygons with a code and a name) from GeoJSON/JSON ``inputs``, upserting on code."""
    started = time.monotonic()
    batch = parse_inputs(inputs, DISTRICT_FORMATS, "geojson", "districts", field_map, progress)
    result = new_result("districts", batch)
    rows = record_rows(batch.records, _district_row, result)
    with transaction.atomic():
        stage_and_upsert(result, DISTRICTS, rows, progress=progress)
    result.seconds = time.monotonic() - started
    return result
