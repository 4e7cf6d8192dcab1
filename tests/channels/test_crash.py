"""A listener killed mid-poll loses nothing and stores nothing twice: the cursor moves only after the store."""

from __future__ import annotations

import signal
import time

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from incidents.models import Channel, ChannelCursor, ChannelPost, Post
from tests.pipeline.conftest import manage, manage_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def wait_for_blocked(statement: str, process, timeout: float = 60.0) -> None:
    """Wait until another session waits for a lock in a statement that begins with ``statement``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # else a transaction sees one snapshot of the activity
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND ltrim(query, E' \\n') LIKE %s",
                [f"{statement}%"],
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.05)
    process.kill()
    pytest.fail(f"no session blocked on {statement!r}: {process.communicate()}")


def wait_for_session_end(timeout: float = 30.0) -> None:
    """Wait until the killed listener's session is gone (PostgreSQL notices a dead client when it next writes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if not cursor.fetchone()[0]:
                return
        time.sleep(0.05)
    pytest.fail("the killed listener's session is still there")


def listener():
    return manage("listen", "--once", env={**manage_env(), "INCIDENTS_LISTEN_BACKOFF_S": "0.001"})


def statuses(mastodon, count: int) -> list[dict]:
    return [mastodon.add_status(f"Trottoir encombré {n}", tags=("voirie",)) for n in range(count)]


def test_killed_between_fetching_and_storing_the_next_poll_reads_the_page_again(mastodon):
    published = statuses(mastodon, 45)
    call_command("channels", "add", "toulouse", "--kind", "mastodon", "--base-url", mastodon.url, "--hashtag", "voirie")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {Post._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")  # no insert gets through
        process = listener()
        wait_for_blocked(f"INSERT INTO {Post._meta.db_table}", process)  # the pages are fetched, their store waits
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    wait_for_session_end()
    assert len(mastodon.requests_to("/api/v1/timelines/tag/voirie")) == 2
    assert not Post.objects.exists()
    assert ChannelCursor.objects.get(stream="tag:voirie").state == {}

    call_command("listen", "--once")
    assert len(mastodon.requests_to("/api/v1/timelines/tag/voirie")) == 4  # both pages, read again
    assert sorted(Post.objects.values_list("external_id", flat=True)) == sorted(s["uri"] for s in published)


def test_killed_between_storing_and_moving_the_cursor_nothing_is_stored_twice(mastodon):
    published = statuses(mastodon, 45)
    call_command("channels", "add", "toulouse", "--kind", "mastodon", "--base-url", mastodon.url, "--hashtag", "voirie")
    cursor_row = ChannelCursor.objects.create(channel=Channel.objects.get(), stream="tag:voirie")
    with transaction.atomic():
        ChannelCursor.objects.select_for_update().get(pk=cursor_row.pk)  # the cursor cannot move
        process = listener()
        wait_for_blocked(f'UPDATE "{ChannelCursor._meta.db_table}"', process)
        assert Post.objects.count() == 45  # the pages are stored (and committed) ...
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    wait_for_session_end()
    cursor_row.refresh_from_db()
    assert cursor_row.state == {}  # ... but the cursor did not move past it
    assert not ChannelPost.objects.exists()  # what the channel saw is written with the cursor

    from io import StringIO

    out = StringIO()
    call_command("listen", "--once", stdout=out)
    assert "0 new, 45 already stored" in out.getvalue()
    assert Post.objects.count() == 45
    assert sorted(Post.objects.values_list("external_id", flat=True)) == sorted(s["uri"] for s in published)
    assert ChannelPost.objects.count() == 45


def test_the_foreground_listener_polls_until_sigterm_then_stops_cleanly(mastodon):
    first = statuses(mastodon, 3)
    call_command("channels", "add", "toulouse", "--kind", "mastodon", "--base-url", mastodon.url, "--hashtag", "voirie",
                 "--interval", "1")  # fmt: skip
    process = manage("listen", env={**manage_env(), "INCIDENTS_LISTEN_TICK_S": "0.2"})
    try:
        deadline = time.monotonic() + 60
        while Post.objects.count() < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        later = mastodon.add_status("Bouche d'incendie qui fuit", tags=("voirie",))
        while Post.objects.count() < 4 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert out.splitlines()[-1] == "Stopped."
    assert sorted(Post.objects.values_list("external_id", flat=True)) == sorted(s["uri"] for s in [*first, later])
