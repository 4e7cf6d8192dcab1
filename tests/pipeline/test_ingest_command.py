"""manage.py ingest_posts: files, folders and standard input, with progress, counts and clear errors."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from incidents.models import Incident, Post, Repost
from tests.pipeline.conftest import SOURCES

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _store_in_the_test_transaction(settings):
    # The command's second thread has its own connection, which would commit past the test's
    # rollback; the real-process tests (test_concurrency.py) run it with the thread.
    settings.INCIDENTS_INGEST_STORE_AHEAD = False


def run(*args, stdin: str | None = None, **options) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    command_options = {"stdout": out, "stderr": err, **options}
    if stdin is not None:
        from incidents.management.commands.ingest_posts import Command

        command = Command()
        command.stdin = io.StringIO(stdin)
        call_command(command, *args, **command_options)
    else:
        call_command("ingest_posts", *args, **command_options)
    return out.getvalue(), err.getvalue()


def test_a_folder_of_every_format():
    out, err = run(str(SOURCES))
    assert "x_search_response.json (x): 7 items" in out
    assert "mastodon_statuses.json (mastodon): 6 items" in out
    assert "posts_fr.csv (csv): 6 items" in out
    assert "posts.jsonl (jsonl): 7 items" in out
    assert "bluesky_search.json (bluesky): 5 items" in out
    assert "total, 9 files: 43 items" in out
    assert "line 8 [csv-0006]: posted_at: '08/09/2014 18:00' is not a date-time" in err
    assert Post.objects.count() == 19
    assert Repost.objects.count() == 7
    assert Incident.objects.exists()


def test_running_twice_stores_nothing_twice():
    run(str(SOURCES / "x_search_response.json"))
    out, _ = run(str(SOURCES / "x_search_response.json"))
    assert "7 items" in out
    assert "0 created, 5 duplicate, 0 reposts, 2 rejected" in out
    assert Post.objects.filter(source="x").count() == 4


def test_standard_input_with_a_source_name():
    rows = '{"id": "1", "text": "Énorme nid de poule sur la chaussée", "posted_at": "2014-09-08T10:00:00Z"}\n'
    out, _ = run("-", "--source", "Signalements", stdin=rows)
    assert "stdin (jsonl): 1 items" in out
    assert Post.objects.get().source == "signalements"


def test_format_option_forces_the_parser():
    out, _ = run(str(SOURCES / "posts.jsonl"), "--format", "jsonl")
    assert "(jsonl)" in out


def test_unreadable_file_is_a_command_error(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"data": [\n')
    with pytest.raises(CommandError, match=r"broken\.json: invalid JSON"):
        run(str(path))


def test_one_unreadable_file_in_a_folder_does_not_stop_the_others(tmp_path):
    (tmp_path / "a.csv").write_text("nothing,useful\n1,2\n")
    (tmp_path / "b.jsonl").write_text('{"id": "1", "text": "Lampadaire éteint", "posted_at": "2014-09-08T10:00:00Z"}\n')
    with pytest.raises(CommandError, match="1 file could not be read \\(the others were ingested\\)"):
        run(str(tmp_path))
    assert Post.objects.filter(external_id="1").exists()


def test_missing_path_and_bad_source_name():
    with pytest.raises(CommandError, match=r"nowhere/posts\.json: no such file or folder"):
        run("/nowhere/posts.json")
    with pytest.raises(CommandError, match="is not a valid source name"):
        run(str(SOURCES), "--source", "bad name!")


def test_process_pending_takes_up_stored_posts(push, capsys):
    from incidents.pipeline.store import store
    from incidents.sources.record import PostRecord
    from tests.conftest import CAPITOLE, paris

    store([PostRecord("x", "w1", "Chantier bloquant", paris(2014, 9, 8), lon=CAPITOLE.x, lat=CAPITOLE.y)])
    assert Post.objects.get().state == "pending"
    call_command("process_pending")
    assert "1 post processed: 1 located" in capsys.readouterr().out
    assert Post.objects.get().incident is not None


def test_the_pipeline_commands_follow_the_language_setting(push):
    from django.utils import translation

    with translation.override("fr"):
        out, _ = run(str(SOURCES / "posts_fr.csv"))
        assert "éléments en" in out
        assert "messages traités : " in out
        call_command("process_pending", stdout=(pending := io.StringIO()))
        assert pending.getvalue() == "Aucun message en attente.\n"
        call_command("relink_incidents", stdout=(relinked := io.StringIO()))
        assert "messages reliés à nouveau ; " in relinked.getvalue()
        with pytest.raises(CommandError, match="doit valoir 1 ou plus"):
            run(str(SOURCES), "--batch-size", "0")
