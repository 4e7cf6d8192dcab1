"""Import works zones: the ``import_works`` service.

Each input is detected and parsed (:mod:`.detect`: Toulouse ``chantiers-en-cours``,
WZDx, generic GeoJSON). Records of one zone seen in several snapshots are folded into
one, with first and last seen times; everything is written in one transaction through
:mod:`.bulk`; the zones of the same source that a newer full snapshot no longer lists
are withdrawn; the links of incidents near what changed are refreshed afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from incidents.geo import geog
from incidents.importers import geojson, works_toulouse, works_wzdx
from incidents.importers.bulk import (
    SOURCE_KEY,
    STAGE,
    UpsertTarget,
    check_code,
    fit,
    merge_extents,
    record_rows,
    relink_changes,
    stage_and_upsert,
)
from incidents.importers.detect import Format, any_json, new_result, parse_inputs
from incidents.importers.records import ImportResult, Progress, WorksRecord, no_progress
from incidents.inputs import InputError, InputFile, storable_json
from incidents.models import WorksZone

WORKS_FORMATS: dict[str, Format] = {
    "wzdx": Format(works_wzdx.detect, works_wzdx.parse),
    "toulouse": Format(works_toulouse.detect, works_toulouse.parse),
    "geojson": Format(any_json, geojson.parse_works),
}


def _first_after(moments: Sequence[dt.datetime], instant: dt.datetime) -> dt.datetime | None:
    return next((moment for moment in moments if moment > instant), None)


def fold_works_records(
    records: list[WorksRecord], snapshots: Sequence[dt.datetime]
) -> tuple[list[tuple[WorksRecord, dt.datetime | None, dt.datetime | None, dt.datetime | None]], int]:
    """Fold the records of one zone seen in several snapshots; return (record, first, last, withdrawn) rows.

    The content of the most recent sighting wins. A zone missing from a full snapshot
    taken after its last sighting is withdrawn as of that snapshot, unless its
    announced end came first.
    """
    groups: dict[str, list[WorksRecord]] = {}
    for record in records:
        groups.setdefault(record.source_id, []).append(record)
    folded = []
    for group in groups.values():
        seen = [r.seen_at for r in group if r.seen_at is not None]
        # max() keeps the first of equal keys; reversed() makes the last one in the file win.
        latest = max(reversed(group), key=lambda r: r.seen_at or dt.datetime.min.replace(tzinfo=dt.UTC))
        first_seen, last_seen = (min(seen), max(seen)) if seen else (None, None)
        withdrawn = _first_after(snapshots, last_seen) if last_seen else None
        if withdrawn is not None and latest.ends_at is not None and latest.ends_at <= withdrawn:
            withdrawn = None
        folded.append((latest, first_seen, last_seen, withdrawn))
    return folded, len(records) - len(groups)


WORKS_COLUMNS = (
    ("source", "text"),
    ("source_id", "text"),
    ("reference", "text"),
    ("title", "text"),
    ("description", "text"),
    ("nature", "text"),
    ("road_names", "text[]"),
    ("commune", "text"),
    ("declarant", "text"),
    ("contractor", "text"),
    ("contact", "text"),
    ("starts_at", "timestamptz"),
    ("ends_at", "timestamptz"),
    ("withdrawn_at", "timestamptz"),
    ("impact_vehicle", "boolean"),
    ("impact_pedestrian", "boolean"),
    ("impact_cycle", "boolean"),
    ("impact_parking", "boolean"),
    ("impact_closure", "boolean"),
    ("impact_text", "text"),
    ("first_seen_at", "timestamptz"),
    ("last_seen_at", "timestamptz"),
    ("properties", "jsonb"),
)
# Stored content that an older snapshot must not overwrite.
WORKS_CONTENT = [
    name
    for name, _ in WORKS_COLUMNS
    if name not in ("source", "source_id", "withdrawn_at", "first_seen_at", "last_seen_at")
]


def _works_row(folded: tuple, source: str) -> tuple:
    record, first_seen, last_seen, withdrawn = folded
    check_code(record.source_id, WorksZone, "source_id", "id")
    check_code(record.reference, WorksZone, "reference", "reference")
    impact = record.impact
    return (
        record.position,
        record.ewkt,
        source,
        record.source_id,
        record.reference,
        fit(record.title, WorksZone, "title"),
        record.description,
        fit(record.nature, WorksZone, "nature"),
        [name[:255] for name in record.road_names],
        fit(record.commune, WorksZone, "commune"),
        fit(record.declarant, WorksZone, "declarant"),
        fit(record.contractor, WorksZone, "contractor"),
        record.contact,
        record.starts_at,
        record.ends_at,
        withdrawn,
        impact.vehicle,
        impact.pedestrian,
        impact.cycle,
        impact.parking,
        impact.closure,
        impact.text,
        first_seen,
        last_seen,
        json.dumps(storable_json(record.properties), ensure_ascii=False, default=str),
    )


def _works_update() -> dict[str, str]:
    # Content comes from the most recent snapshot: importing an older file after a newer
    # one widens the seen times but does not roll the zone back.
    newer = "(EXCLUDED.last_seen_at IS NULL OR t.last_seen_at IS NULL OR EXCLUDED.last_seen_at >= t.last_seen_at)"
    update = {name: f"CASE WHEN {newer} THEN EXCLUDED.{name} ELSE t.{name} END" for name in WORKS_CONTENT}
    update["geom"] = f"CASE WHEN {newer} THEN EXCLUDED.geom ELSE t.geom END"
    update["impact_area"] = f"CASE WHEN {newer} THEN EXCLUDED.impact_area ELSE t.impact_area END"
    # A contact set by staff stays when the feed gives none.
    update["contact"] = f"CASE WHEN {newer} AND EXCLUDED.contact <> '' THEN EXCLUDED.contact ELSE t.contact END"
    update["first_seen_at"] = "LEAST(t.first_seen_at, EXCLUDED.first_seen_at)"
    update["last_seen_at"] = "GREATEST(t.last_seen_at, EXCLUDED.last_seen_at)"
    # A zone is withdrawn as of the first full snapshot, stored or in this batch, that
    # misses it after its last sighting (stored or in this batch); a later sighting revives it.
    last_seen = "GREATEST(t.last_seen_at, EXCLUDED.last_seen_at)"
    update["withdrawn_at"] = (
        f"LEAST(CASE WHEN t.withdrawn_at > {last_seen} THEN t.withdrawn_at END,"
        f" CASE WHEN EXCLUDED.withdrawn_at > {last_seen} THEN EXCLUDED.withdrawn_at END)"
    )
    return update


# The impact area is the zone grown by the import's buffer (metres).
IMPACT_AREA = f"ST_Multi(ST_Buffer({geog('s.geom')}, %(buffer_m)s)::geometry)"
WORKS = UpsertTarget(
    WorksZone._meta.db_table,
    WORKS_COLUMNS,
    "any",
    SOURCE_KEY,
    {"impact_area": IMPACT_AREA},
    update=_works_update(),
    extent="impact_area",
)


def _withdraw_missing(cursor: Any, source: str, snapshots: Sequence[dt.datetime]) -> tuple[list[int], tuple | None]:
    """Withdraw the zones of ``source`` that the batch's full snapshots no longer list."""
    table = WorksZone._meta.db_table
    cursor.execute(
        f"""
        WITH gone AS (
            SELECT z.id,
                   (SELECT min(snap) FROM unnest(%(snapshots)s::timestamptz[]) AS snap
                    WHERE snap > z.last_seen_at) AS at
            FROM {table} z
            WHERE z.source = %(source)s AND z.withdrawn_at IS NULL AND z.last_seen_at IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM {STAGE} s WHERE s.source_id = z.source_id)
        ), done AS (
            UPDATE {table} z SET withdrawn_at = gone.at, updated_at = now()
            FROM gone
            WHERE z.id = gone.id AND gone.at IS NOT NULL AND (z.ends_at IS NULL OR z.ends_at > gone.at)
            RETURNING z.id, z.impact_area
        )
        SELECT coalesce(array_agg(id ORDER BY id), '{{}}'),
               (SELECT ARRAY[ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)]
                FROM (SELECT ST_Extent(impact_area) AS e FROM done) AS box WHERE e IS NOT NULL)
        FROM done
        """,
        {"snapshots": list(snapshots), "source": source},
    )
    ids, box = cursor.fetchone()
    return list(ids), tuple(box) if box else None


