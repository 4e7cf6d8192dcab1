"""The import services: files in, street segments / works zones / districts stored, a result out.

Management commands, the admin and the API all call :func:`import_streets`,
:func:`import_works` and :func:`import_districts`. Each one:

1. detects the format of every input (or takes the one given) and parses it with its
   module (``streets_toulouse``, ``streets_osm``, ``works_toulouse``, ``works_wzdx``,
   ``geojson``), collecting per-record rejections;
2. folds records that share a source id (pieces of one street segment; one works zone
   seen in several snapshots);
3. writes everything in one transaction through :mod:`incidents.importers.bulk`
   (COPY, repair, set-based upsert), so an input is imported whole or not at all;
4. for works, withdraws the zones of the same source that a newer full snapshot no
   longer lists.

The :class:`~incidents.importers.records.ImportResult` carries the counts and what
changed (``changed_ids``, ``changed_extent``) for refreshing incident links.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from django.conf import settings
from django.db import connection, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from incidents.geo import geog
from incidents.importers import geojson, streets_osm, streets_toulouse, works_toulouse, works_wzdx
from incidents.importers.bulk import STAGE, Stage, merge_extents
from incidents.importers.geometry import lines_to_ewkt
from incidents.importers.inputs import InputFile
from incidents.importers.records import (
    DistrictRecord,
    ImportResult,
    InputError,
    ParsedFile,
    Progress,
    RecordError,
    Rejection,
    StreetRecord,
    WorksRecord,
    no_progress,
)
from incidents.link import relink_incidents
from incidents.locate.normalize import normalize_street_name
from incidents.models import District, StreetSegment, WorksZone
from incidents.sources.parsing import storable_json


@dataclass(frozen=True)
class Format:
    """One input format: how to recognise it (``None``: only when asked for) and how to parse it."""

    detect: Callable[[InputFile], bool] | None
    parse: Callable[..., ParsedFile]


def _any_json(input_file: InputFile) -> bool:
    return input_file.looks_like_json


# Detection tries the formats in this order; generic GeoJSON comes last.
STREET_FORMATS: dict[str, Format] = {
    "osm": Format(streets_osm.detect, streets_osm.parse),
    "toulouse": Format(streets_toulouse.detect, streets_toulouse.parse),
    "geojson": Format(_any_json, geojson.parse_streets),
}
WORKS_FORMATS: dict[str, Format] = {
    "wzdx": Format(works_wzdx.detect, works_wzdx.parse),
    "toulouse": Format(works_toulouse.detect, works_toulouse.parse),
    "geojson": Format(_any_json, geojson.parse_works),
}
DISTRICT_FORMATS: dict[str, Format] = {"geojson": Format(_any_json, geojson.parse_districts)}

# Two versions of a street piece closer than this (degrees, about a metre) are one piece.
SAME_PIECE_TOLERANCE_DEG = 1e-5


# --- shared steps ------------------------------------------------------------------------


def detect_format(input_file: InputFile, formats: Mapping[str, Format]) -> str:
    """The name of the first format that recognises ``input_file``; raise :class:`InputError` if none does."""
    if input_file.is_empty:
        raise InputError(_("%(name)s: the file is empty.") % {"name": input_file.name})
    for name, fmt in formats.items():
        if fmt.detect is not None and fmt.detect(input_file):
            return name
    raise InputError(
        _("%(name)s: cannot tell the format from the content; give --format (%(formats)s).")
        % {"name": input_file.name, "formats": ", ".join(formats)}
    )


@dataclass
class _Batch:
    parsed: list[tuple[InputFile, str, ParsedFile]]
    source: str

    @property
    def records(self) -> list:
        return [record for _, _, parsed in self.parsed for record in parsed.records]

    @property
    def snapshots(self) -> list[dt.datetime]:
        return sorted({s for _, _, parsed in self.parsed for s in parsed.snapshots})


def _default_source(input_file: InputFile) -> str:
    if input_file.name == "<stdin>":
        return "stdin"
    # A folder names its files' source; a file its own ("roads.geojson" -> "roads").
    return slugify(Path(input_file.origin or input_file.name).stem)[:64] or "import"


def _parse_all(
    inputs: Sequence[InputFile],
    formats: Mapping[str, Format],
    format_name: str | None,
    source: str | None,
    field_map: Mapping[str, str] | None,
    progress: Progress,
    **options: Any,
) -> _Batch:
    if not inputs:
        raise InputError(_("nothing to import: no input given."))
    if format_name is not None and format_name not in formats:
        raise InputError(
            _("unknown format %(format)r; choose one of: %(formats)s.")
            % {"format": format_name, "formats": ", ".join(formats)}
        )
    parsed_files = []
    for input_file in inputs:
        name = format_name or detect_format(input_file, formats)
        parsed = formats[name].parse(input_file, field_map or {}, progress=progress, **options)
        parsed_files.append((input_file, name, parsed))
    if source is None:
        defaults = {parsed.default_source or _default_source(f) for f, _, parsed in parsed_files}
        if len(defaults) > 1:
            raise InputError(
                _(
                    "these inputs belong to different sources (%(sources)s): "
                    "import them separately, or name one source with --source."
                )
                % {"sources": ", ".join(sorted(defaults))}
            )
        source = defaults.pop()
    return _Batch(parsed_files, source)


def _new_result(kind: str, batch: _Batch) -> ImportResult:
    result = ImportResult(kind=kind, source=batch.source)
    for input_file, name, parsed in batch.parsed:
        result.formats[input_file.name] = name
        result.read += len(parsed.records) + len(parsed.rejections) + sum(parsed.skipped.values())
        result.rejections.extend(parsed.rejections)
        result.notes.extend(parsed.notes)
        for reason, count in parsed.skipped.items():
            result.skipped[reason] = result.skipped.get(reason, 0) + count
    return result


def _fit(value: str, model: type, field: str) -> str:
    """Cut free text to the column's length (a long title must not cost the whole record)."""
    limit = model._meta.get_field(field).max_length
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _check_code(value: str, model: type, field: str, label: str) -> None:
    limit = model._meta.get_field(field).max_length
    if len(value) > limit:
        raise RecordError(
            _("%(label)s %(value)r… is longer than %(limit)s characters")
            % {"label": label, "value": value[:40], "limit": limit}
        )


