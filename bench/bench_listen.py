#!/usr/bin/env python3
"""
Benchmark listening: posts per second through ``listen --once``, requests per hour, the cost of a restart.

    .venv/bin/python bench/bench_listen.py                    # 3,000 statuses per network, 300 new ones
    .venv/bin/python bench/bench_listen.py --statuses 10000 --new 1000

What is measured, in one run, on a database of its own (``cityincidents_bench_listen``,
created with the migrations, dropped at the end unless ``--keep``), with the Toulouse
streets, works and districts loaded, so that posts are located and grouped for real:

1. Local Mastodon-, Bluesky- and X-like servers (``tests/channels/fakes.py``, threads of this
   process on 127.0.0.1) each hold ``--statuses`` posts with ``#travaux`` from the last six
   days, texts of the demo generator's Toulouse reports. A channel per network follows the
   hashtag (default interval, ``INCIDENTS_LISTEN_MAX_PAGES`` raised so one poll reads all).
2. **Baseline**: the same posts, written as files of each network's format, go through
   ``manage.py ingest_posts`` (one thread, like the listener: ``INCIDENTS_INGEST_STORE_AHEAD=0``):
   the same parsers and ingest service, with no HTTP. Tables are emptied after.
3. **listen --once --channel NAME**, one process per network: posts per second of the poll
   (HTTP paging, parsing, storing exactly once, classifying, locating, linking, grouping;
   as the command reports it, process start left out), pages and requests.
4. **Steady state**: a poll with nothing new; its requests times ``3600 / interval`` are the
   requests per hour per channel at the default interval.
5. **Restart**: ``--new`` posts per network are published, then a new process runs
   ``manage.py listen --once``: requests and seconds (process start included) to catch up.

The servers run in this process, the listener and ``ingest_posts`` in their own: on a
2-core machine they share the cores. The machine's load average is printed: on a shared
machine figures vary; compare what is measured in the same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityincidents.settings")
os.environ["DJANGO_DEBUG"] = "0"  # no query log
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-a-secret")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("DJANGO_STATIC_MANIFEST", "0")
os.environ.setdefault("INCIDENTS_LOG_LEVEL", "WARNING")
# One poll reads a whole backlog here (the default stops at 20 pages per stream and goes on at the next).
os.environ["INCIDENTS_LISTEN_MAX_PAGES"] = "100000"
os.environ["BENCH_X_TOKEN"] = "x-token"  # noqa: S105 (the local X server's, not a secret)

BENCH_DB = "cityincidents_bench_listen"
DEMO_TEXTS = ROOT / "fixtures" / "demo_posts" / "mastodon_statuses.jsonl"


def demo_texts() -> list[str]:
    """Texts of the demo generator's Mastodon statuses: real Toulouse street names, the city's ways of writing."""
    from incidents.sources.htmltext import html_to_text

    lines = DEMO_TEXTS.read_text(encoding="utf-8").splitlines()
    return [html_to_text(json.loads(line)["content"]) for line in lines if line.strip()]


def fill(servers: dict, count: int, texts: list[str], start: int) -> None:
    """Publish ``count`` posts with #travaux on each server, oldest first: the backfill's over the last six
    days, later ones (``start`` > 0) over the last 30 seconds."""
    now = dt.datetime.now(dt.UTC)
    span = dt.timedelta(days=6) if start == 0 else dt.timedelta(seconds=30)
    for n in range(count):
        at = now - span + span * (n + 1) / (count + 1)
        text = texts[(start + n) % len(texts)]
        servers["mastodon"].add_status(f"{text} #travaux", tags=("travaux",), at=at, author=f"user{n % 400}")
        servers["bluesky"].add_post(text, tags=("travaux",), at=at, author=f"user{n % 400}")
        servers["x"].add_tweet(f"{text} #travaux", at=at, author=f"user{n % 400}")


def channel_args(servers: dict) -> dict[str, list[str]]:
    return {
        "mastodon": ["--kind", "mastodon", "--base-url", servers["mastodon"].url, "--hashtag", "travaux"],
        "bluesky": ["--kind", "bluesky", "--base-url", servers["bluesky"].url, "--hashtag", "travaux"],
        "x": ["--kind", "x", "--base-url", servers["x"].url, "--hashtag", "travaux", "--token-env", "BENCH_X_TOKEN"],
    }


def export(servers: dict, directory: Path) -> dict[str, Path]:
    """The servers' posts as the files of each network's format: what ``ingest_posts`` reads."""
    files = {kind: directory / f"{kind}.json" for kind in servers}
    statuses = servers["mastodon"].statuses.values()
    files["mastodon"].write_text("\n".join(json.dumps(status) for status in statuses), encoding="utf-8")
    files["bluesky"].write_text(json.dumps({"posts": list(servers["bluesky"].posts.values())}), encoding="utf-8")
    tweets = {"data": list(servers["x"].tweets.values()), "includes": {"users": list(servers["x"].users.values())}}
    files["x"].write_text(json.dumps(tweets), encoding="utf-8")
    return files


def manage(env: dict[str, str], *args: str) -> str:
    output = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], env=env, capture_output=True, text=True, check=False
    )
    if output.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{output.stderr}")
    return output.stdout


def ingest_rate(output: str) -> float:
    """Items per second, from ``ingest_posts``' summary line."""
    return float(re.search(r"items in [\d.]+ s \(([\d,]+)/s\)", output).group(1).replace(",", ""))


