"""With CELERY_BROKER_URL set, Celery beat polls the channels through a worker: the same service as listen."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

import pytest
import redis
from django.conf import settings
from django.core.management import call_command

from cityincidents.celery import app
from incidents.models import ChannelCursor, Post
from tests.pipeline.conftest import ROOT, manage_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery, pytest.mark.slow]

BROKER = "redis://127.0.0.1:6379/0"


def test_the_beat_schedule_names_the_listener_s_tick():
    app.loader.import_default_modules()
    (entry,) = settings.CELERY_BEAT_SCHEDULE.values()
    assert entry["task"] == "incidents.listen_tick"
    assert entry["task"] in app.tasks
    assert entry["schedule"] == settings.INCIDENTS_LISTEN_TICK_S


def test_beat_and_a_worker_store_what_the_channel_publishes(mastodon, tmp_path):
    try:
        redis.Redis.from_url(BROKER, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        pytest.fail("Redis does not answer on 127.0.0.1:6379: start it (scripts/test.sh does).")
    statuses = [mastodon.add_status(f"Regard d'égout descellé {n}", tags=("voirie",)) for n in range(5)]
    call_command("channels", "add", "toulouse", "--kind", "mastodon", "--base-url", mastodon.url, "--hashtag", "voirie")
    name = f"test-beat-{uuid.uuid4().hex[:10]}"
    env = {
        **manage_env(), "CELERY_BROKER_URL": BROKER, "CELERY_TASK_DEFAULT_QUEUE": name,
        "CELERY_BROKER_KEYPREFIX": f"{name}:", "INCIDENTS_LISTEN_TICK_S": "0.5",
    }  # fmt: skip
    celery = [sys.executable, "-m", "celery", "-A", "cityincidents"]
    processes = [
        subprocess.Popen([*celery, "worker", "-Q", name, "-n", f"{name}@%h", "--concurrency", "1", "--without-gossip",
                          "--without-mingle", "-l", "WARNING"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL),
        subprocess.Popen([*celery, "beat", "-s", str(tmp_path / "schedule"), "-l", "WARNING"], cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while Post.objects.count() < len(statuses) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        client = redis.Redis.from_url(BROKER)
        for key in client.scan_iter(match=f"{name}:*"):
            client.delete(key)
    assert sorted(Post.objects.values_list("external_id", flat=True)) == sorted(s["uri"] for s in statuses)
    assert ChannelCursor.objects.get(stream="tag:voirie").state["mark"] == statuses[-1]["id"]