def _stage_and_upsert(
    result: ImportResult,
    *,
    columns: Sequence[tuple[str, str]],
    rows: list[tuple],
    kind: str,
    key: Sequence[str],
    table: str,
    values: Mapping[str, str],
    update: Mapping[str, str] | None = None,
    extent: str = "geom",
    params: Mapping[str, Any] | None = None,
    progress: Progress,
    after: Callable[[Any], None] | None = None,
    timestamps: bool = True,
) -> None:
    """Stage ``rows``, check them and upsert them into ``table``; fill ``result``. Runs in the caller's transaction."""
    with connection.cursor() as cursor:
        stage = Stage(cursor, columns, kind)
        stage.load(rows, len(rows), progress)
        stage.check(key)
        valid, repaired = stage.counts()
        result.rejections.extend(stage.rejections())
        upserted = stage.upsert(table, key, values, update, extent=extent, params=params, timestamps=timestamps)
        if after is not None:
            after(cursor)
        stage.drop()
    result.repaired = repaired
    result.created_ids, result.updated_ids = upserted.created_ids, upserted.updated_ids
    result.created, result.updated = len(upserted.created_ids), len(upserted.updated_ids)
    result.unchanged = valid - result.created - result.updated
    result.changed_extent = merge_extents(result.changed_extent, upserted.extent)


# --- streets -----------------------------------------------------------------------------


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
    name = _fit(record.name, StreetSegment, "name")
    _check_code(record.source_id, StreetSegment, "source_id", "id")
    _check_code(record.street_id, StreetSegment, "street_id", "street id")
    _check_code(record.insee_code, StreetSegment, "insee_code", "INSEE code")
    return (
        record.position,
        record.ewkt,
        source,
        record.source_id,
        name,
        _fit(normalize_street_name(name), StreetSegment, "name_normalized"),
        record.street_id,
        _fit(record.commune, StreetSegment, "commune"),
        record.insee_code,
        json.dumps(storable_json(record.properties), ensure_ascii=False, default=str),
    )


def _rows(records: list, make_row: Callable[[Any], tuple], result: ImportResult) -> list[tuple]:
    rows = []
    for record in records:
        try:
            rows.append(make_row(record))
        except RecordError as error:
            result.rejections.append(Rejection(record.position, str(error)))
    return rows


