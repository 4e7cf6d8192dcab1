"""Listening to Mastodon against a local Mastodon-like server: paging, cursors, faults, duplicates."""

from __future__ import annotations

import datetime as dt

import pytest

from incidents.models import Channel, ChannelCursor, ChannelPost, Post
from tests.channels.conftest import add_channel, ago, listen_once, stored
from tests.conftest import CAPITOLE, offset

pytestmark = pytest.mark.django_db

TAG_PATH = "/api/v1/timelines/tag/"


def test_hashtag_timeline_is_stored_once_across_pages_faults_and_runs(mastodon):
    for minutes in range(5):  # before --since: not read
        mastodon.add_status(f"Ancien chantier {minutes}", tags=("travaux",), at=ago(days=10, minutes=minutes))
    recent = [
        mastodon.add_status(
            f"Trottoir bloqué rue de Metz {n}", tags=("Travaux",), at=ago(days=3) + dt.timedelta(minutes=n)
        )
        for n in range(90)
    ]
    mastodon.add_status("Sans le mot-dièse", tags=("autre",))
    add_channel("toulouse", "--kind", "mastodon", "--base-url", mastodon.url, "--hashtag", "#travaux",
                "--since", ago(days=4).isoformat())  # fmt: skip

    output = listen_once()
    assert stored("mastodon") == sorted(status["uri"] for status in recent)
    assert "3 pages, 3 requests" in output
    assert "90 new" in output

    # Statuses that appear later are stored by the next poll, a 429 and a 500 only delay it.
    later = [mastodon.add_status(f"Nid de poule {n}", tags=("travaux",)) for n in range(50)]
    mastodon.fail(429, path=TAG_PATH, headers={"Retry-After": "0.05"})
    mastodon.fail(500, path=TAG_PATH)
    before = len(mastodon.requests_to(TAG_PATH))
    output = listen_once()
    assert stored("mastodon") == sorted(status["uri"] for status in recent + later)
    assert "50 new, 0 already stored" in output
    # Forward from the mark with min_id: two pages, plus the 429 and the 500 tried again.
    asked = mastodon.requests_to(TAG_PATH)[before:]
    assert len(asked) == 4
    assert all(request.param("min_id") for request in asked)

    output = listen_once()
    assert "0 new" in output
    assert Post.objects.filter(source="mastodon").count() == 140
    channel = Channel.objects.get(name="toulouse")
    assert channel.failures == 0
    assert channel.last_success_at is not None
    assert all(
        request.headers["User-Agent"] == "cityincidents/0.1 (+https://incidents.example.org/)"
        for request in mastodon.log
    )


def test_a_malformed_status_is_rejected_and_reported_the_rest_of_its_page_stored(mastodon):
    good = [mastodon.add_status(f"Lampadaire éteint {n}", tags=("voirie",)) for n in range(3)]
    broken = mastodon.add_status("Date illisible", tags=("voirie",), created_at="demain")
    good.append(mastodon.add_status("Encore un", tags=("voirie",)))
    add_channel("toulouse", "--kind", "mastodon", "--base-url", mastodon.url, "--hashtag", "voirie")

    output = listen_once()
    assert stored("mastodon") == sorted(status["uri"] for status in good)
    assert "4 new" in output
    assert "1 rejected" in output
    assert f"rejected tag:voirie [1] [{broken['uri']}]: created_at: 'demain' is not a date-time" in output
    channel = Channel.objects.get(name="toulouse")
    assert broken["uri"] in channel.last_rejection
    assert "demain" in channel.last_rejection
    assert channel.last_error == ""  # a rejected item is no failure of the channel


def test_malformed_json_and_timeouts_are_tried_again(mastodon, settings):
    statuses = [mastodon.add_status(f"Feu tricolore en panne {n}", tags=("voirie",)) for n in range(3)]
    add_channel("toulouse", "--kind", "mastodon", "--base-url", mastodon.url, "--hashtag", "voirie")
    settings.INCIDENTS_LISTEN_TIMEOUT_S = 0.2
    mastodon.fail("malformed", path=TAG_PATH)
    mastodon.fail("timeout", path=TAG_PATH, delay=0.5)

    listen_once()
    assert stored("mastodon") == sorted(status["uri"] for status in statuses)
    assert len(mastodon.requests_to(TAG_PATH)) == 3


def test_a_poll_that_keeps_failing_loses_nothing_and_the_next_one_goes_on(mastodon, settings):
    settings.INCIDENTS_LISTEN_RETRIES = 1
    first = [mastodon.add_status(f"Chaussée déformée {n}", tags=("voirie",)) for n in range(45)]
    add_channel("toulouse", "--kind", "mastodon", "--base-url", mastodon.url, "--hashtag", "voirie")
    # The first page is served, the second fails twice (the retry too).
    mastodon.on_served = lambda request: (
        mastodon.fail(500, path=TAG_PATH, times=2) if not request.param("max_id") else None
    )
    with pytest.raises(Exception, match="1 channel\\(s\\) failed"):
        listen_once()
    mastodon.on_served = None
    assert len(stored("mastodon")) == 40
    channel = Channel.objects.get(name="toulouse")
    assert channel.failures == 1
    assert "server error 500" in channel.last_error
    assert channel.next_poll_at > channel.last_poll_at
    assert ChannelCursor.objects.get(channel=channel).state["walk"]["next"] == first[5]["id"]

    listen_once()
    assert stored("mastodon") == sorted(status["uri"] for status in first)


