"""manage.py channels and listen: thin, translated, and bad input says how to fix it."""

from __future__ import annotations

import datetime as dt
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from incidents.models import Channel, IncidentReply, ReplyState
from tests.channels.conftest import add_channel, listen_once

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def test_add_stores_the_channel_and_never_its_secret(monkeypatch):
    monkeypatch.delenv("CITY_MASTODON_TOKEN")
    output = run("channels", "add", "toulouse", "--kind", "mastodon", "--base-url", "https://mastodon.social/",
                 "--hashtag", "#Travaux", "--hashtag", "voirie", "--query", "rue de Metz", "--mentions",
                 "--token-env", "CITY_MASTODON_TOKEN", "--interval", "120", "--since", "2026-12-01")  # fmt: skip
    assert "Channel toulouse added: #Travaux, #voirie, “rue de Metz”, mentions, every 2 min" in output
    assert "Note: CITY_MASTODON_TOKEN is not set here" in output
    channel = Channel.objects.get()
    assert channel.base_url == "https://mastodon.social"
    assert channel.hashtags == ["Travaux", "voirie"]
    assert channel.interval_s == 120
    assert timezone.localtime(channel.since).isoformat() == "2026-12-01T00:00:00+01:00"
    assert channel.token_env == "CITY_MASTODON_TOKEN"
    default = add_channel("other", "--kind", "mastodon", "--base-url", "https://piaille.fr", "--hashtag", "a")
    assert abs(default.since - (timezone.now() - dt.timedelta(days=7))) < dt.timedelta(minutes=1)
    assert default.interval_s == 60


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "x", "--hashtag", "a"], "X needs a token: name the environment variable that holds it."),
        (["--kind", "mastodon"], "Give at least one hashtag or search, or read the mentions."),
        (["--kind", "mastodon", "--mentions"], "Reading mentions needs the account's token"),
        (["--kind", "bluesky", "--mentions", "--token-env", "PW"], "Bluesky logs in with an account"),
        (["--kind", "x", "--mentions", "--token-env", "T"], "X finds mentions by searching @account"),
        (["--kind", "mastodon", "--hashtag", "a", "--token-env", "MY-TOKEN"], "--token-env: An environment variable"),
        (["--kind", "mastodon", "--hashtag", "two words"], "--hashtag: Item 1 in the array did not validate"),
        (["--kind", "mastodon", "--hashtag", "a", "--since", "last week"], "--since 'last week' is not a date"),
        (["--kind", "mastodon", "--hashtag", "a", "--interval", "0"], "The interval is at least one second."),
    ],
)
def test_add_refuses_what_cannot_work_and_says_how_to_fix_it(args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("channels", "add", "bad", "--base-url", "https://example.org", *args)
    assert not Channel.objects.exists()


def test_a_name_is_taken_once_and_unknown_names_are_named():
    add_channel("toulouse", "--kind", "mastodon", "--base-url", "https://example.org", "--hashtag", "a")
    with pytest.raises(CommandError, match=re.escape("NAME: Channel with this Name already exists.")):
        call_command(
            "channels", "add", "toulouse", "--kind", "mastodon", "--base-url", "https://e.org", "--hashtag", "a"
        )
    for action in ("enable", "disable", "remove"):
        with pytest.raises(
            CommandError, match=re.escape("No channel is named nope; `manage.py channels list` shows them.")
        ):
            call_command("channels", action, "nope")
    with pytest.raises(CommandError, match="No channel is named nope"):
        call_command("listen", "--once", "--channel", "nope")


def test_enable_disable_remove_and_listen_on_what_is_left(make_incident):
    channel = add_channel("toulouse", "--kind", "mastodon", "--base-url", "https://example.org", "--hashtag", "a")
    assert "Channel toulouse disabled" in run("channels", "disable", "toulouse")
    with pytest.raises(
        CommandError, match=re.escape("Channel toulouse is disabled: `manage.py channels enable toulouse` first.")
    ):
        call_command("listen", "--once", "--channel", "toulouse")
    with pytest.raises(CommandError, match=re.escape("No channel is enabled: add one with `manage.py channels add")):
        call_command("listen", "--once")
    assert "Channel toulouse enabled" in run("channels", "enable", "toulouse")
    queued = IncidentReply.objects.create(
        incident=make_incident(), text="Merci", language="fr", backend="b", channel=channel,
        state=ReplyState.QUEUED, next_attempt_at=timezone.now(),
    )  # fmt: skip
    assert "1 queued replies marked failed" in run("channels", "remove", "toulouse")
    queued.refresh_from_db()
    assert queued.state == ReplyState.FAILED
    assert queued.error == "its channel was removed before it was sent"
    assert not Channel.objects.exists()


def test_list_shows_health_and_flags_a_channel_failing_too_long(mastodon, settings):
    mastodon.add_status("Lampadaire", tags=("voirie",))
    add_channel("ok", "--kind", "mastodon", "--base-url", mastodon.url, "--hashtag", "voirie")
    add_channel("down", "--kind", "mastodon", "--base-url", "http://127.0.0.1:9", "--hashtag", "voirie")
    settings.INCIDENTS_LISTEN_RETRIES = 0
    with pytest.raises(
        CommandError, match=re.escape("down: GET http://127.0.0.1:9/api/v1/timelines/tag/voirie: connection failed")
    ):
        listen_once()
    Channel.objects.filter(name="down").update(created_at=timezone.now() - dt.timedelta(hours=2))
    output = run("channels", "list")
    assert "ok (Mastodon, enabled)" in output
    assert "posts in the last hour 1, day 1" in output
    assert "down (Mastodon, enabled) http://127.0.0.1:9: #voirie, every 1 min" in output
    assert "last error: GET http://127.0.0.1:9/api/v1/timelines/tag/voirie: connection failed" in output
    assert "FAILING: no successful poll for 2 h 00" in output
    assert output.count("FAILING") == 1


def test_command_output_is_translated():
    with translation.override("fr"):
        output = run("channels", "add", "toulouse", "--kind", "mastodon", "--base-url", "https://e.org",
                     "--hashtag", "voirie", "--interval", "30")  # fmt: skip
        assert "Canal toulouse ajouté : #voirie, toutes les 30 s" in output
        with pytest.raises(CommandError, match="Aucun canal ne s’appelle nope"):
            call_command("channels", "remove", "nope")
        with pytest.raises(CommandError, match="Donnez au moins un mot-dièse ou une recherche"):
            call_command("channels", "add", "bad", "--kind", "mastodon", "--base-url", "https://e.org")