def _relink(result: ImportResult, **changed_ids: list[int]) -> None:
    """Refresh the links of the incidents near what the import changed, once it is committed.

    Posts near the changed rows' old and new geometries (``changed_extent``) or linked to
    them get their nearest segment and works zones again; their incidents are refreshed.
    """
    if result.changed:
        result.relinked = relink_incidents(extent=result.changed_extent, **changed_ids).incidents


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
    batch = _parse_all(inputs, STREET_FORMATS, format, source, field_map, progress)
    result = _new_result("streets", batch)
    records, result.merged = merge_street_records(batch.records)
    rows = _rows(records, lambda r: _street_row(r, batch.source), result)
    values = {name: f"s.{name}" for name, _ in STREET_COLUMNS}
    values["geom"] = "s.geom"
    values["length_m"] = f"ST_Length({geog('s.geom')})"
    with transaction.atomic():
        _stage_and_upsert(
            result,
            columns=STREET_COLUMNS,
            rows=rows,
            kind="lines",
            key=("source", "source_id"),
            table=StreetSegment._meta.db_table,
            values=values,
            progress=progress,
        )
    _relink(result, segment_ids=result.changed_ids)
    result.seconds = time.monotonic() - started
    return result


# --- works -------------------------------------------------------------------------------


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
    _check_code(record.source_id, WorksZone, "source_id", "id")
    _check_code(record.reference, WorksZone, "reference", "reference")
    impact = record.impact
    return (
        record.position,
        record.ewkt,
        source,
        record.source_id,
        record.reference,
        _fit(record.title, WorksZone, "title"),
        record.description,
        _fit(record.nature, WorksZone, "nature"),
        [name[:255] for name in record.road_names],
        _fit(record.commune, WorksZone, "commune"),
        _fit(record.declarant, WorksZone, "declarant"),
        _fit(record.contractor, WorksZone, "contractor"),
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
    batch = _parse_all(inputs, WORKS_FORMATS, format, source, field_map, progress, as_of=as_of)
    result = _new_result("works", batch)
    snapshots = batch.snapshots
    folded, result.merged = fold_works_records(batch.records, snapshots)
    rows = _rows(folded, lambda f: _works_row(f, batch.source), result)
    if buffer_m is None:
        buffer_m = settings.INCIDENTS_WORKS_IMPACT_BUFFER_M
    values = {name: f"s.{name}" for name, _ in WORKS_COLUMNS}
    values["geom"] = "s.geom"
    values["impact_area"] = f"ST_Multi(ST_Buffer({geog('s.geom')}, %(buffer_m)s)::geometry)"

    def withdraw(cursor: Any) -> None:
        if snapshots:
            result.withdrawn_ids, box = _withdraw_missing(cursor, batch.source, snapshots)
            result.changed_extent = merge_extents(result.changed_extent, box)

    with transaction.atomic():
        _stage_and_upsert(
            result,
            columns=WORKS_COLUMNS,
            rows=rows,
            kind="any",
            key=("source", "source_id"),
            table=WorksZone._meta.db_table,
            values=values,
            update=_works_update(),
            extent="impact_area",
            params={"buffer_m": float(buffer_m)},
            progress=progress,
            after=withdraw,
        )
        withdrawn_in_batch = WorksZone.objects.filter(
            pk__in=[*result.created_ids, *result.updated_ids], withdrawn_at__isnull=False
        ).count()
    result.withdrawn = len(result.withdrawn_ids) + withdrawn_in_batch
    _relink(result, works_zone_ids=result.changed_ids)
    result.seconds = time.monotonic() - started
    return result


# --- districts ---------------------------------------------------------------------------

DISTRICT_COLUMNS = (("code", "text"), ("name", "text"), ("properties", "jsonb"))


def _district_row(record: DistrictRecord) -> tuple:
    _check_code(record.code, District, "code", "code")
    return (
        record.position,
        record.ewkt,
        record.code,
        _fit(record.name, District, "name"),
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
    batch = _parse_all(inputs, DISTRICT_FORMATS, "geojson", "districts", field_map, progress)
    result = _new_result("districts", batch)
    rows = _rows(batch.records, _district_row, result)
    values = {"code": "s.code", "name": "s.name", "geom": "s.geom", "properties": "s.properties"}
    with transaction.atomic():
        _stage_and_upsert(
            result,
            columns=DISTRICT_COLUMNS,
            rows=rows,
            kind="polygons",
            key=("code",),
            table=District._meta.db_table,
            values=values,
            update={c: f"EXCLUDED.{c}" for c in ("name", "geom", "properties")},
            progress=progress,
            timestamps=False,
        )
    result.seconds = time.monotonic() - started
    return result
