"""
Generate N synthetic incidents around Toulouse in the benchmark database, with COPY.

    .venv/bin/python bench/generate_incidents.py --count 1000000

Also creates street segments and works zones (and links ~15 % of incidents to a zone)
so that joins and the "near works" filter cost what they cost in production. Uses the
database ``cityincidents_bench`` of the project-local cluster (``BENCH_DB`` to change
it); ``--replace`` empties its tables first. 1M incidents take about a minute.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from bench.common import ensure_database, setup_django

# Toulouse and around.
WEST, SOUTH, EAST, NORTH = 1.35, 43.55, 1.52, 43.67
CHUNK = 100_000


def _points(rng, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Half in 60 hot spots (streets people complain about), half spread over the city."""
    hot = count // 2
    centres = rng.uniform([WEST, SOUTH], [EAST, NORTH], size=(60, 2))
    pick = rng.integers(0, len(centres), hot)
    spread = rng.normal(0, 0.004, size=(hot, 2))
    clustered = centres[pick] + spread
    uniform = rng.uniform([WEST, SOUTH], [EAST, NORTH], size=(count - hot, 2))
    points = np.clip(np.vstack([clustered, uniform]), [WEST, SOUTH], [EAST, NORTH])
    rng.shuffle(points)
    return points[:, 0], points[:, 1]


def _copy(cursor, table: str, columns: list[str], lines) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        buffer = io.StringIO()
        for number, line in enumerate(lines, 1):
            buffer.write(line)
            if number % CHUNK == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())


def _first_id(cursor, table: str) -> int:
    """Return the id the next row ``COPY`` writes into ``table`` gets.

    The table's sequence is moved to just after its largest id: a sequence left ahead by
    deleted rows (an emptied test table) would otherwise number the rows past the ids this
    script hands out to the rows that point at them.
    """
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1, false) FROM {table}"
    )
    return cursor.fetchone()[0]


