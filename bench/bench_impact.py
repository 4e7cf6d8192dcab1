"""
Works impact at 1,000,000 incidents and 2,000 works zones: the table against the distance queries.

    BENCH_DB=cityincidents_impact .venv/bin/python bench/generate_incidents.py --count 1000000 --replace
    BENCH_DB=cityincidents_impact .venv/bin/python bench/bench_impact.py [--rebuild]

Over HTTP, one gunicorn worker, each request on a new connection (as the other API
benchmarks): the ranking ``/api/works-impact/?datetime=<a month>`` for random month windows
of the two generated years, and one zone's ``/api/works-zones/<id>/impact/`` for random
zones — first read from the works impact table, then with the table switched off (its
radius function set to NULL, restored at the end), which is exactly today's distance
queries, in the same run: each request is sent both ways in turn, so that both see the
same neighbours on a shared machine. Every answer of one must equal the other's byte for byte.
Targets (issue 16): ranking p95 ≤ 100 ms, a zone's impact p95 ≤ 50 ms. ``--rebuild``
first times a full rebuild of the table.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, latency_line, percentile, setup_django
from bench.servers import django_env, get, gunicorn, timed_get

PORT = 18086
FIRST_DAY = 1_672_531_200  # 2023-01-01, as bench/generate_incidents.py
DAYS = 730


def month(rng: random.Random) -> str:
    start = FIRST_DAY + rng.randint(0, DAYS - 30) * 86400 + rng.randint(0, 86399)
    iso = "%Y-%m-%dT%H:%M:%SZ"
    return f"{time.strftime(iso, time.gmtime(start))}/{time.strftime(iso, time.gmtime(start + 30 * 86400))}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--windows", type=int, default=30, help="month windows ranked (default 30)")
    parser.add_argument("--zones", type=int, default=100, help="zones whose impact is asked (default 100)")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--rebuild", action="store_true", help="time a full rebuild of the table first")
    args = parser.parse_args()
    setup_django()
    from django.db import connection

    from incidents.models import Incident, WorksZone, WorksZoneNeighbour
    from incidents.publish.works_impact import catch_up, rebuild, set_table_radius, table_radius

    incidents, zones = Incident.objects.count(), WorksZone.objects.count()
    print(f"{incidents:,} incidents, {zones:,} works zones")
    if args.rebuild:
        started = time.perf_counter()
        rows = rebuild()
        print(f"rebuild of the works impact table: {rows:,} rows in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    caught = catch_up()
    print(
        f"measured {caught:,} incidents queued since the table was last read in {time.perf_counter() - started:.1f} s"
    )
    radius = table_radius()
    print(f"works impact table: {WorksZoneNeighbour.objects.count():,} incident–zone pairs within {radius:g} m")
    rng = random.Random(args.seed)
    ranking = ["/api/works-impact/?" + urlencode({"datetime": month(rng)}) for _ in range(args.windows)]
    zone_ids = sorted(WorksZone.objects.values_list("pk", flat=True))
    impact = [f"/api/works-zones/{zone_id}/impact/" for zone_id in rng.sample(zone_ids, min(args.zones, len(zone_ids)))]

    modes = (("table", radius), ("distance queries (today)", None))
    results = {mode: ([], [], [], []) for mode, _ in modes}  # ranking ms, bodies; zone ms, bodies
    with gunicorn("cityincidents.wsgi", PORT, python=Path(sys.executable), env=django_env(), ready_path="/api/",
                  log=ROOT / "bench" / "out" / "gunicorn-impact.log"):  # fmt: skip
        get(PORT, ranking[0])  # a first request warms the worker up
        try:
            for kind, paths in ((0, ranking), (2, impact)):
                for path in paths:
                    for mode, table in modes:
                        with connection.cursor() as cursor:
                            set_table_radius(cursor, table)  # committed: the server's next query sees it
                        elapsed, body = timed_get(PORT, path)
                        results[mode][kind].append(elapsed)
                        results[mode][kind + 1].append(body)
        finally:
            with connection.cursor() as cursor:
                set_table_radius(cursor, radius)

    print("end to end over HTTP, one gunicorn worker:")
    for mode, (rank_ms, _, zone_ms, _) in results.items():
        print(latency_line(f"ranking, a month — {mode}", rank_ms))
        print(latency_line(f"one zone's impact — {mode}", zone_ms))
    rank_table, rank_bodies, zone_table, zone_bodies = results["table"]
    rank_live, rank_live_bodies, zone_live, zone_live_bodies = results["distance queries (today)"]
    same_ranking = sum(a == b for a, b in zip(rank_bodies, rank_live_bodies, strict=True))
    same_zones = sum(a == b for a, b in zip(zone_bodies, zone_live_bodies, strict=True))
    print(f"same answers: ranking {same_ranking}/{len(ranking)}, zone impact {same_zones}/{len(impact)}")
    counted = sum(len(json.loads(body)["features"]) for body in rank_bodies)
    print(f"(the rankings listed {counted:,} zones in all)")
    p95_rank, p95_zone = percentile(rank_table, 95), percentile(zone_table, 95)
    print(f"speed-up at p95: ranking {percentile(rank_live, 95) / p95_rank:.0f}x, "
          f"zone impact {percentile(zone_live, 95) / p95_zone:.0f}x")  # fmt: skip
    print(f"ranking p95 {p95_rank:.1f} ms (target ≤ 100 ms): {'OK' if p95_rank <= 100 else 'MISSED'}")
    print(f"zone impact p95 {p95_zone:.1f} ms (target ≤ 50 ms): {'OK' if p95_zone <= 50 else 'MISSED'}")
    if same_ranking < len(ranking) or same_zones < len(impact):
        sys.exit("the table and the distance queries disagree")


if __name__ == "__main__":
    main()
