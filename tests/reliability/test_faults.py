"""Faults against real servers: PostgreSQL restarted under an ingest, a Celery worker killed mid-batch.

Two ingesters over overlapping input at once are tested in
tests/pipeline/test_concurrency.py (every post stored exactly once, one incident per problem).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest

from tests.pipeline.conftest import ROOT
from tests.pipeline.test_concurrency import CLUSTERS, row
from tests.reliability.pg import ThrowawayCluster

pytestmark = [pytest.mark.slow]

RESTART_POSTS = 10_000


@pytest.fixture
def cluster():
    cluster = ThrowawayCluster().start()
    yield cluster
    cluster.remove()


def run_manage(cluster: ThrowawayCluster, *args: str, **kwargs) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": cluster.url,
        "DJANGO_SETTINGS_MODULE": "cityincidents.settings",
        "PYTHONPATH": str(ROOT),
        "DJANGO_LOG_LEVEL": "ERROR",
        "INCIDENTS_LOG_LEVEL": "WARNING",
    }
    env.pop("CELERY_BROKER_URL", None)  # the synchronous path: the command itself talks to PostgreSQL
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs,
    )  # fmt: skip


def finish(process: subprocess.Popen, timeout: float = 120) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def test_postgresql_restarted_during_an_ingest_loses_nothing_and_stores_nothing_twice(cluster, tmp_path):
    code, out, err = finish(run_manage(cluster, "migrate", "-v", "0"))
    assert code == 0, err
    posts = tmp_path / "posts.jsonl"
    posts.write_text("".join(json.dumps(row(n)) + "\n" for n in range(RESTART_POSTS)))

    # -v 2: a progress line per batch, so the restart can wait for the ingest to be well under way.
    ingest = run_manage(cluster, "ingest_posts", str(posts), "--batch-size", "100", "-v", "2")
    lines: list[str] = []
    under_way = threading.Event()

    def watch() -> None:
        for line in ingest.stdout:
            lines.append(line)
            if "items read" in line and int(line.split(":")[1].split()[0].replace(",", "")) >= 2000:
                under_way.set()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    assert under_way.wait(60), "the ingest never got going:\n" + "".join(lines[-20:]) + ingest.stderr.read()
    assert ingest.poll() is None, "the ingest finished before the restart: generate more posts"
    cluster.pg_ctl("restart")
    ingest.wait(120)
    watcher.join(10)
    err = ingest.stderr.read()
    stored_before = cluster.query("SELECT count(*) FROM incidents_post")[0][0]
    assert 0 < stored_before < RESTART_POSTS

    # The command either got through (retried) or failed clearly: no traceback, a way out.
    if ingest.returncode != 0:
        assert "Traceback" not in err, err
        assert "the database connection was lost" in err
        assert "re-run the same command" in err
        assert "manage.py process_pending" in err

    # Re-run as told: what was stored counts as duplicates, the rest is stored and processed.
    code, out, err = finish(run_manage(cluster, "ingest_posts", str(posts), "--batch-size", "1000"))
    assert code == 0, err
    assert f"{RESTART_POSTS:,} items" in out
    assert f"{RESTART_POSTS - stored_before:,} created, {stored_before:,} duplicate" in out
    code, out, err = finish(run_manage(cluster, "process_pending"))
    assert code == 0, err

    # Every post exactly once, none missing, none left pending; one incident per problem.
    total, distinct, pending = cluster.query(
        "SELECT count(*), count(DISTINCT (source, external_id)), count(*) FILTER (WHERE state = 'pending') "
        "FROM incidents_post"
    )[0]
    assert (total, distinct, pending) == (RESTART_POSTS, RESTART_POSTS, 0)
    missing = cluster.query(
        f"SELECT count(*) FROM generate_series(0, {RESTART_POSTS - 1}) n "
        "WHERE NOT EXISTS (SELECT 1 FROM incidents_post WHERE external_id = 'p' || n)"
    )[0][0]
    assert missing == 0
    incidents, grouped = cluster.query("SELECT count(*), sum(post_count) FROM incidents_incident")[0]
    assert (incidents, grouped) == (CLUSTERS, RESTART_POSTS)