def test_a_status_deleted_between_pages_stops_nothing(mastodon):
    statuses = [mastodon.add_status(f"Poubelle renversée {n}", tags=("proprete",)) for n in range(100)]
    deleted = statuses[30]  # on the second page (newest first)
    add_channel("toulouse", "--kind", "mastodon", "--base-url", mastodon.url, "--hashtag", "proprete")
    mastodon.on_served = lambda request: mastodon.delete(deleted["id"])

    listen_once()
    assert stored("mastodon") == sorted(status["uri"] for status in statuses if status is not deleted)

    # The same later on, reading forward: the status the mark points at is gone.
    mastodon.on_served = None
    later = [mastodon.add_status(f"Dépôt sauvage {n}", tags=("proprete",)) for n in range(50)]
    mastodon.delete(statuses[-1]["id"])
    mastodon.on_served = lambda request: mastodon.delete(later[45]["id"])
    listen_once()
    expected = [s for s in statuses + later if s not in (deleted, later[45])]
    assert stored("mastodon") == sorted(status["uri"] for status in expected)


def test_a_status_seen_on_two_pages_two_hashtags_and_two_instances_is_one_post(mastodon):
    from tests.channels.fakes import FakeMastodon

    with FakeMastodon(domain="other.test", token="mastodon-token") as other:
        shared = mastodon.add_status("Arbre tombé #voirie #travaux", tags=("voirie", "travaux"))
        # The same status as another instance knows it: another local id, the same URI.
        other.add_status("Arbre tombé #voirie #travaux", tags=("voirie",), uri=shared["uri"])
        mine = [mastodon.add_status(f"Plaque d'égout {n}", tags=("voirie",)) for n in range(3)]
        add_channel("local", "--kind", "mastodon", "--base-url", mastodon.url, "--hashtag", "voirie",
                    "--hashtag", "travaux")  # fmt: skip
        add_channel("remote", "--kind", "mastodon", "--base-url", other.url, "--hashtag", "voirie")

        output = listen_once()
        assert "local: 2 pages, 2 requests" in output
        assert stored("mastodon") == sorted([shared["uri"], *(status["uri"] for status in mine)])
        post = Post.objects.get(external_id=shared["uri"])
        seen = dict(ChannelPost.objects.filter(post=post).values_list("channel__name", "remote_id"))
        other_id = next(iter(other.statuses))
        assert seen == {"local": shared["id"], "remote": str(other_id)}


def test_mentions_need_the_token_named_by_the_channel(mastodon, monkeypatch):
    mention = mastodon.add_status("@ville le passage piéton est effacé", mention=True)
    mastodon.add_status("Sans mention")
    add_channel("city", "--kind", "mastodon", "--base-url", mastodon.url, "--mentions",
                "--token-env", "CITY_MASTODON_TOKEN")  # fmt: skip
    monkeypatch.delenv("CITY_MASTODON_TOKEN")
    with pytest.raises(Exception, match="the environment variable CITY_MASTODON_TOKEN is not set"):
        listen_once()
    assert not mastodon.requests_to("/api/v1/notifications")
    channel = Channel.objects.get(name="city")
    assert "CITY_MASTODON_TOKEN is not set" in channel.last_error

    monkeypatch.setenv("CITY_MASTODON_TOKEN", "mastodon-token")
    listen_once()
    assert stored("mastodon") == [mention["uri"]]
    asked = mastodon.requests_to("/api/v1/notifications")[0]
    assert asked.headers["Authorization"] == "Bearer mastodon-token"
    assert asked.query["types[]"] == ["mention"]


def test_a_long_rate_limit_defers_the_channel_until_its_reset(mastodon, settings):
    import time

    from incidents.channels.listen import tick

    statuses = [mastodon.add_status(f"Bouche d'égout {n}", tags=("voirie",)) for n in range(2)]
    add_channel("toulouse", "--kind", "mastodon", "--base-url", mastodon.url, "--hashtag", "voirie")
    reset = int(time.time()) + 600
    mastodon.fail(
        429, path=TAG_PATH, headers={"X-RateLimit-Reset": dt.datetime.fromtimestamp(reset, dt.UTC).isoformat()}
    )

    report = tick()
    assert "rate limited until" in report.polls[0].error
    channel = Channel.objects.get(name="toulouse")
    assert channel.next_poll_at == dt.datetime.fromtimestamp(reset, dt.UTC)
    assert len(mastodon.requests_to(TAG_PATH)) == 1  # no retry before the reset
    assert tick().polls == []  # not due until then
    Channel.objects.update(next_poll_at=None)
    tick()
    assert stored("mastodon") == sorted(status["uri"] for status in statuses)


