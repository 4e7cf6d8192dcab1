"""Bulk writes for importers: COPY into a staging table, check and repair in PostGIS, upsert.

One import runs, inside one transaction:

1. ``COPY`` every record into a temporary table (psycopg 3 ``cursor.copy``);
2. set-based checks in PostGIS: invalid geometries repaired with ``ST_MakeValid`` (and
   counted), geometries reduced to the kind the table stores (lines for streets,
   polygons for districts), records whose coordinates only fall inside the service
   area once latitude and longitude are swapped rejected, duplicate ids rejected;
3. one ``INSERT ... SELECT ... ON CONFLICT (key) DO UPDATE ... WHERE <something
   changed>``: a re-import of the same data writes nothing, and ``RETURNING`` tells
   created rows (``xmax = 0``) from updated ones. Unchanged = valid - created - updated.

The statement also returns the extent of what changed (old and new geometries), which
is what the link stage needs to refresh the links of existing incidents.

The import services (streets, works, districts) share the steps below :class:`Stage`:
values cut or checked against the column widths, rows built from records,
:func:`stage_and_upsert`, and the relinking once the import is committed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.utils.translation import gettext as _

from incidents.importers.records import Extent, ImportResult, Progress, Rejection, no_progress
from incidents.inputs import RecordError, clean_text
from incidents.models import ServiceArea
from incidents.pipeline.link import relink_incidents

STAGE = "import_stage"
# Streets and works are keyed on their identifier in their source.
SOURCE_KEY = ("source", "source_id")
COPY_PROGRESS_EVERY = 5_000

# What ST_CollectionExtract keeps for each kind of table (2 = lines, 3 = polygons), and
# the type the table stores.
_EXTRACT = {"lines": (2, "MULTILINESTRING"), "polygons": (3, "MULTIPOLYGON")}


@dataclass
class Upserted:
    created_ids: list[int] = field(default_factory=list)
    updated_ids: list[int] = field(default_factory=list)
    extent: Extent | None = None


def merge_extents(*extents: Extent | None) -> Extent | None:
    """The box covering every given box (``None`` when none is given)."""
    boxes = [box for box in extents if box is not None]
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


class Stage:
    """A temporary table holding one batch while PostGIS checks it; used inside ``transaction.atomic``.

    ``columns`` are the data columns (name, SQL type) that follow the fixed ones: ``ord``
    (order in the batch), ``position`` (where the record is in its file, for messages),
    ``geom``, ``reason`` (why it is rejected, if it is) and ``repaired``.
    """

    def __init__(self, cursor: CursorWrapper, columns: Sequence[tuple[str, str]], kind: str):
        if kind not in ("lines", "polygons", "any"):
            raise ValueError(f"unknown geometry kind {kind!r}")
        self.cursor = cursor
        self.columns = [name for name, _ in columns]
        self.kind = kind
        definitions = ", ".join(f"{name} {sql_type}" for name, sql_type in columns)
        # Dropped explicitly (not ON COMMIT) so that several imports fit in one outer transaction.
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{STAGE}")
        cursor.execute(
            f"CREATE TEMP TABLE {STAGE} (ord integer PRIMARY KEY, position text NOT NULL,"
            f" geom geometry(Geometry, 4326) NOT NULL, reason text, repaired boolean NOT NULL DEFAULT false,"
            f" {definitions})"
        )

    def drop(self) -> None:
        self.cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{STAGE}")

    def load(self, rows: Iterable[Sequence[Any]], total: int, progress: Progress = no_progress) -> None:
        """COPY ``rows`` = (position, ewkt, *columns) into the stage."""
        names = ", ".join(["ord", "position", "geom", *self.columns])
        phase = _("writing")
        raw = self.cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY {STAGE} ({names}) FROM STDIN") as copy:
            for index, row in enumerate(rows):
                # Text PostgreSQL refuses (NUL, lone surrogates) would fail the whole COPY: drop those characters.
                copy.write_row((index, *(clean_text(value) if isinstance(value, str) else value for value in row)))
                if index % COPY_PROGRESS_EVERY == 0:
                    progress(phase, index, total)
        progress(phase, total, total)
        self.cursor.execute(f"ANALYZE {STAGE}")

    def check(self, key: Sequence[str]) -> None:
        """Repair, reduce to the table's kind, and reject swapped coordinates and duplicate ids."""
        execute = self.cursor.execute
        execute(f"UPDATE {STAGE} SET geom = ST_MakeValid(geom), repaired = true WHERE NOT ST_IsValid(geom)")
        if self.kind in _EXTRACT:
            dimension, stored = _EXTRACT[self.kind]
            execute(
                f"UPDATE {STAGE} SET geom = ST_Multi(ST_CollectionExtract(geom, {dimension}))"
                f" WHERE GeometryType(geom) <> '{stored}'"
            )
        else:
            # A repaired polygon may come back as a collection: keep its highest dimension.
            execute(
                f"UPDATE {STAGE} SET geom = ST_CollectionExtract(geom) WHERE GeometryType(geom) = 'GEOMETRYCOLLECTION'"
            )
        what = {"lines": _("no line"), "polygons": _("no polygon")}.get(self.kind, _("nothing"))
        execute(
            f"UPDATE {STAGE} SET reason = %s WHERE reason IS NULL AND ST_IsEmpty(geom)",
            [_("%(what)s left once the invalid geometry is repaired (degenerate geometry)") % {"what": what}],
        )
        self._reject_swapped()
        keys = ", ".join(key)
        execute(
            f"""
            UPDATE {STAGE} s SET reason = replace(%s, '{{position}}', first.position)
            FROM (SELECT DISTINCT ON ({keys}) ord, position, {keys} FROM {STAGE}
                  WHERE reason IS NULL ORDER BY {keys}, ord) AS first
            WHERE s.reason IS NULL AND s.ord > first.ord AND {" AND ".join(f"s.{k} = first.{k}" for k in key)}
            """,
            # Filled in by PostgreSQL with each duplicate's first occurrence.
            [_("same id as %(position)s") % {"position": "{position}"}],
        )

    def _reject_swapped(self) -> None:
        # Only a service area tells us where the data should be: a point at (43.6, 1.44)
        # is a valid position (off Somalia) until we know the city is Toulouse.
        areas = ServiceArea._meta.db_table
        self.cursor.execute(
            f"""
            UPDATE {STAGE} s SET reason = %s
            WHERE s.reason IS NULL
              AND NOT EXISTS (SELECT 1 FROM {areas} a WHERE ST_Intersects(a.geom, s.geom))
              AND EXISTS (SELECT 1 FROM {areas} a WHERE ST_Intersects(a.geom, ST_FlipCoordinates(s.geom)))
            """,
            [
                _(
                    "coordinates look swapped (latitude, longitude): the geometry lies outside the service area, "
                    "and inside it once swapped"
                )
            ],
        )

    def rejections(self) -> list[Rejection]:
        self.cursor.execute(f"SELECT position, reason FROM {STAGE} WHERE reason IS NOT NULL ORDER BY ord")
        return [Rejection(position, reason) for position, reason in self.cursor.fetchall()]

    def counts(self) -> tuple[int, int]:
        """(valid records, valid records whose geometry was repaired)."""
        self.cursor.execute(f"SELECT count(*), count(*) FILTER (WHERE repaired) FROM {STAGE} WHERE reason IS NULL")
        valid, repaired = self.cursor.fetchone()
        return valid, repaired

    def upsert(
        self,
        table: str,
        key: Sequence[str],
        values: Mapping[str, str],
        update: Mapping[str, str] | None = None,
        extent: str = "geom",
        params: Mapping[str, Any] | None = None,
        timestamps: bool = True,
    ) -> Upserted:
        """Insert or update ``table`` from the valid staged rows, writing only rows that change.

        ``values`` maps each target column to an SQL expression over the stage row ``s``;
        ``update`` maps the columns to rewrite on conflict to expressions over ``t`` (the
        stored row) and ``EXCLUDED`` (default: every non-key column from ``EXCLUDED``).
        ``created_at``/``updated_at`` are set here when the table has them
        (``timestamps``). ``extent`` names the geometry column whose old and new values
        bound the change. Expressions take named
        ``params`` (``%(name)s``).
        """
        update = dict(update or {c: f"EXCLUDED.{c}" for c in values if c not in key})
        columns, expressions = list(values), list(values.values())
        assignments = ", ".join(f"{c} = {e}" for c, e in update.items())
        if timestamps:
            columns += ["created_at", "updated_at"]
            expressions += ["now()", "now()"]
            assignments += ", updated_at = now()"
        old_row = ", ".join(f"t.{c}" for c in update)
        new_row = ", ".join(update.values())
        join = " AND ".join(f"t.{k} = s.{k}" for k in key)
        self.cursor.execute(
            f"""
            WITH old AS (
                SELECT t.id, t.{extent} AS g FROM {table} t JOIN {STAGE} s ON {join} WHERE s.reason IS NULL
            ), up AS (
                INSERT INTO {table} AS t ({", ".join(columns)})
                SELECT {", ".join(expressions)} FROM {STAGE} s WHERE s.reason IS NULL ORDER BY s.ord
                ON CONFLICT ({", ".join(key)}) DO UPDATE SET {assignments}
                WHERE ROW({old_row}) IS DISTINCT FROM ROW({new_row})
                RETURNING t.id, (t.xmax = 0) AS inserted, t.{extent} AS g
            ), changed AS (
                SELECT g FROM up UNION ALL SELECT old.g FROM old JOIN up ON up.id = old.id
            )
            SELECT
                (SELECT coalesce(array_agg(id ORDER BY id), '{{}}') FROM up WHERE inserted),
                (SELECT coalesce(array_agg(id ORDER BY id), '{{}}') FROM up WHERE NOT inserted),
                (SELECT ARRAY[ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)]
                 FROM (SELECT ST_Extent(g) AS e FROM changed) AS box WHERE e IS NOT NULL)
            """,
            dict(params or {}),
        )
        created, updated, box = self.cursor.fetchone()
        if created or updated:
            # Fresh statistics now, not whenever autovacuum comes by: the pipeline's joins on
            # streets are planned from them, and a table planned as nearly empty is joined
            # row by row with every other of its rows.
            self.cursor.execute(f"ANALYZE {table}")
        return Upserted(list(created), list(updated), tuple(box) if box else None)