def import_works(
    inputs: Sequence[InputFile],
    *,
    format: str | None = None,
    source: str | None = None,
    field_map: Mapping[str, str] | None = None,
    as_of: dt.datetime | None = None,
    buffer_m: float | None = None,
    progress: Progress = no_progress,
) -> ImportResult:
    """Import works zones from ``inputs`` (one batch, one source); see the module docstring.

    ``as_of`` is the time the inputs were taken from their feed, for inputs that do not
    say it themselves: sightings are then recorded and the input counts as a full
    snapshot. Impact areas are the geometries grown by ``buffer_m`` metres (default
    ``INCIDENTS_WORKS_IMPACT_BUFFER_M``). Raise :class:`InputError` when an input cannot
    be read at all (nothing is written).
    """
    started = time.monotonic()
    if as_of is not None and as_of.tzinfo is None:
        raise InputError(_("as_of must be an aware datetime (with its time zone)."))
    batch = parse_inputs(inputs, WORKS_FORMATS, format, source, field_map, progress, as_of=as_of)
    result = new_result("works", batch)
    snapshots = batch.snapshots
    folded, result.merged = fold_works_records(batch.records, snapshots)
    rows = record_rows(folded, lambda f: _works_row(f, batch.source), result)
    if buffer_m is None:
        buffer_m = settings.INCIDENTS_WORKS_IMPACT_BUFFER_M

    def withdraw(cursor: Any) -> None:
        if snapshots:
            result.withdrawn_ids, box = _withdraw_missing(cursor, batch.source, snapshots)
            result.changed_extent = merge_extents(result.changed_extent, box)

    with transaction.atomic():
        stage_and_upsert(result, WORKS, rows, progress=progress, params={"buffer_m": float(buffer_m)}, after=withdraw)
        withdrawn_in_batch = WorksZone.objects.filter(
            pk__in=[*result.created_ids, *result.updated_ids], withdrawn_at__isnull=False
        ).count()
    result.withdrawn = len(result.withdrawn_ids) + withdrawn_in_batch
    relink_changes(result, works_zone_ids=result.changed_ids)
    result.seconds = time.monotonic() - started
    return result
