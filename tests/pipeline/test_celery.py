"""With CELERY_BROKER_URL set, real Celery workers process the batches and give the same incidents."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid

import pytest
import redis

from bench.city import load_toulouse
from cityincidents.celery import app as celery_app
from incidents.demo import DEMO_POST_FILES, DEMO_POSTS_DIR
from incidents.models import Incident, Post, PostState, Repost
from incidents.pipeline.ingest import ingest, wait_for_workers
from incidents.sources.reader import open_file
from tests.pipeline.conftest import ROOT, manage_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery, pytest.mark.slow]

BROKER = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=[1])
def celery_worker(request, settings):
    """A real worker on a queue of its own (the broker may be shared); ``request.param`` processes.

    One process takes the batches in the order they were sent, as the synchronous path
    does; with more, batches are grouped in the order they finish.
    """
    try:
        redis.Redis.from_url(BROKER, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        pytest.fail("Redis does not answer on 127.0.0.1:6379: start it (scripts/test.sh does).")
    queue = f"test-pipeline-{uuid.uuid4().hex[:10]}"
    env = {**manage_env(), "CELERY_BROKER_URL": BROKER, "CELERY_TASK_DEFAULT_QUEUE": queue}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "cityincidents", "worker", "-Q", queue, "-n", f"{queue}@%h",
         "--concurrency", str(request.param), "--without-gossip", "--without-mingle", "-l", "INFO"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    ready = threading.Event()
    log: list[str] = []

    def watch() -> None:
        for line in worker.stderr:
            log.append(line)
            if " ready." in line:
                ready.set()

    threading.Thread(target=watch, daemon=True).start()
    if not ready.wait(60):
        worker.kill()
        pytest.fail("the Celery worker did not start:\n" + "".join(log[-30:]))

    saved = {key: celery_app.conf[key] for key in ("broker_url", "result_backend", "task_default_queue")}
    celery_app.conf.update(broker_url=BROKER, result_backend=BROKER, task_default_queue=queue)
    settings.CELERY_BROKER_URL = BROKER
    yield queue
    celery_app.conf.update(saved)
    worker.terminate()
    try:
        worker.wait(30)
    except subprocess.TimeoutExpired:
        worker.kill()


def ingest_demo(synchronous: bool | None):
    reports = []
    for name in DEMO_POST_FILES:
        reports.append(ingest(open_file(DEMO_POSTS_DIR / name).items, batch_size=60, synchronous=synchronous))
    return reports


def snapshot():
    """Everything the pipeline decided, independent of database ids."""
    members: dict[int, frozenset] = {}
    for incident_id, source, external_id in Post.objects.exclude(incident=None).values_list(
        "incident_id", "source", "external_id"
    ):
        members[incident_id] = members.get(incident_id, frozenset()) | {(source, external_id)}
    incidents = sorted(
        (
            members[incident.pk],
            incident.category,
            incident.status,
            incident.post_count,
            incident.engagement,
            incident.first_post_at,
            incident.last_post_at,
            incident.location.wkt,
            incident.segment.source_id if incident.segment else None,
            round(incident.segment_distance_m or 0, 3),
            incident.district.code if incident.district else None,
            sorted((link.works_zone.source_id, round(link.distance_m, 3)) for link in incident.works_links.all()),
            incident.priority,
        )
        for incident in Incident.objects.select_related("segment", "district")
    )
    posts = sorted(
        Post.objects.values_list(
            "source",
            "external_id",
            "state",
            "category",
            "location_method",
            "segment__source_id",
            "repost_count",
            "thread_parent__external_id",
        ),
        key=str,
    )
    return incidents, posts


def test_celery_workers_and_the_synchronous_path_give_identical_incidents(celery_worker, settings):
    load_toulouse()
    settings.CELERY_BROKER_URL = None
    ingest_demo(synchronous=None)
    synchronous = snapshot()
    assert len(synchronous[0]) > 100

    Post.objects.all().delete()
    Repost.objects.all().delete()
    Incident.objects.all().delete()

    settings.CELERY_BROKER_URL = BROKER
    started = time.monotonic()
    reports = ingest_demo(synchronous=None)
    assert all(report.queued == report.batches for report in reports)
    for report in reports:
        wait_for_workers(report, timeout=120)
    assert sum(report.processed.posts for report in reports) == Post.objects.count()
    assert not Post.objects.filter(state=PostState.PENDING).exists()
    assert time.monotonic() - started < 120

    celery = snapshot()
    if celery != synchronous:  # say what differs, not just that something does
        only_sync = sorted(set(synchronous[0]) - set(celery[0]), key=str)[:3]
        only_celery = sorted(set(celery[0]) - set(synchronous[0]), key=str)[:3]
        posts = sorted(set(synchronous[1]) ^ set(celery[1]))[:6]
        pytest.fail(f"incidents only in sync: {only_sync}\nonly with celery: {only_celery}\nposts: {posts}")


@pytest.mark.parametrize("celery_worker", [2], indirect=True)
def test_parallel_workers_decide_every_post_the_same_way(celery_worker, settings):
    """Two worker processes: every post is processed once with the same decisions.

    Grouping is serialised but follows the order in which batches reach it: in a chain of
    posts each within reach of the next, the cut between incidents may fall elsewhere, so
    only per-post decisions are compared exactly here.
    """
    load_toulouse()
    settings.CELERY_BROKER_URL = None
    ingest_demo(synchronous=None)
    synchronous_posts = snapshot()[1]
    grouped = Post.objects.exclude(incident=None).count()
    Post.objects.all().delete()
    Repost.objects.all().delete()
    Incident.objects.all().delete()

    settings.CELERY_BROKER_URL = BROKER
    for report in ingest_demo(synchronous=None):
        wait_for_workers(report, timeout=120)
    assert snapshot()[1] == synchronous_posts
    assert Post.objects.exclude(incident=None).count() == grouped
    assert not Post.objects.filter(state=PostState.PENDING).exists()


def test_a_redelivered_batch_changes_nothing(celery_worker, push):
    from incidents.pipeline.tasks import process_posts
    from tests.conftest import CAPITOLE
    from tests.pipeline.conftest import post

    report = push(post("Énorme nid de poule sur la chaussée", CAPITOLE, id="once"))
    post_id = report.results[0].post_id
    before = snapshot()
    # The same task again, as after a worker lost before acknowledging it.
    counts = process_posts.apply_async(([post_id], [])).get(timeout=60)
    assert counts["posts"] == 0
    assert snapshot() == before


def test_a_conversation_in_reverse_order_through_a_worker_ends_as_on_the_synchronous_path(celery_worker, push):
    """Replies first, one batch each, processed by a worker: the same incidents as all at once, in place."""
    from tests.pipeline.test_threads import TestOrder, conversation

    posts = conversation()
    settings_broker = celery_app.conf.broker_url
    assert settings_broker == BROKER
    from django.conf import settings

    settings.CELERY_BROKER_URL = None
    push(*(posts[name] for name in TestOrder.NAMES))
    synchronous = snapshot()
    Post.objects.all().delete()
    Incident.objects.all().delete()

    settings.CELERY_BROKER_URL = BROKER
    from incidents.sources.columns import row_item

    for name in reversed(TestOrder.NAMES):
        report = ingest([row_item(posts[name], position="[0]", source="test")], synchronous=None)
        assert report.queued == 1
        wait_for_workers(report, timeout=60)
    assert snapshot() == synchronous
    assert Post.objects.get(external_id="fixed").location_method == "thread"


def test_a_mastodon_reply_from_another_instance_first_through_a_worker_ends_as_on_the_synchronous_path(
    celery_worker, make_segment
):
    """The reply names its parent only by author: stored first, it joins the report when a worker writes it."""
    from django.conf import settings

    from incidents.sources import mastodon
    from tests.conftest import CAPITOLE, offset
    from tests.pipeline.test_threads import mastodon_cross_instance

    for name, east_m in (("RUE DE METZ", 0), ("RUE D ALSACE LORRAINE", 800), ("RUE DE REMUSAT", 1600)):
        start = offset(CAPITOLE, east_m=east_m)
        make_segment(name, [start.coords, offset(start, east_m=200).coords])
    statuses = mastodon_cross_instance()
    order = ("reply", "later", "report", "older")

    def items(name):
        return list(mastodon.parse_document(statuses[name], position="", source="mastodon"))

    settings.CELERY_BROKER_URL = None
    ingest([item for name in order for item in items(name)], synchronous=True)
    synchronous = snapshot()
    Post.objects.all().delete()
    Incident.objects.all().delete()

    settings.CELERY_BROKER_URL = BROKER
    for name in order:
        report = ingest(items(name), synchronous=None)
        assert report.queued == 1
        wait_for_workers(report, timeout=60)
    assert snapshot() == synchronous
    reply = Post.objects.get(external_id=statuses["reply"]["uri"])
    assert reply.thread_parent.external_id == statuses["report"]["uri"]