def generate(count: int, seed: int, replace: bool, segments: int, zones: int) -> None:
    from django.db import connection, transaction

    from incidents.categories import Category
    from incidents.models import Incident, IncidentWorksZone, StreetSegment, WorksZone, WorksZoneNeighbour
    from incidents.models.incidents import IncidentStatus
    from incidents.publish.clusters import mark_incidents_changed
    from incidents.publish.works_impact import catch_up
    from incidents.services.works import refresh_impact_areas

    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    incident_table = Incident._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        if replace:
            tables = [IncidentWorksZone, Incident, WorksZone, StreetSegment]
            cursor.execute(f"TRUNCATE {', '.join(m._meta.db_table for m in tables)} RESTART IDENTITY CASCADE")
            print("emptied the incident, works zone and street tables")

        # Street segments: short east-west stretches.
        first_segment = _first_id(cursor, StreetSegment._meta.db_table)
        lon, lat = _points(rng, segments)
        _copy(
            raw,
            StreetSegment._meta.db_table,
            ["source", "source_id", "name", "name_normalized", "street_id", "commune", "insee_code", "geom",
             "length_m", "properties", "layers", "created_at", "updated_at"],
            (
                f"bench\t{first_segment + i}\tRUE {i}\true {i}\t{i}\tTOULOUSE\t31555\t"
                f"SRID=4326;MULTILINESTRING(({x:.6f} {y:.6f},{x + 0.001:.6f} {y:.6f}))\t80\t{{}}\t{{}}\tnow\tnow\n"
                for i, (x, y) in enumerate(zip(lon, lat, strict=True))
            ),
        )  # fmt: skip
        print(f"{segments} street segments")

        # Works zones: points, their impact area computed in PostGIS.
        first_zone = _first_id(cursor, WorksZone._meta.db_table)
        lon, lat = _points(rng, zones)
        starts = 1_672_531_200 + rng.integers(0, 730 * 86400, zones)  # 2023-01-01 + 2 years
        _copy(
            raw,
            WorksZone._meta.db_table,
            ["source", "source_id", "reference", "title", "description", "nature", "road_names", "commune",
             "declarant", "contractor", "starts_at", "ends_at", "geom", "impact_area", "impact_vehicle",
             "impact_pedestrian", "impact_cycle", "impact_parking", "impact_closure", "impact_text", "properties",
             "created_at", "updated_at"],
            (
                f"bench\t{first_zone + i}\tW{i}\tTravaux {i}\t\tvoirie\t{{}}\tTOULOUSE\tville\t\t"
                f"{'epoch'}\t\\N\tSRID=4326;POINT({x:.6f} {y:.6f})\tSRID=4326;MULTIPOLYGON EMPTY\t"
                f"t\t{'t' if i % 2 else 'f'}\tf\tf\tf\t\t{{}}\tnow\tnow\n"
                for i, (x, y) in enumerate(zip(lon, lat, strict=True))
            ),
        )  # fmt: skip
        zone_ids = list(range(first_zone, first_zone + zones))
        cursor.execute(
            f"UPDATE {WorksZone._meta.db_table} SET starts_at = to_timestamp(s), ends_at = to_timestamp(s) + "
            f"interval '60 days' FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, s) WHERE "
            f"{WorksZone._meta.db_table}.id = v.id",
            [zone_ids, [int(s) for s in starts]],
        )
        refresh_impact_areas(WorksZone.objects.filter(pk__gte=first_zone))
        print(f"{zones} works zones")

        # Incidents.
        first_incident = _first_id(cursor, incident_table)
        lon, lat = _points(rng, count)
        categories = np.array([value for value, _ in Category.choices])
        category = categories[rng.choice(len(categories), count, p=_weights(len(categories)))]
        statuses = np.array([s for s in IncidentStatus.values if s != IncidentStatus.DUPLICATE])
        status = statuses[rng.choice(len(statuses), count, p=[0.35, 0.2, 0.1, 0.25, 0.1])]
        first = 1_672_531_200 + rng.integers(0, 730 * 86400, count)
        last = first + rng.exponential(36 * 3600, count).astype(np.int64)
        posts = 1 + rng.poisson(1.5, count)
        engagement = rng.poisson(4, count) * posts
        segment = first_segment + rng.integers(0, segments, count)
        _copy(
            raw,
            incident_table,
            ["location", "category", "status", "segment_id", "segment_distance_m", "first_post_at", "last_post_at",
             "post_count", "engagement", "priority", "created_at", "updated_at"],
            (
                f"SRID=4326;POINT({lon[i]:.6f} {lat[i]:.6f})\t{category[i]}\t{status[i]}\t{segment[i]}\t"
                f"{(i % 30) + 0.5}\t{_ts(first[i])}\t{_ts(last[i])}\t{posts[i]}\t{engagement[i]}\t"
                f"{engagement[i] / 10 + posts[i]:.3f}\tnow\tnow\n"
                for i in range(count)
            ),
        )  # fmt: skip
        print(f"{count} incidents ({time.perf_counter() - started:.1f} s)")

        # ~15 % of incidents were reported next to works.
        linked = rng.choice(count, size=count * 15 // 100, replace=False)
        _copy(
            raw,
            IncidentWorksZone._meta.db_table,
            ["incident_id", "works_zone_id", "distance_m"],
            (f"{first_incident + i}\t{zone_ids[i % zones]}\t{(i % 90) + 1}\n" for i in linked),
        )
        print(f"{len(linked)} incident-works links")
        mark_incidents_changed(None)
    # The incidents were queued for the works impact table: measure them now, not on the first read.
    measured = time.perf_counter()
    queued = catch_up()
    print(f"{queued} incidents measured against the works zones ({time.perf_counter() - measured:.1f} s)")
    with connection.cursor() as cursor:
        for model in (StreetSegment, WorksZone, Incident, IncidentWorksZone, WorksZoneNeighbour):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    print(f"done in {time.perf_counter() - started:.1f} s")


def _weights(n: int) -> np.ndarray:
    weights = np.linspace(2, 1, n)
    return weights / weights.sum()


def _ts(epoch: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(int(epoch)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="incidents to create (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--segments", type=int, default=20_000, help="street segments to create")
    parser.add_argument("--zones", type=int, default=2_000, help="works zones to create")
    parser.add_argument("--replace", action="store_true", help="empty the benchmark tables first")
    args = parser.parse_args()
    if args.count < 1:
        parser.error("--count must be at least 1")
    setup_django()
    ensure_database()
    generate(args.count, args.seed, args.replace, args.segments, args.zones)


if __name__ == "__main__":
    main()