# --- what the import services share ---------------------------------------------------


def fit(value: str, model: type, field: str) -> str:
    """Cut free text to the column's length (a long title must not cost the whole record)."""
    limit = model._meta.get_field(field).max_length
    return value if len(value) <= limit else value[: limit - 1] + "…"


def check_code(value: str, model: type, field: str, label: str) -> None:
    limit = model._meta.get_field(field).max_length
    if len(value) > limit:
        raise RecordError(
            _("%(label)s %(value)r… is longer than %(limit)s characters")
            % {"label": label, "value": value[:40], "limit": limit}
        )


@dataclass(frozen=True)
class UpsertTarget:
    """Where an import writes: the table, the staged columns and how rows become stored rows.

    ``columns`` are the staged data columns (name, SQL type), stored as they are with the
    geometry; ``computed`` maps the other columns to SQL expressions over the stage row
    ``s``; ``update`` and ``extent`` are as in :meth:`Stage.upsert`; ``kind`` is the
    geometry kind the table stores.
    """

    table: str
    columns: Sequence[tuple[str, str]]
    kind: str
    key: Sequence[str]
    computed: Mapping[str, str] = field(default_factory=dict)
    update: Mapping[str, str] | None = None
    extent: str = "geom"
    timestamps: bool = True

    @property
    def values(self) -> dict[str, str]:
        return {**{name: f"s.{name}" for name, _ in self.columns}, "geom": "s.geom", **self.computed}


