"""Faults against real servers: PostgreSQL restarted under an ingest, a Celery worker killed mid-batch.

Two ingesters over overlapping input at once are tested in
tests/pipeline/test_concurrency.py (every post stored exactly once, one incident per problem).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest
from django.db import connection

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


# --- Celery: a worker killed in the middle of a batch --------------------------------------

# A Redis database of its own (the suite's other Celery tests use 0) and a queue per test.
BROKER = "redis://127.0.0.1:6379/11"
KILL_POSTS = 4000
KILL_BATCH = 1000


class Worker:
    """A real ``celery worker`` subprocess (one prefork child) on a queue of its own; its log is kept."""

    def __init__(self, queue: str, env: dict[str, str]):
        self.log: list[str] = []
        self.ready = threading.Event()
        self.received = threading.Event()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "cityincidents", "worker", "-Q", queue, "-n", f"{queue}@%h",
             "--concurrency", "1", "--pool", "prefork", "--without-gossip", "--without-mingle", "-l", "INFO"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            start_new_session=True,  # a process group of its own: the whole worker can be killed at once
        )  # fmt: skip
        threading.Thread(target=self._watch, daemon=True).start()
        if not self.ready.wait(60):
            self.stop()
            pytest.fail("the Celery worker did not start:\n" + "".join(self.log[-30:]))

    def _watch(self) -> None:
        for line in self.process.stderr:
            self.log.append(line)
            if " ready." in line:
                self.ready.set()
            if "incidents.process_posts" in line and "received" in line:
                self.received.set()

    def children(self) -> list[int]:
        path = f"/proc/{self.process.pid}/task/{self.process.pid}/children"
        with open(path) as children:
            return [int(pid) for pid in children.read().split()]

    def text(self) -> str:
        return "".join(self.log)

    def logged(self, words: str, times: int, timeout: float = 15) -> bool:
        """Wait until ``words`` appear ``times`` times in the log (the result may be stored before they are)."""
        deadline = time.monotonic() + timeout
        while self.text().count(words) < times and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.text().count(words) == times

    def kill(self) -> None:
        """SIGKILL the main process and its pool at once, as when the worker's host is lost."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def celery_queue(settings):
    import redis

    from cityincidents.celery import app as celery_app
    from tests.pipeline.conftest import manage_env

    try:
        redis.Redis.from_url(BROKER, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        pytest.fail("Redis does not answer on 127.0.0.1:6379: start it (scripts/test.sh does).")
    queue = f"test-faults-{uuid.uuid4().hex[:10]}"
    # Every broker key under a prefix of this test's own: queues, and also the index of
    # unacknowledged batches and its lock, which other test runs on this Redis would share
    # (a worker scans for lost batches only when it gets that lock).
    env = {**manage_env(), "CELERY_BROKER_URL": BROKER, "CELERY_TASK_DEFAULT_QUEUE": queue,
           "CELERY_BROKER_KEYPREFIX": f"{queue}:"}  # fmt: skip
    keys = ("broker_url", "result_backend", "task_default_queue", "broker_transport_options")
    saved = {key: celery_app.conf[key] for key in keys}
    celery_app.conf.update(
        broker_url=BROKER,
        result_backend=BROKER,
        task_default_queue=queue,
        broker_transport_options={**saved["broker_transport_options"], "global_keyprefix": f"{queue}:"},
    )
    forget_connections(celery_app)
    settings.CELERY_BROKER_URL = BROKER
    yield queue, env
    celery_app.conf.update(saved)
    forget_connections(celery_app)
    client = redis.Redis.from_url(BROKER)
    for key in client.scan_iter(match=f"{queue}:*"):
        client.delete(key)


def forget_connections(app) -> None:
    """Drop the broker connections and result backend the app built for another broker (another test's).

    Celery builds them on first use and keeps them: without this, tasks would still go to the
    Redis database of whichever test sent one first.
    """
    app._pool = None
    if "amqp" in app.__dict__:
        app.__dict__["amqp"]._producer_pool = None
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)


def wait_until_mid_batch(worker: Worker) -> None:
    """Wait until the worker's pool process is inside the batch's transaction (seen by PostgreSQL)."""
    assert worker.received.wait(30), worker.text()
    deadline = time.monotonic() + 30
    while not in_transaction_elsewhere():
        assert time.monotonic() < deadline, "the worker never started the batch:\n" + worker.text()
        time.sleep(0.005)


def assert_processed_once(posts: int) -> None:
    from incidents.models import Incident, Post, PostState

    assert Post.objects.count() == posts
    assert not Post.objects.filter(state=PostState.PENDING).exists()
    assert Incident.objects.count() == CLUSTERS
    assert sum(Incident.objects.values_list("post_count", flat=True)) == posts
    assert sum(Incident.objects.values_list("engagement", flat=True)) == sum(n % 5 for n in range(posts))


def in_transaction_elsewhere() -> bool:
    """Whether another session of the test database (the worker's) is inside a transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend' AND xact_start IS NOT NULL"
        )
        return cursor.fetchone()[0] > 0


def queued(source: str, posts: int):
    """Store ``posts`` rows here; the worker processes them, one task per batch of KILL_BATCH."""
    from incidents.pipeline.ingest import ingest
    from incidents.sources.columns import row_item

    items = [row_item(row(n), position=str(n), source=source) for n in range(posts)]
    return ingest(items, batch_size=KILL_BATCH, synchronous=False)


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_has_its_batch_redelivered_and_nothing_doubles(celery_queue):
    from incidents.pipeline.ingest import wait_for_workers

    queue, env = celery_queue
    worker = Worker(queue, env)
    try:
        report = queued("celery-kill", KILL_POSTS)
        assert (report.created, report.queued) == (KILL_POSTS, KILL_POSTS // KILL_BATCH)

        # Kill the pool process while its transaction is open: really in the middle of the batch.
        wait_until_mid_batch(worker)
        (child,) = worker.children()
        os.kill(child, signal.SIGKILL)

        wait_for_workers(report, timeout=120)  # the redelivered batch is run by the replacement child
        assert worker.logged("succeeded", KILL_POSTS // KILL_BATCH), worker.text()
        log = worker.text()
        assert "WorkerLostError" in log or "signal 9" in log, log
        # Each post processed by exactly one successful run: the killed one left nothing behind.
        assert report.processed.posts == KILL_POSTS
    finally:
        worker.stop()

    assert_processed_once(KILL_POSTS)


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_a_whole_worker_killed_mid_batch_has_its_batch_taken_up_by_the_next_worker(celery_queue):
    """The main process and its pool killed at once (a lost host): the next worker restores the batch."""
    from incidents.pipeline.ingest import wait_for_workers

    queue, env = celery_queue
    first = Worker(queue, env)
    try:
        report = queued("celery-lost", KILL_BATCH)
        assert report.queued == 1
        wait_until_mid_batch(first)
        first.kill()
    finally:
        first.stop()
    assert first.process.returncode == -signal.SIGKILL
    assert "succeeded" not in first.text()

    # The batch is neither acknowledged nor lost: the next worker takes it up once the broker's
    # visibility timeout (CELERY_VISIBILITY_TIMEOUT, an hour by default; 2 s here) has passed,
    # at its next scan for lost batches: kombu scans when a worker starts, then every ~100 s.
    time.sleep(3)
    second = Worker(queue, {**env, "CELERY_VISIBILITY_TIMEOUT": "2"})
    try:
        wait_for_workers(report, timeout=120)
        assert second.logged("succeeded", 1), second.text()
        assert report.processed.posts == KILL_BATCH
    finally:
        second.stop()
    assert_processed_once(KILL_BATCH)
