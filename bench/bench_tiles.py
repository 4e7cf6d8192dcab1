"""
Vector tiles at 1M incidents, and the CQL2 filter path next to the REST filter it mirrors.

    BENCH_DB=cityincidents_tiles .venv/bin/python bench/generate_incidents.py --count 1000000 --replace  # once
    BENCH_DB=cityincidents_tiles .venv/bin/python bench/bench_tiles.py

1. Tiles. Random 1280×800 px viewports over the city at zooms 8 to 16 (and 17, where the map
   shows single incidents). For each viewport: the map's request of today (clusters below 17,
   the incidents list from 17) over HTTP, and every incidents tile the viewport needs, each
   fetched once (a tile already built is not asked again: its time would be the cache's).
   Each tile is also built by ``ST_AsMVT`` run bare in the database, twice: the query a
   PostGIS user writes first (every incident in the tile, same properties), and our query
   (one feature per 4×4-pixel cell) without HTTP or Django. Prints p50/p95 per tile, per zoom, and the viewport's
   cost both ways (tiles fetched one after the other, and the slowest tile: a browser fetches
   about six at once). The same for the street lines the map draws (``/map/streets/`` against
   street-segment tiles), zooms 14 to 17.
2. CQL2. Filters sent as ``filter=`` to ``/ogc/collections/incidents/items`` and as the
   REST parameters they mirror to ``/api/incidents/``, same page size, alternately; median
   and p95 each, and the ratio (target ≤ 1.5×).

One synchronous gunicorn worker on 127.0.0.1, requests one at a time on new connections.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_clusters import CITY, viewport
from bench.common import ROOT, latency_line, percentile, setup_django
from bench.servers import django_env, gunicorn, timed_get

PORT = 18091
ZOOMS = range(8, 18)
STREET_ZOOMS = range(14, 18)
# The map asks for single incidents from this zoom (static/incidents/js/map.js).
SINGLE_ZOOM = 17
# The incidents' properties a tile carries, as columns of the table.
PROPERTIES = ["category", "status", "first_post_at", "last_post_at", "post_count", "engagement", "priority",
              "segment_id AS segment", "segment_distance_m", "district_id AS district",
              "duplicate_of_id AS duplicate_of", "updated_at"]  # fmt: skip


def tiles_of(bbox: tuple[float, float, float, float], zoom: int) -> list[tuple[int, int, int]]:
    """The WebMercatorQuad tiles (z, x, y) a lon/lat box covers at ``zoom``."""
    size = 2**zoom

    def column(lon: float) -> int:
        return min(size - 1, max(0, int((lon + 180) / 360 * size)))

    def row(lat: float) -> int:
        lat = math.radians(max(-85.05, min(85.05, lat)))
        return min(size - 1, max(0, int((1 - math.log(math.tan(lat) + 1 / math.cos(lat)) / math.pi) / 2 * size)))

    west, south, east, north = bbox
    return [(zoom, x, y) for x in range(column(west), column(east) + 1) for y in range(row(north), row(south) + 1)]


def bare_sql(table: str, geometry: str, columns: list[str], name: str) -> str:
    """``ST_AsMVT`` of a tile written by hand, as a PostGIS user would (parameters: z, x, y twice)."""
    values = ", ".join(
        f"to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SSZ') AS {c}" if c.endswith("_at") else c
        for c in columns
    )
    return (
        f"SELECT ST_AsMVT(t.*, '{name}', 4096, 'geom', 'id') FROM ("
        f" SELECT id, {values},"
        f" ST_AsMVTGeom(ST_Transform({geometry}, 3857), ST_TileEnvelope(%s, %s, %s), 4096, 64, true) AS geom"
        f" FROM {table}"
        f" WHERE {geometry} && ST_Transform(ST_TileEnvelope(%s, %s, %s, margin => 0.015625), 4326)"
        ") AS t WHERE t.geom IS NOT NULL"
    )


def timed_sql(cursor, sql: str, params) -> float:
    started = time.perf_counter()
    cursor.execute(sql, params)
    cursor.fetchone()
    return (time.perf_counter() - started) * 1000


def bench_tiles(args, rng: random.Random, cursor) -> None:
    from django.db import connection

    from incidents.publish.layers import COLLECTIONS
    from incidents.publish.tiles import tile_sql

    # Our query goes through Django's connection (its parameters are GeoDjango's), nothing else.
    ours_cursor = connection.cursor()
    ours_cursor.execute("SET jit = off")
    sql = bare_sql("incidents_incident", "location", PROPERTIES, "incidents")
    print(f"\n1. incidents tiles, {args.viewports} viewports of 1280×800 px per zoom")
    seen: set[tuple[int, int, int]] = set()
    for zoom in ZOOMS:
        today, tile_http, bare, ours, sizes, per_view_total, per_view_max, tiles_per_view = ([] for _ in range(8))
        for _ in range(args.viewports):
            lon, lat = rng.uniform(CITY[0], CITY[2]), rng.uniform(CITY[1], CITY[3])
            bbox = viewport(lon, lat, zoom)
            box = ",".join(f"{v:.6f}" for v in bbox)
            if zoom < SINGLE_ZOOM:
                elapsed, _ = timed_get(PORT, "/api/incidents/clusters/?" + urlencode({"bbox": box, "zoom": zoom}))
            else:
                elapsed, _ = timed_get(PORT, "/api/incidents/?" + urlencode({"bbox": box, "limit": 1000}))
            today.append(elapsed)
            view = tiles_of(bbox, zoom)
            tiles_per_view.append(len(view))
            times = []
            for z, x, y in view:
                if (z, x, y) in seen:
                    continue
                seen.add((z, x, y))
                elapsed, payload = timed_get(PORT, f"/ogc/collections/incidents/tiles/WebMercatorQuad/{z}/{y}/{x}")
                times.append(elapsed)
                sizes.append(len(payload))
                bare.append(timed_sql(cursor, sql, [z, x, y, z, x, y]))
                our_sql, params = tile_sql(COLLECTIONS["incidents"], z, x, y)
                ours.append(timed_sql(ours_cursor, our_sql, params))
            tile_http += times
            if times:
                per_view_total.append(sum(times))
                per_view_max.append(max(times))
        request = "clusters request" if zoom < SINGLE_ZOOM else "incidents list (limit 1000)"
        full = [index for index, size in enumerate(sizes) if size]
        median_kib = statistics.median([sizes[i] for i in full]) / 1024 if full else 0
        print(f" zoom {zoom}: {statistics.median(tiles_per_view):.0f} tiles per viewport; {len(full)} of the "
              f"{len(sizes)} tiles fetched hold incidents: median {median_kib:.0f} KiB, largest "
              f"{max(sizes or [0]) / 1024:.0f} KiB")  # fmt: skip
        print(latency_line("tile over HTTP (built), every tile", tile_http, width=40))
        print(latency_line("tile over HTTP, tiles with incidents", [tile_http[i] for i in full], width=40))
        print(latency_line("bare ST_AsMVT, every incident (same)", [bare[i] for i in full], width=40))
        print(latency_line("bare ST_AsMVT, our query (same)", [ours[i] for i in full], width=40))
        print(latency_line(f"today: one {request}", today, width=40))
        print(latency_line("viewport by tiles, one after the other", per_view_total, width=40))
        print(latency_line("viewport by tiles, slowest tile", per_view_max, width=40))
        if full:
            p95 = percentile([tile_http[i] for i in full], 95)
            print(f"  tiles with incidents, p95 over HTTP / p95 bare: every incident "
                  f"{p95 / percentile([bare[i] for i in full], 95):.2f}×, "
                  f"our query {p95 / percentile([ours[i] for i in full], 95):.2f}×")  # fmt: skip


def bench_streets(args, rng: random.Random) -> None:
    print("\n   the map's street lines: /map/streets/ against street-segment tiles")
    seen: set[tuple[int, int, int]] = set()
    for zoom in STREET_ZOOMS:
        today, per_view_total, per_view_max = [], [], []
        for _ in range(args.viewports):
            bbox = viewport(rng.uniform(CITY[0], CITY[2]), rng.uniform(CITY[1], CITY[3]), zoom)
            box = ",".join(f"{v:.6f}" for v in bbox)
            today.append(timed_get(PORT, "/map/streets/?" + urlencode({"bbox": box, "zoom": zoom}))[0])
            times = []
            for z, x, y in tiles_of(bbox, zoom):
                if (z, x, y) not in seen:
                    seen.add((z, x, y))
                    times.append(
                        timed_get(PORT, f"/ogc/collections/street-segments/tiles/WebMercatorQuad/{z}/{y}/{x}")[0]
                    )
            if times:
                per_view_total.append(sum(times))
                per_view_max.append(max(times))
        print(f" zoom {zoom}:")
        print(latency_line("today: /map/streets/", today, width=40))
        print(latency_line("viewport by tiles, one after the other", per_view_total, width=40))
        print(latency_line("viewport by tiles, slowest tile", per_view_max, width=40))


def bench_cql2(args, rng: random.Random, categories: list[str]) -> None:
    print(f"\n2. CQL2 filter against the REST filter it mirrors (limit 100, {args.repeat} runs each, alternately)")
    ratios = []
    for number in range(args.filters):
        lon, lat = rng.uniform(CITY[0], CITY[2]), rng.uniform(CITY[1], CITY[3])
        west, south, east, north = viewport(lon, lat, rng.choice([13, 14, 15]))
        picked = rng.sample(categories, 2)
        start = f"2024-{rng.randint(1, 10):02d}-01T00:00:00Z"
        end = f"2024-{rng.randint(11, 12):02d}-01T00:00:00Z"
        rest = {"bbox": f"{west:.6f},{south:.6f},{east:.6f},{north:.6f}", "category": ",".join(picked),
                "status": "new,acknowledged", "limit": 100}  # fmt: skip
        cql2 = (
            f"category IN ('{picked[0]}','{picked[1]}') AND status IN ('new','acknowledged') AND "
            f"S_INTERSECTS(geometry, BBOX({west:.6f},{south:.6f},{east:.6f},{north:.6f}))"
        )
        if number % 2:
            rest["datetime"] = f"{start}/{end}"
            cql2 += f" AND T_INTERSECTS(INTERVAL(first_post_at, last_post_at), INTERVAL('{start}','{end}'))"
        rest_path = "/api/incidents/?" + urlencode(rest)
        cql2_path = "/ogc/collections/incidents/items?" + urlencode({"filter": cql2, "limit": 100})
        rest_ids = sorted(f["id"] for f in json.loads(timed_get(PORT, rest_path)[1])["features"])
        cql2_ids = sorted(f["id"] for f in json.loads(timed_get(PORT, cql2_path)[1])["features"])
        assert rest_ids == cql2_ids, (rest_path, cql2_path)
        rest_times, cql2_times = [], []
        for _ in range(args.repeat):
            rest_times.append(timed_get(PORT, rest_path)[0])
            cql2_times.append(timed_get(PORT, cql2_path)[0])
        ratio = statistics.median(cql2_times) / statistics.median(rest_times)
        ratios.append(ratio)
        print(f"  filter {number + 1} ({len(rest_ids)} features{', with datetime' if number % 2 else ''}): "
              f"REST median {statistics.median(rest_times):6.1f} ms p95 {percentile(rest_times, 95):6.1f} ms | "
              f"CQL2 median {statistics.median(cql2_times):6.1f} ms p95 {percentile(cql2_times, 95):6.1f} ms | "
              f"{ratio:.2f}×")  # fmt: skip
    worst = max(ratios)
    print(f"  CQL2 / REST, median of each: worst {worst:.2f}×, median {statistics.median(ratios):.2f}× "
          f"(target ≤ 1.5×): {'OK' if worst <= 1.5 else 'MISSED'}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewports", type=int, default=8, help="viewports per zoom")
    parser.add_argument("--filters", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--part", choices=["all", "tiles", "cql2"], default="all", help="what to measure")
    args = parser.parse_args()
    setup_django()
    import psycopg
    from django.db import connection

    from incidents.categories import Category
    from incidents.models import Incident

    print(f"{Incident.objects.count():,} incidents; load average {os.getloadavg()[0]:.1f} at the start")
    settings = connection.settings_dict
    rng = random.Random(args.seed)
    with (
        psycopg.connect(dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"],
                        port=settings.get("PORT") or None, autocommit=True) as bare,
        gunicorn("cityincidents.wsgi", PORT, python=Path(sys.executable), env=django_env(), ready_path="/api/",
                 log=ROOT / "bench" / "out" / "gunicorn-tiles.log"),
    ):  # fmt: skip
        elapsed, _ = timed_get(
            PORT, "/api/incidents/clusters/?" + urlencode({"bbox": ",".join(map(str, CITY)), "zoom": 12})
        )
        print(f"first clusters request (loads the worker's index): {elapsed:.0f} ms")
        if args.part in ("all", "tiles"):
            with bare.cursor() as cursor:
                # As the tile view runs: PostgreSQL's JIT compilation costs more than it saves here.
                cursor.execute("SET jit = off")
                bench_tiles(args, rng, cursor)
            bench_streets(args, rng)
        if args.part in ("all", "cql2"):
            bench_cql2(args, rng, [value for value, _ in Category.choices])
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
