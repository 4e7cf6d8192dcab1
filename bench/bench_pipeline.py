#!/usr/bin/env python3
"""
Benchmark the listening pipeline end to end, next to a naive per-post ORM baseline.

    .venv/bin/python bench/bench_pipeline.py                 # 100,000 posts, 3 runs, baseline on 2,000
    .venv/bin/python bench/bench_pipeline.py --posts 20000 --baseline 1000 --runs 1
    .venv/bin/python bench/bench_pipeline.py --profile /tmp/pipeline.prof   # cProfile of the last run

What is measured, in one run, on a database of its own (``cityincidents_bench``, created
with the migrations, dropped at the end unless ``--keep``):

1. the Toulouse districts, streets (and service area) and works are loaded through the
   real importers, as ``manage.py load_demo`` does (``incidents/demo.py``);
2. posts are generated with the demo generator (``scripts/generate_demo_posts.py``) and
   written as the real input files: X API v2 pages, Mastodon statuses, form CSV;
3. ``--runs`` times, taking turns so that both see the same neighbours:
   **naive**: the first ``--baseline`` items of the same files go through a per-post
   ORM loop doing the same work (get-or-create, save, nearest segment, works, incident)
   on emptied tables — the way one would write it without batches; then
   **pipeline**: the files are read, parsed, stored, classified, located, linked and
   grouped through ``incidents.pipeline.ingest.ingest`` (synchronous, default batch size).

Production settings: ``DEBUG`` off (no query log). Each run is its own process on
emptied tables, so its peak resident memory (``VmHWM``) is its own; best and median are
printed, the speed-up as median over median and run by run, and the CPU seconds of each
run (Python, and the local PostgreSQL server from ``/proc``). In each process, the warm-up
(building the street locator, loading the lexicon) is timed apart and left out of the
throughput; it is printed. Throughput counts input items (posts and reposts) per second
of wall-clock time, parsing included. This is a benchmark, not a test: the figures
depend on the machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityincidents.settings")
# Production settings: DEBUG off, so no query log (it costs time and memory per query).
os.environ["DJANGO_DEBUG"] = "0"
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-a-secret")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("DJANGO_STATIC_MANIFEST", "0")

BENCH_DB = "cityincidents_bench"
FILES = ("x_recent_search.jsonl", "mastodon_statuses.jsonl", "citizen_reports.csv")
# Partial runs measured with --floor: parse only; parse and store only; parse, store and
# hand each batch to Celery, as the receiving process does on the scale-out path (see run_floor).
FLOORS = ("parse", "store", "queue")
# The broker of the "queue" run: its own key prefix, whose keys are deleted afterwards.
QUEUE_BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/0")


def setup_django() -> None:
    import django

    django.setup()


# --- the two modes, each run in a child process ---------------------------------------------


def warm_up() -> float:
    """Build what a long-running process builds once (the street locator, the lexicon); return the seconds."""
    from incidents.classify.lexicon import classify
    from incidents.locate.locator import Locator

    started = time.perf_counter()
    Locator.from_database()
    classify("trottoir bloqué par un chantier", "fr")
    return time.perf_counter() - started


def postgres_cpu_seconds() -> float | None:
    """CPU time (user + system) the local PostgreSQL server has used: its live processes and those it reaped.

    Read from /proc, so only for a server on this machine (the project-local cluster);
    ``None`` otherwise. On a shared machine wall-clock time depends on the neighbours;
    CPU time much less.
    """
    from django.db import connection

    def fields(pid: int) -> list[str]:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (backend,) = cursor.fetchone()
        postmaster = int(fields(backend)[1])
        server = fields(postmaster)
        ticks = sum(int(value) for value in server[11:15])  # utime, stime, cutime, cstime
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    child = fields(int(entry.name))
                except OSError:
                    continue
                if int(child[1]) == postmaster:
                    ticks += int(child[11]) + int(child[12])
        return ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class Measured:
    """Wall-clock time and CPU time (this process's, the local PostgreSQL server's) of a ``with`` block."""

    def __enter__(self) -> Measured:
        self._postgres = postgres_cpu_seconds()
        self._python = time.process_time()
        self._started = time.perf_counter()
        return self

    def __exit__(self, *exc_info) -> None:
        self.seconds = time.perf_counter() - self._started
        self.cpu_python = time.process_time() - self._python
        postgres = postgres_cpu_seconds()
        self.cpu_postgres = postgres - self._postgres if self._postgres is not None and postgres else None

    def figures(self) -> dict:
        return {"seconds": self.seconds, "cpu_python": self.cpu_python, "cpu_postgres": self.cpu_postgres}


def run_pipeline(directory: Path) -> dict:
    from incidents.pipeline.ingest import IngestReport, ingest
    from incidents.sources.reader import open_file

    warm_up_seconds = warm_up()
    total = IngestReport()
    with Measured() as measured:
        for name in FILES:
            # As manage.py ingest_posts does: parse, store and decide ahead in a second thread.
            total.merge(ingest(open_file(directory / name).items, synchronous=True, store_ahead=True))
    return {
        "items": total.items,
        **measured.figures(),
        "warm_up_seconds": warm_up_seconds,
        "created": total.created,
        "reposts": total.reposts,
        "processed": total.processed.as_dict(),
    }


def run_floor(directory: Path, stage: str) -> dict:
    """Only the first stages, with no processing: what end to end can never beat.

    ``parse``: read and parse every file, nothing stored. ``store``: parse and store
    every batch exactly once (the posts stay ``pending``), in the same two threads as
    the pipeline run. Classification, location, linking and grouping come on top.
    ``queue``: what the receiving process does when ``CELERY_BROKER_URL`` is set —
    store, then hand each batch's ids to the broker; no worker runs, the tasks are
    deleted afterwards.
    """
    from django.conf import settings

    from incidents.pipeline.ingest import _ahead, _stored_batches, ingest
    from incidents.sources.reader import open_file

    warm_up_seconds = warm_up()
    items = 0
    with Measured() as measured:
        for name in FILES:
            parsed = open_file(directory / name).items
            if stage == "parse":
                items += sum(1 for _ in parsed)
                continue
            if stage == "queue":
                report = ingest(parsed, synchronous=False, store_ahead=True)
                if report.unqueued_posts or (report.created and not report.queued):
                    sys.exit(f"could not hand the stored posts to the broker {QUEUE_BROKER}: is Redis running?")
                items += report.items
                continue
            batches = _stored_batches(parsed, settings.INCIDENTS_INGEST_BATCH_SIZE, decide_ahead=False)
            items += sum(len(stored.results) for stored in _ahead(batches))
    return {"items": items, **measured.figures(), "warm_up_seconds": warm_up_seconds}


def run_naive(directory: Path, limit: int) -> dict:
    """The same work, one post at a time through the ORM."""
    from incidents.classify.lexicon import classify
    from incidents.locate.locator import Locator

    started = time.perf_counter()
    locator = Locator.from_database()
    classify("trottoir bloqué par un chantier", "fr")
    warm_up_seconds = time.perf_counter() - started
    with Measured() as measured:
        items = _naive_loop(directory, limit, locator)
    return {"items": items, **measured.figures(), "warm_up_seconds": warm_up_seconds}


def _naive_loop(directory: Path, limit: int, locator) -> int:
    """Store and process the first ``limit`` items one post at a time; return how many were read."""
    from django.conf import settings
    from django.contrib.gis.geos import Point
    from django.db import transaction
    from django.db.models import F

    from incidents.classify.lexicon import classify
    from incidents.models import (
        Incident,
        IncidentWorksZone,
        Post,
        PostState,
        PostWorksZone,
        Repost,
        ServiceArea,
        StreetSegment,
        WorksZone,
    )
    from incidents.models.incidents import OPEN_STATUSES
    from incidents.sources.reader import open_file

    grace = dt.timedelta(hours=settings.INCIDENTS_WORKS_GRACE_HOURS)
    window = dt.timedelta(days=settings.INCIDENTS_GROUP_OPEN_DAYS)
    items = 0
    for name in FILES:
        for item in open_file(directory / name).items:
            if items >= limit:
                break
            items += 1
            for record in (*item.embedded, item.record):
                if record is None:
                    continue
                with transaction.atomic():
                    if record.repost_of:
                        _, created = Repost.objects.get_or_create(
                            source=record.source,
                            external_id=record.external_id,
                            defaults={"original_external_id": record.repost_of, "posted_at": record.posted_at},
                        )
                        if created:
                            Post.objects.filter(source=record.source, external_id=record.repost_of).update(
                                repost_count=F("repost_count") + 1
                            )
                        continue
                    if Post.objects.filter(source=record.source, external_id=record.external_id).exists():
                        continue
                    post = Post.objects.create(
                        source=record.source,
                        external_id=record.external_id,
                        text=record.text,
                        posted_at=record.posted_at,
                        language=record.language,
                        url=record.url,
                        author_handle=record.author_handle,
                        like_count=record.like_count,
                        repost_count=record.repost_count,
                        reply_count=record.reply_count,
                        quote_count=record.quote_count,
                        raw=record.raw,
                    )
                    classification = classify(record.text, record.language)
                    post.category, post.relevance = classification.category, classification.relevance
                    post.category_score = classification.score
                    post.state = PostState.IRRELEVANT
                    if classification.is_relevant:
                        location = locator.locate(record)
                        post.state = PostState.UNLOCATED
                        if location.found:
                            post.location = Point(location.lon, location.lat, srid=4326)
                            post.location_method, post.location_accuracy_m = location.method, location.accuracy_m
                            in_area = not ServiceArea.objects.exists() or ServiceArea.objects.covering(post.location)
                            post.state = PostState.LOCATED if in_area else PostState.OUT_OF_AREA
                    if post.state == PostState.LOCATED:
                        segment = StreetSegment.objects.near(post.location, settings.INCIDENTS_SEGMENT_MAX_DISTANCE_M)
                        segment = segment.first()
                        if segment is not None:
                            post.segment, post.segment_distance_m = segment, segment.distance_m
                        zones = WorksZone.objects.near(post.location, settings.INCIDENTS_WORKS_RADIUS_M).active_at(
                            post.posted_at, grace
                        )
                        for zone in zones:
                            PostWorksZone.objects.create(post=post, works_zone=zone, distance_m=zone.distance_m)
                        incident = (
                            Incident.objects.filter(
                                category=post.category,
                                status__in=OPEN_STATUSES,
                                last_post_at__gte=post.posted_at - window,
                                first_post_at__lte=post.posted_at + window,
                            )
                            .near(post.location, settings.INCIDENTS_GROUP_DISTANCE_M)
                            .first()
                        )
                        if incident is None:
                            incident = Incident.objects.create(
                                location=post.location,
                                category=post.category,
                                first_post_at=post.posted_at,
                                last_post_at=post.posted_at,
                                segment=post.segment,
                                segment_distance_m=post.segment_distance_m,
                            )
                        incident.post_count += 1
                        incident.engagement += post.engagement
                        incident.first_post_at = min(incident.first_post_at, post.posted_at)
                        incident.last_post_at = max(incident.last_post_at, post.posted_at)
                        incident.priority = incident.post_count + incident.engagement / 10
                        incident.save()
                        for zone in zones:
                            IncidentWorksZone.objects.get_or_create(
                                incident=incident, works_zone=zone, defaults={"distance_m": zone.distance_m}
                            )
                        post.incident = incident
                    post.save()
    return items


def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM: ru_maxrss would include the parent's, inherited at fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(args: argparse.Namespace) -> None:
    setup_django()
    directory = Path(args.dir)
    from django.conf import settings

    assert not settings.DEBUG, "benchmark with production settings (DEBUG off)"
    if args.mode == "naive":
        result = run_naive(directory, args.baseline)
    elif args.mode in FLOORS:
        result = run_floor(directory, args.mode)
    elif args.profile:
        import cProfile

        profiler = cProfile.Profile()
        result = profiler.runcall(run_pipeline, directory)
        profiler.dump_stats(args.profile)
    else:
        result = run_pipeline(directory)
    result["peak_rss_mib"] = peak_rss_mib()
    print(json.dumps(result))


# --- the orchestration -----------------------------------------------------------------------


def generate(directory: Path, posts: int) -> int:
    import generate_demo_posts as generator

    problems = max(10, int(posts / 1.33))  # about 1.33 items per problem, reposts included
    generated = generator.build(seed=1, problems=problems, noise=max(1, posts // 14))
    for name, text in generator.render(generated).items():
        (directory / name).write_text(text, encoding="utf-8")
    return len(generated)


def load_city() -> dict[str, int]:
    """Districts, streets, service area and works through the real importers (``load_demo`` without posts)."""
    from incidents.demo import DEMO_STEPS, DemoContext
    from incidents.models import District, StreetSegment, WorksZone

    context = DemoContext()
    for step in DEMO_STEPS:
        if step.run.__name__ != "load_posts":
            step.run(context)
    return {
        "streets": StreetSegment.objects.count(),
        "works": WorksZone.objects.count(),
        "districts": District.objects.count(),
    }


def truncate_posts() -> None:
    """Empty the tables the pipeline writes (and those referring to them), then clean up after them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE incidents_post, incidents_repost, incidents_incident RESTART IDENTITY CASCADE")
        cursor.execute("VACUUM ANALYZE")


