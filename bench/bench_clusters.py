"""
Clusters for any viewport and zoom, end to end over HTTP, with 1M incidents.

    .venv/bin/python bench/generate_incidents.py --count 1000000 --replace   # once
    .venv/bin/python bench/bench_clusters.py

Sends random 1280×800 px viewports at zooms 0 to 20 over the city (and beyond), half of
them with random filters (categories, statuses, a datetime window, near works), to one
gunicorn worker, and prints p50/p95/max overall and per zoom band. Target (issue 5):
p95 ≤ 50 ms. The first request of a worker loads the index; its time is printed apart.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, percentile, setup_django
from bench.servers import django_env, get, gunicorn

PORT = 18083
WIDTH, HEIGHT = 1280, 800
CITY = (1.35, 43.55, 1.52, 43.67)


def viewport(lon: float, lat: float, zoom: int) -> tuple[float, float, float, float]:
    """The bbox a WIDTH×HEIGHT map shows at ``zoom`` around (lon, lat), in Web Mercator."""
    world = 256 * 2**zoom
    x = (lon + 180) / 360 * world
    y = (1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * world

    def lon_of(px):
        return max(-180.0, min(180.0, px / world * 360 - 180))

    def lat_of(py):
        n = math.pi - 2 * math.pi * py / world
        return max(-85.0, min(85.0, math.degrees(math.atan(math.sinh(n)))))

    return lon_of(x - WIDTH / 2), lat_of(y + HEIGHT / 2), lon_of(x + WIDTH / 2), lat_of(y - HEIGHT / 2)


def random_query(rng: random.Random, categories: list[str], statuses: list[str]) -> dict:
    zoom = rng.randint(0, 20)
    lon = rng.uniform(CITY[0] - 0.05, CITY[2] + 0.05)
    lat = rng.uniform(CITY[1] - 0.05, CITY[3] + 0.05)
    params = {"bbox": ",".join(f"{v:.6f}" for v in viewport(lon, lat, zoom)), "zoom": zoom}
    if rng.random() < 0.5:
        if rng.random() < 0.6:
            params["category"] = ",".join(rng.sample(categories, rng.randint(1, 4)))
        if rng.random() < 0.6:
            params["status"] = ",".join(rng.sample(statuses, rng.randint(1, 3)))
        if rng.random() < 0.7:
            start = 1_672_531_200 + rng.randint(0, 700) * 86400
            days = rng.choice([1, 7, 30, 90, 365])
            params["datetime"] = (
                f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(start))}/"
                f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(start + days * 86400))}"
            )
        if rng.random() < 0.3:
            params["near_works"] = "true"
    return params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    setup_django()
    from incidents.categories import Category
    from incidents.models import Incident, IncidentStatus

    print(f"{Incident.objects.count():,} incidents")
    rng = random.Random(args.seed)
    categories = [value for value, _ in Category.choices]
    statuses = [value for value, _ in IncidentStatus.choices]
    queries = [random_query(rng, categories, statuses) for _ in range(args.requests)]
    env = django_env()
    samples: list[tuple[int, float, int]] = []
    with gunicorn("cityincidents.wsgi", PORT, python=Path(sys.executable), env=env, ready_path="/api/",
                  log=ROOT / "bench" / "out" / "gunicorn-clusters.log"):  # fmt: skip
        started = time.perf_counter()
        status, _ = get(PORT, "/api/incidents/clusters/?" + urlencode({"bbox": ",".join(map(str, CITY)), "zoom": 12}))
        assert status == 200
        print(f"first request (loads the index of the worker): {(time.perf_counter() - started) * 1000:.0f} ms")
        for params in queries:
            path = "/api/incidents/clusters/?" + urlencode(params)
            started = time.perf_counter()
            status, payload = get(PORT, path)
            elapsed = (time.perf_counter() - started) * 1000
            assert status == 200, (path, status, payload[:300])
            samples.append((params["zoom"], elapsed, len(json.loads(payload)["features"])))

    def line(name: str, rows: list[tuple[int, float, int]]) -> None:
        times = [ms for _, ms, _ in rows]
        features = max(n for _, _, n in rows)
        print(f"  {name:<12} n={len(rows):4d}  p50 {percentile(times, 50):6.1f} ms  p95 {percentile(times, 95):6.1f} ms"
              f"  max {max(times):6.1f} ms  (up to {features} features)")  # fmt: skip

    print("end to end over HTTP, one gunicorn worker:")
    line("all", samples)
    for low, high in ((0, 5), (6, 10), (11, 14), (15, 17), (18, 20)):
        line(f"zoom {low}-{high}", [s for s in samples if low <= s[0] <= high])
    p95 = percentile([ms for _, ms, _ in samples], 95)
    print(f"p95 {p95:.1f} ms (target ≤ 50 ms): {'OK' if p95 <= 50 else 'MISSED'}")


if __name__ == "__main__":
    main()
