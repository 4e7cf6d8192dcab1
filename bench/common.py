"""Shared set-up of the benchmark scripts: a dedicated database, Django, timing helpers."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "cityincidents_bench"


def setup_django(database: str | None = None) -> None:
    """Point Django at the benchmark database (never the development one) and set it up."""
    sys.path.insert(0, str(ROOT))
    os.environ["INCIDENTS_PG_DB"] = database or os.environ.get("BENCH_DB", BENCH_DB)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityincidents.settings")
    # Production-like: DEBUG off (no query log), no throttling of the benchmark client.
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-a-secret")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
    os.environ.setdefault("DJANGO_STATIC_MANIFEST", "0")
    os.environ.setdefault("INCIDENTS_API_ANON_RATE", "none")
    import django

    django.setup()


def ensure_database() -> None:
    """Create the benchmark database if needed and migrate it."""
    import psycopg
    from django.conf import settings
    from django.core.management import call_command

    db = settings.DATABASES["default"]
    with psycopg.connect(
        dbname="postgres", user=db["USER"], host=db["HOST"], port=db.get("PORT") or None, autocommit=True
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{db["NAME"]}"')
    call_command("migrate", verbosity=0)


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def latency_line(name: str, samples: list[float], width: int = 34) -> str:
    """One printed line of latencies in milliseconds: count, p50, p95 and max (``-`` when none)."""
    if not samples:
        return f"  {name:<{width}} -"
    p50, p95 = percentile(samples, 50), percentile(samples, 95)
    return f"  {name:<{width}} n={len(samples):4d}  p50 {p50:8.1f} ms  p95 {p95:8.1f} ms  max {max(samples):8.1f} ms"


def timed(call: Callable[[], object], repeat: int, warmup: int = 3) -> list[float]:
    """Run ``call`` ``warmup`` times, then ``repeat`` times; return the durations in milliseconds."""
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def summary(name: str, samples: list[float]) -> dict:
    median = statistics.median(samples)
    row = {
        "name": name,
        "n": len(samples),
        "median_ms": median,
        "p95_ms": percentile(samples, 95),
        "rps": 1000 / median if median else float("inf"),
    }
    print(f"  {name:<44} median {median:8.2f} ms   p95 {row['p95_ms']:8.2f} ms   {row['rps']:8.1f} req/s")
    return row