def test_after_a_restart_a_caught_up_channel_costs_one_request_per_stream(mastodon):
    from incidents.channels.clients import forget_clients

    for n in range(60):
        mastodon.add_status(f"Travaux {n}", tags=("travaux", "voirie"))
    add_channel("toulouse", "--kind", "mastodon", "--base-url", mastodon.url, "--hashtag", "travaux",
                "--hashtag", "voirie")  # fmt: skip
    listen_once()
    forget_clients()  # a new process: only the cursors in the database are left
    before = len(mastodon.log)
    output = listen_once()
    assert len(mastodon.log) - before == 2
    assert "2 pages, 2 requests" in output
    assert "0 new" in output


class TestConversations:
    """A reply names its parent by the instance's id: the parent is found, or read, and the reply joins it."""

    REPORT = "Énorme nid de poule rue de Metz, attention en vélo"

    @pytest.fixture(autouse=True)
    def street(self, make_segment):
        make_segment("RUE DE METZ", [CAPITOLE.coords, offset(CAPITOLE, east_m=200).coords])

    def reply_to(self, mastodon, parent: dict) -> dict:
        """Bob's follow-up to ``parent``, mentioning the city (the mentions stream reads it)."""
        account = parent["account"]["id"]
        text = "toujours pas réparé ce matin"
        return mastodon.add_status(text, author="bob", mention=True, in_reply_to_id=parent["id"],
                                   in_reply_to_account_id=account)  # fmt: skip

    @staticmethod
    def follow_mentions(mastodon, *extra: str) -> None:
        """The city's channel "toulouse": the mentions of its account (and ``extra`` options)."""
        add_channel("toulouse", "--kind", "mastodon", "--base-url", mastodon.url, "--mentions",
                    "--token-env", "CITY_MASTODON_TOKEN", *extra)  # fmt: skip

    def test_a_parent_never_read_is_read_from_the_instance_and_the_reply_joins_it(self, mastodon):
        # The report has no followed hashtag: only the reply, which mentions the city, is in a stream.
        report = mastodon.add_status(self.REPORT, author="alice")
        reply = self.reply_to(mastodon, report)
        self.follow_mentions(mastodon)

        listen_once()
        parent, answer = Post.objects.get(external_id=report["uri"]), Post.objects.get(external_id=reply["uri"])
        assert answer.reply_to == report["uri"]
        assert answer.thread_parent == parent
        assert answer.incident == parent.incident is not None
        assert len(mastodon.requests_to(f"/api/v1/statuses/{report['id']}", "GET")) == 1
        assert ChannelPost.objects.filter(post=parent, remote_id=report["id"]).exists()

    def test_a_parent_read_before_is_found_without_a_request(self, mastodon):
        report = mastodon.add_status(self.REPORT, author="alice", tags=("voirie",))
        self.follow_mentions(mastodon, "--hashtag", "voirie")
        listen_once()
        # Stored under its URI by another instance's id space would not match: the channel's own id does.
        Post.objects.filter(external_id=report["uri"]).update(local_id="1")
        reply = self.reply_to(mastodon, report)

        listen_once("--channel", "toulouse")
        answer = Post.objects.get(external_id=reply["uri"])
        assert answer.incident == Post.objects.get(external_id=report["uri"]).incident is not None
        assert mastodon.requests_to(f"/api/v1/statuses/{report['id']}", "GET") == []

    def test_a_parent_that_cannot_be_read_leaves_the_reply_waiting(self, mastodon):
        report = mastodon.add_status(self.REPORT, author="alice", visibility="private")
        reply = self.reply_to(mastodon, report)
        self.follow_mentions(mastodon)

        output = listen_once()
        assert "1 new" in output
        answer = Post.objects.get(external_id=reply["uri"])
        assert (answer.state, answer.reply_to, answer.incident) == ("unlocated", "", None)
        assert Channel.objects.get(name="toulouse").last_error == ""

    def test_no_parent_is_read_when_the_setting_says_so(self, mastodon, settings):
        settings.INCIDENTS_LISTEN_MAX_PARENTS = 0
        report = mastodon.add_status(self.REPORT, author="alice")
        reply = self.reply_to(mastodon, report)
        self.follow_mentions(mastodon)
        listen_once()
        assert stored("mastodon") == [reply["uri"]]

    def test_a_failing_instance_stops_the_parents_not_the_batch(self, mastodon, settings):
        settings.INCIDENTS_LISTEN_RETRIES = 0
        reports = [mastodon.add_status(f"{self.REPORT} {n}", author="alice") for n in range(2)]
        replies = [self.reply_to(mastodon, report) for report in reports]
        self.follow_mentions(mastodon)
        mastodon.fail(500, path="/api/v1/statuses/", method="GET", times=5)

        listen_once()
        assert stored("mastodon") == sorted(reply["uri"] for reply in replies)
        # One request, then no more: the second parent is not asked for.
        assert len(mastodon.requests_to("/api/v1/statuses/", "GET")) == 1
        assert Channel.objects.get(name="toulouse").last_error == ""