def run_child(mode: str, directory: Path, baseline: int, database: str, profile: str | None = None) -> dict:
    env = {**os.environ, "INCIDENTS_PG_DB": database}
    if os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + database
    prefix = f"cityincidents-bench-{os.getpid()}:" if mode == "queue" else None
    if prefix:
        env |= {"CELERY_BROKER_URL": QUEUE_BROKER, "CELERY_BROKER_KEYPREFIX": prefix}
    extra = ["--profile", profile] if profile else []
    try:
        output = subprocess.run(
            [sys.executable, __file__, "--child", mode, "--dir", str(directory), "--baseline", str(baseline), *extra],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        if prefix:  # the tasks no worker took
            import redis

            client = redis.Redis.from_url(QUEUE_BROKER)
            for key in client.scan_iter(match=f"{prefix}*"):
                client.delete(key)
    if output.returncode:
        sys.exit(f"the {mode} run failed:\n{output.stderr}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the pipeline against a naive per-post ORM loop.")
    parser.add_argument("--posts", type=int, default=100_000, help="posts to generate (default 100,000)")
    parser.add_argument("--baseline", type=int, default=2_000, help="items for the naive run (default 2,000)")
    parser.add_argument("--runs", type=int, default=3, help="pipeline runs, best and median printed (default 3)")
    parser.add_argument("--profile", help="write a cProfile of the last pipeline run to this file")
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DB} database")
    parser.add_argument(
        "--floor", action="store_true", help="also time parsing alone and parsing + storing alone, each run"
    )
    parser.add_argument("--child", choices=["pipeline", "naive", *FLOORS], dest="mode", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        child(args)
        return

    setup_django()
    from django.db import connection

    from bench.city import scratch_database

    with scratch_database(BENCH_DB, keep=args.keep):
        started = time.perf_counter()
        city = load_city()
        print(
            f"loaded {city['streets']:,} street segments, {city['works']:,} works zones, {city['districts']} districts "
            f"through the importers in {time.perf_counter() - started:.1f} s"
        )
        with tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp)
            started = time.perf_counter()
            generated = generate(directory, args.posts)
            size = sum((directory / name).stat().st_size for name in FILES) / 2**20
            print(f"generated {generated:,} posts ({size:.0f} MiB of input) in {time.perf_counter() - started:.1f} s")
            connection.close()

            # The naive loop and the pipeline take turns, so that both see the same neighbours.
            runs, naives = [], []
            floors: dict[str, list[dict]] = {stage: [] for stage in FLOORS} if args.floor else {}
            for number in range(1, args.runs + 1):
                for stage, results in floors.items():
                    truncate_posts()
                    connection.close()
                    results.append(run_child(stage, directory, args.baseline, BENCH_DB))
                truncate_posts()
                connection.close()
                naives.append(run_child("naive", directory, args.baseline, BENCH_DB))
                truncate_posts()
                connection.close()
                profile = args.profile if number == args.runs else None
                runs.append(run_child("pipeline", directory, args.baseline, BENCH_DB, profile))
                run, naive = runs[-1], naives[-1]
                print(
                    f"run {number}: pipeline {run['items'] / run['seconds']:,.0f} items/s, "
                    f"{run['processed']['incidents_created']:,} incidents; "
                    f"naive {naive['items'] / naive['seconds']:,.0f} items/s"
                    + "".join(
                        f"; {stage} only {results[-1]['items'] / results[-1]['seconds']:,.0f} items/s"
                        for stage, results in floors.items()
                    ),
                    flush=True,
                )
    report(runs, naives, floors)