def stage_and_upsert(
    result: ImportResult,
    target: UpsertTarget,
    rows: list[tuple],
    *,
    progress: Progress,
    params: Mapping[str, Any] | None = None,
    after: Callable[[Any], None] | None = None,
) -> None:
    """Stage ``rows``, check them and upsert them into ``target``; fill ``result``. Runs in the caller's transaction.

    ``after`` runs on the cursor once the rows are written, while the stage still holds them.
    """
    with connection.cursor() as cursor:
        stage = Stage(cursor, target.columns, target.kind)
        stage.load(rows, len(rows), progress)
        stage.check(target.key)
        valid, repaired = stage.counts()
        result.rejections.extend(stage.rejections())
        upserted = stage.upsert(
            target.table,
            target.key,
            target.values,
            target.update,
            extent=target.extent,
            params=params,
            timestamps=target.timestamps,
        )
        if after is not None:
            after(cursor)
        stage.drop()
    result.repaired = repaired
    result.created_ids, result.updated_ids = upserted.created_ids, upserted.updated_ids
    result.created, result.updated = len(upserted.created_ids), len(upserted.updated_ids)
    result.unchanged = valid - result.created - result.updated
    result.changed_extent = merge_extents(result.changed_extent, upserted.extent)


def record_rows(records: list, make_row: Callable[[Any], tuple], result: ImportResult) -> list[tuple]:
    """The rows ``make_row`` builds from ``records``; a record it refuses becomes a rejection in ``result``."""
    rows = []
    for record in records:
        try:
            rows.append(make_row(record))
        except RecordError as error:
            result.rejections.append(Rejection(record.position, str(error)))
    return rows


def relink_changes(result: ImportResult, **changed_ids: list[int]) -> None:
    """Refresh the links of the incidents near what the import changed, once it is committed.

    Posts near the changed rows' old and new geometries (``changed_extent``) or linked to
    them get their nearest segment and works zones again; their incidents are refreshed.
    """
    if result.changed:
        result.relinked = relink_incidents(extent=result.changed_extent, **changed_ids).incidents
