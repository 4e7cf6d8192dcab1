"""Listening to Bluesky against a local AppView/PDS-like server: searches with cursors, sessions, mentions."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from incidents.models import Channel, ChannelCursor, Post
from tests.channels.conftest import add_channel, ago, listen_once, stored
from tests.conftest import CAPITOLE, offset

pytestmark = pytest.mark.django_db

SEARCH = "/xrpc/app.bsky.feed.searchPosts"


def test_search_is_stored_once_across_cursors_faults_and_runs(bluesky):
    for minutes in range(3):  # before --since: not read
        bluesky.add_post(f"Vieux chantier {minutes}", tags=("travaux",), at=ago(days=9, minutes=minutes))
    recent = [
        bluesky.add_post(f"Barrières sur le trottoir allées Jean-Jaurès {n}", tags=("travaux",),
                         at=ago(days=2) + dt.timedelta(minutes=n))
        for n in range(150)
    ]  # fmt: skip
    bluesky.add_post("Rien à voir", tags=("chats",))
    add_channel("bsky", "--kind", "bluesky", "--base-url", bluesky.url, "--hashtag", "travaux",
                "--since", ago(days=3).isoformat())  # fmt: skip

    output = listen_once()
    assert stored("bluesky") == sorted(post["uri"] for post in recent)
    assert "2 pages, 2 requests" in output
    asked = bluesky.requests_to(SEARCH)
    assert [r.param("q") for r in asked] == ["#travaux", "#travaux"]
    assert asked[0].param("sort") == "latest"
    assert not asked[0].param("cursor")
    assert asked[1].param("cursor")
    mark = ChannelCursor.objects.get(stream="tag:travaux").state["mark"]
    assert dt.datetime.fromisoformat(mark) == dt.datetime.fromisoformat(recent[-1]["record"]["createdAt"])

    later = [bluesky.add_post(f"Nid de poule {n}", tags=("travaux",)) for n in range(30)]
    bluesky.fail(429, path=SEARCH, headers={"ratelimit-reset": f"{time.time() + 0.1:.3f}", "ratelimit-remaining": "0"})
    bluesky.fail(500, path=SEARCH)
    before = len(bluesky.requests_to(SEARCH))
    output = listen_once()
    assert stored("bluesky") == sorted(post["uri"] for post in recent + later)
    # The posts of the minute before the mark are read again (the overlap): each is one post all the same.
    assert "30 new, 2 already stored" in output
    assert len(bluesky.requests_to(SEARCH)) - before == 3  # the 429, the 500, the page
    # Only what is new (a minute of overlap) is asked for.
    assert bluesky.requests_to(SEARCH)[-1].param("since") < mark

    assert "0 new" in listen_once()
    assert Post.objects.filter(source="bluesky").count() == 180


def test_mentions_log_in_once_and_renew_an_expired_session(bluesky):
    first = bluesky.add_post("Le feu piéton de la place Wilson est en panne", mention=True)
    bluesky.add_post("Pas une mention")
    add_channel("city", "--kind", "bluesky", "--base-url", bluesky.url, "--mentions", "--account", "ville.test",
                "--token-env", "CITY_BLUESKY_PASSWORD")  # fmt: skip
    listen_once()
    assert stored("bluesky") == [first["uri"]]
    (login,) = bluesky.requests_to("createSession")
    assert login.body == {"identifier": "ville.test", "password": "app-password"}
    asked = bluesky.requests_to("listNotifications")[0]
    assert asked.query["reasons"] == ["mention", "reply", "quote"]

    second = bluesky.add_post("Et le passage piéton est effacé", mention=True)
    bluesky.expire_sessions()
    listen_once()
    assert stored("bluesky") == sorted([first["uri"], second["uri"]])
    assert len(bluesky.requests_to("createSession")) == 1  # the session is kept by the process ...
    assert len(bluesky.requests_to("refreshSession")) == 1  # ... and renewed when it expired


def test_a_wrong_app_password_is_reported_with_the_network_s_reason(bluesky, monkeypatch):
    bluesky.add_post("Lampadaire", mention=True)
    add_channel("city", "--kind", "bluesky", "--base-url", bluesky.url, "--mentions", "--account", "ville.test",
                "--token-env", "CITY_BLUESKY_PASSWORD")  # fmt: skip
    monkeypatch.setenv("CITY_BLUESKY_PASSWORD", "wrong")
    with pytest.raises(Exception, match="refused \\(401 AuthenticationRequired: Invalid identifier or password\\)"):
        listen_once()
    assert "Invalid identifier or password" in Channel.objects.get(name="city").last_error
    assert not Post.objects.exists()


def test_a_reply_s_parent_no_stream_read_is_read_and_the_reply_joins_it(bluesky, make_segment):
    make_segment("RUE DE METZ", [CAPITOLE.coords, offset(CAPITOLE, east_m=200).coords])
    report = bluesky.add_post("Énorme nid de poule rue de Metz, attention en vélo")  # no mention, no hashtag
    parent = {"uri": report["uri"], "cid": report["cid"]}
    reply = bluesky.add_post("toujours pas réparé ce matin", author="bob", mention=True,
                             record={"reply": {"root": parent, "parent": parent}})  # fmt: skip
    add_channel("city", "--kind", "bluesky", "--base-url", bluesky.url, "--mentions", "--account", "ville.test",
                "--token-env", "CITY_BLUESKY_PASSWORD")  # fmt: skip

    listen_once()
    stored_report = Post.objects.get(external_id=report["uri"])
    stored_reply = Post.objects.get(external_id=reply["uri"])
    assert stored_reply.thread_parent == stored_report
    assert stored_reply.incident == stored_report.incident is not None
    (asked,) = bluesky.requests_to("getPosts")
    assert asked.query["uris"] == [report["uri"]]

    # Read again (the mark's overlap): the parent is stored now, nothing is asked for.
    listen_once()
    assert len(bluesky.requests_to("getPosts")) == 1
