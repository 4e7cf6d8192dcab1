"""
Load test: the bbox list and the clusters endpoints under sustained concurrency, with wrk.

    apt-get install wrk                                                      # once (Debian package)
    .venv/bin/python bench/generate_incidents.py --count 1000000 --replace   # once
    .venv/bin/python bench/load_test.py                                      # 60 s per endpoint

Starts gunicorn with production settings (DEBUG off, a secret key, ALLOWED_HOSTS, static
files collected and served by WhiteNoise from the manifest) on 127.0.0.1 against the
benchmark database, checks that the map page and one of its static files are served,
warms every worker up (the clusters index is loaded once per process), then drives
``/api/incidents/?bbox=…`` and ``/api/incidents/clusters/?bbox=…&zoom=…`` with random
map viewports (bench/load_test.lua) for ``--duration`` seconds each, and prints
requests/s, p50/p95/p99 latency and errors (connection errors and non-2xx answers) per
endpoint. The anonymous throttle (600/min by default) would turn the load into 429s: it is
raised, not removed, for the run (``--anon-rate``), and the output says so.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, setup_django
from bench.servers import HOST, django_env, get, gunicorn

PORT = 18090
LUA = Path(__file__).resolve().parent / "load_test.lua"
ENDPOINTS = {
    "list": "/api/incidents/?bbox=… (zoom 15-17, page of 100)",
    "clusters": "/api/incidents/clusters/?bbox=…&zoom=11…17",
}


def wrk(mode: str, *, duration: float, connections: int, threads: int, warmup: bool = False) -> dict:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:.0f}s", "--timeout", "10s",
               "-s", str(LUA), f"http://{HOST}:{PORT}", "--", mode]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    for line in result.stdout.splitlines():
        if line.startswith("LOADTEST "):
            row = json.loads(line.removeprefix("LOADTEST "))
            if row["requests"] == 0 and not warmup:
                raise SystemExit(f"wrk made no request:\n{result.stdout}\n{result.stderr}")
            return row
    raise SystemExit(f"wrk gave no result (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60, help="seconds of load per endpoint (default 60)")
    parser.add_argument("--warmup", type=float, default=10, help="seconds of unrecorded load per endpoint first")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (default 4)")
    parser.add_argument("--anon-rate", default="1000000/min", help="anonymous throttle during the run")
    parser.add_argument("--min-incidents", type=int, default=100_000, help="refuse to run on fewer incidents")
    args = parser.parse_args()

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (Debian package), then run this again.")
    setup_django()
    from django.db import connection

    from incidents.models import Incident

    try:
        count = Incident.objects.count()
    except Exception as error:  # no database, not migrated
        raise SystemExit(
            f"cannot read the benchmark database ({error}); run bench/generate_incidents.py first"
        ) from None
    if count < args.min_incidents:
        raise SystemExit(
            f"the benchmark database {connection.settings_dict['NAME']} holds {count:,} incidents, fewer than "
            f"{args.min_incidents:,}: run .venv/bin/python bench/generate_incidents.py --count 1000000 --replace"
        )

    env = django_env(
        DJANGO_STATIC_MANIFEST="1",  # as in production: hashed names, compressed files, WhiteNoise (staticfiles/)
        DJANGO_SECURE_COOKIES="1",
        INCIDENTS_API_ANON_RATE=args.anon_rate,
        INCIDENTS_TILE_URL="none",
    )
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if collect.returncode != 0:
        raise SystemExit(f"collectstatic failed:\n{collect.stderr}")

    print(f"{count:,} incidents in {connection.settings_dict['NAME']}; gunicorn, {args.workers} sync workers, "
          f"DEBUG off, static files from the manifest through WhiteNoise, on {HOST}:{PORT}")  # fmt: skip
    print(f"anonymous throttle raised to {args.anon_rate} for the load test (default INCIDENTS_API_ANON_RATE "
          "600/min): with it, one client is answered 429 after 600 requests a minute")  # fmt: skip
    print(f"wrk: {args.threads} threads, {args.connections} connections, {args.duration:.0f} s per endpoint, "
          "a random 1280x800 px viewport over Toulouse per request (bench/load_test.lua)\n")  # fmt: skip
    log = ROOT / "bench" / "out" / "load_test_gunicorn.log"
    results = {}
    with gunicorn(
        "cityincidents.wsgi", PORT, python=Path(sys.executable), env=env, ready_path="/api/", log=log,
        workers=args.workers,
    ):  # fmt: skip
        status, page = get(PORT, "/")
        static = next((part.split('"')[0] for part in page.decode().split('src="')[1:] if "/static/" in part), None)
        if status != 200 or static is None:
            raise SystemExit(f"the map page answered {status} without static files; see {log}")
        static_status, _ = get(PORT, static)
        print(f"map page: {status}; {static}: {static_status} (WhiteNoise)")
        if static_status != 200:
            raise SystemExit(f"static file {static} answered {static_status}; see {log}")

        started = time.monotonic()
        for mode in ENDPOINTS:  # every worker loads its clusters index before the clock runs
            wrk(mode, duration=args.warmup, connections=args.connections, threads=args.threads, warmup=True)
        print(f"warm-up: {time.monotonic() - started:.0f} s\n")
        for mode in ENDPOINTS:
            results[mode] = wrk(mode, duration=args.duration, connections=args.connections, threads=args.threads)

    print(f"{'endpoint':<52} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    failed = False
    for mode, row in results.items():
        seconds = row["duration_us"] / 1e6
        errors = row["non2xx"] + row["connect"] + row["read"] + row["write"] + row["timeout"]
        failed |= errors > 0
        print(
            f"{ENDPOINTS[mode]:<52} {row['requests']:>9,} {row['requests'] / seconds:>8.1f} "
            f"{row['p50_us'] / 1000:>8.1f} {row['p95_us'] / 1000:>8.1f} {row['p99_us'] / 1000:>8.1f} {errors:>7}"
        )
        if errors:
            detail = {key: row[key] for key in ("connect", "read", "write", "timeout") if row[key]}
            print(f"  errors: non-2xx {row['non2xx']} {row['statuses']} {detail}")
    load = os.getloadavg()
    print(f"\nmachine: {os.cpu_count()} cores, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min) "
          "at the end: other processes' load skews the figures")  # fmt: skip
    if failed:
        raise SystemExit(f"errors under load: see {log}")


if __name__ == "__main__":
    main()