def _cpu(result: dict) -> float | None:
    if result.get("cpu_postgres") is None:
        return None
    return result["cpu_python"] + result["cpu_postgres"]


def report(runs: list[dict], naives: list[dict], floors: dict[str, list[dict]]) -> None:
    rates = [run["items"] / run["seconds"] for run in runs]
    pipeline = runs[rates.index(max(rates))]
    pipeline_rate, median_rate = max(rates), statistics.median(rates)
    naive_rates = [naive["items"] / naive["seconds"] for naive in naives]
    naive_rate = statistics.median(naive_rates)
    processed = pipeline["processed"]
    print()
    print(f"{'mode':<16} {'items':>9} {'seconds':>8} {'items/s':>9} {'peak RSS':>10} {'warm-up (apart)':>16}")
    rows = [(f"pipeline run {n}", run, rate) for n, (run, rate) in enumerate(zip(runs, rates, strict=True), 1)]
    rows += [(f"naive run {n}", run, rate) for n, (run, rate) in enumerate(zip(naives, naive_rates, strict=True), 1)]
    for stage, results in floors.items():
        rows += [(f"{stage} only {n}", run, run["items"] / run["seconds"]) for n, run in enumerate(results, 1)]
    for name, result, rate in rows:
        memory = f"{result['peak_rss_mib']:>7.0f} MiB"
        warm = f"{result['warm_up_seconds']:>14.1f} s"
        print(f"{name:<16} {result['items']:>9,} {result['seconds']:>8.1f} {rate:>9,.0f} {memory} {warm}")
    print()
    for name, result, _rate in rows:
        cpu = _cpu(result)
        if cpu is not None:
            print(
                f"{name} CPU: {result['cpu_python']:.1f} s Python + {result['cpu_postgres']:.1f} s PostgreSQL "
                f"= {cpu:.1f} s, {result['items'] / cpu:,.0f} items per CPU-second"
            )
    cpu_rates = [run["items"] / _cpu(run) for run in runs if _cpu(run)]
    naive_cpu_rates = [naive["items"] / _cpu(naive) for naive in naives if _cpu(naive)]
    if cpu_rates and naive_cpu_rates:
        print(
            f"items per CPU-second, median: pipeline {statistics.median(cpu_rates):,.0f}, "
            f"naive {statistics.median(naive_cpu_rates):,.0f} "
            f"({statistics.median(cpu_rates) / statistics.median(naive_cpu_rates):.1f}x)"
        )
    print()
    print(
        f"pipeline: {pipeline['created']:,} posts stored, {pipeline['reposts']:,} reposts counted; "
        f"{processed['located']:,} located, {processed['unlocated']:,} unlocated, "
        f"{processed['out_of_area']:,} out of area, {processed['irrelevant']:,} irrelevant; "
        f"{processed['incidents_created']:,} incidents"
    )
    pair_ratios = [rate / naive for rate, naive in zip(rates, naive_rates, strict=True)]
    print(
        f"speed-up over the naive per-post ORM loop: {median_rate / naive_rate:.1f}x median over median "
        f"(runs side by side: {', '.join(f'{ratio:.1f}x' for ratio in pair_ratios)}; target 15x)"
    )
    from django.conf import settings

    print(f"batch size {settings.INCIDENTS_INGEST_BATCH_SIZE:,} (INCIDENTS_INGEST_BATCH_SIZE), DEBUG {settings.DEBUG}")
    for stage, results in floors.items():
        floor = statistics.median(run["items"] / run["seconds"] for run in results)
        print(
            f"{stage} only (no processing): {floor:,.0f} items/s median; "
            f"end to end runs at {median_rate / floor:.0%} of it"
        )
    print(
        f"end to end: {median_rate:,.0f} items/s median, {pipeline_rate:,.0f} best of {len(runs)} "
        f"(target 5,000/s on 2 cores; this machine has {os.cpu_count()} CPUs)"
    )


if __name__ == "__main__":
    main()