def poll_figures(output: str) -> dict[str, float]:
    """Pages, requests, seconds and new posts, from ``listen``'s line about a channel."""
    match = re.search(r": (\d+) pages?, (\d+) requests? in ([\d.]+) s: (\d+) new", output)
    return dict(zip(("pages", "requests", "seconds", "created"), map(float, match.groups()), strict=True))


def empty_tables() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE incidents_post, incidents_repost, incidents_incident, incidents_channelpost, "
            "incidents_channelcursor RESTART IDENTITY CASCADE"
        )
        cursor.execute("VACUUM ANALYZE")
    connection.close()


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark listening on local Mastodon, Bluesky and X servers.")
    parser.add_argument("--statuses", type=int, default=3000, help="posts per network for the backfill (default 3,000)")
    parser.add_argument("--new", type=int, default=300, help="posts per network published before the restart")
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DB} database")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from bench.city import load_toulouse, scratch_database
    from incidents.models import Post
    from tests.channels.fakes import FakeBluesky, FakeMastodon, FakeX

    print(f"load average at start: {load_average()} ({os.cpu_count()} CPUs)")
    servers = {"mastodon": FakeMastodon(), "bluesky": FakeBluesky(), "x": FakeX()}
    for server in servers.values():
        server.start()
    try:
        with scratch_database(BENCH_DB, keep=args.keep), tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            city = load_toulouse()
            print(f"loaded {city['streets']:,} street segments, {city['works']:,} works zones in "
                  f"{time.perf_counter() - started:.1f} s")  # fmt: skip
            texts = demo_texts()
            fill(servers, args.statuses, texts, start=0)
            for kind, extra in channel_args(servers).items():
                call_command("channels", "add", kind, *extra, verbosity=0)
            database = connection.settings_dict["NAME"]
            env = {**os.environ, "INCIDENTS_PG_DB": database, "DJANGO_LANGUAGE_CODE": "en"}
            if os.environ.get("DATABASE_URL"):
                env["DATABASE_URL"] = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + database
            connection.close()

            # Baseline: the same posts from files, through ingest_posts (one thread, as listen stores).
            baseline = {}
            for kind, path in export(servers, Path(tmp)).items():
                output = manage(env | {"INCIDENTS_INGEST_STORE_AHEAD": "0"}, "ingest_posts", str(path), "--format",
                                kind, "--source", kind)  # fmt: skip
                baseline[kind] = ingest_rate(output)
            empty_tables()

            interval = settings.INCIDENTS_LISTEN_INTERVAL_S
            print(f"\n{args.statuses:,} posts per network with #travaux over six days; each run is its own process")
            print(f"{'network':<9} {'listen --once':>14} {'ingest_posts':>13} {'ratio':>6} {'pages':>6} "
                  f"{'requests':>9} {'idle poll':>10} {'req/h at ' + str(interval) + ' s':>15}")  # fmt: skip
            for kind, server in servers.items():
                poll = poll_figures(manage(env, "listen", "--once", "--channel", kind))
                rate = poll["created"] / poll["seconds"]
                before = len(server.log)
                idle = poll_figures(manage(env, "listen", "--once", "--channel", kind))
                idle_requests = len(server.log) - before
                assert idle["created"] == 0, idle
                print(
                    f"{kind:<9} {rate:>10,.0f} p/s {baseline[kind]:>9,.0f} p/s {rate / baseline[kind]:>5.2f} "
                    f"{poll['pages']:>6.0f} {poll['requests']:>9.0f} {idle_requests:>10} "
                    f"{idle_requests * 3600 / interval:>15,.0f}"
                )
            total = Post.objects.count()
            connection.close()
            print(f"stored {total:,} posts")

            fill(servers, args.new, texts, start=args.statuses)
            before = {kind: len(server.log) for kind, server in servers.items()}
            started = time.perf_counter()
            manage(env, "listen", "--once")
            seconds = time.perf_counter() - started
            requests = {kind: len(server.log) - before[kind] for kind, server in servers.items()}
            print(
                f"\nrestart: a new process caught up {Post.objects.count() - total:,} new posts ({args.new:,} per "
                f"network) in {seconds:.1f} s (process start and warm-up included) with "
                + ", ".join(f"{kind} {count} requests" for kind, count in requests.items())
            )
    finally:
        for server in servers.values():
            server.stop()
    print(f"load average at end: {load_average()}")


if __name__ == "__main__":
    main()
