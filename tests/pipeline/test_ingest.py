"""Ingest stores every post exactly once, counts reposts for their original, and loses nothing."""

from __future__ import annotations

import pytest

from incidents.models import Post, PostState, Repost
from incidents.pipeline.ingest import Status, ingest
from incidents.sources.parsing import ParsedItem
from incidents.sources.record import PostRecord
from tests.conftest import CAPITOLE, offset, paris
from tests.pipeline.conftest import post

pytestmark = pytest.mark.django_db

POTHOLE = "Énorme nid de poule sur la chaussée"


def statuses(report):
    return [result.status for result in report.results]


class TestExactlyOnce:
    def test_the_same_post_in_two_batches_is_stored_once(self, push):
        first = push(post(POTHOLE, CAPITOLE, id="42"))
        again = push(post(POTHOLE, CAPITOLE, id="42"))
        assert statuses(first) == [Status.CREATED]
        assert statuses(again) == [Status.DUPLICATE]
        assert again.results[0].post_id == first.results[0].post_id
        assert Post.objects.filter(external_id="42").count() == 1

    def test_the_same_post_twice_in_one_batch(self, push):
        report = push(post(POTHOLE, id="7"), post(POTHOLE, id="7", like_count=5))
        assert statuses(report) == [Status.CREATED, Status.DUPLICATE]
        assert report.results[1].post_id == report.results[0].post_id
        assert Post.objects.get(external_id="7").like_count == 5

    def test_same_id_on_two_sources_is_two_posts(self, push):
        push(post(POTHOLE, id="1"), source="x")
        push(post(POTHOLE, id="1"), source="mastodon")
        assert Post.objects.filter(external_id="1").count() == 2

    def test_a_duplicate_raises_engagement_counts_but_never_lowers_them(self, push):
        push(post(POTHOLE, id="9", like_count=3, reply_count=4))
        push(post(POTHOLE, id="9", like_count=10, reply_count=1))
        stored = Post.objects.get(external_id="9")
        assert (stored.like_count, stored.reply_count) == (10, 4)

    def test_batches_are_cut_and_counted(self, push):
        report = push(*(post(POTHOLE, offset(CAPITOLE, east_m=500 * n)) for n in range(7)), batch_size=3)
        assert report.batches == 3
        assert report.created == 7
        assert report.processed.posts == 7


class TestNothingIsLost:
    def test_off_topic_and_unlocated_posts_are_stored_with_their_state(self, push):
        push(
            post("Bon anniversaire maman, gros bisous", CAPITOLE, id="off"),
            post(POTHOLE, id="nowhere"),
            post(POTHOLE, CAPITOLE, id="here"),
        )
        states = dict(Post.objects.values_list("external_id", "state"))
        assert states == {"off": PostState.IRRELEVANT, "nowhere": PostState.UNLOCATED, "here": PostState.LOCATED}
        nowhere = Post.objects.get(external_id="nowhere")
        assert nowhere.category == "road_surface_pothole"
        assert nowhere.location is None
        assert nowhere.location_method == "none"

    def test_rejected_items_say_why_and_the_others_are_stored(self, push):
        report = push(post(POTHOLE, id="ok"), {"id": "bad", "text": "x", "posted_at": "hier"}, {"text": "no id"})
        assert statuses(report) == [Status.CREATED, Status.REJECTED, Status.REJECTED]
        assert report.results[1].reason.startswith("posted_at: 'hier' is not a date-time")
        assert report.results[2].reason == "id is missing or empty"
        assert Post.objects.count() == 1

    def test_a_record_the_database_refuses_is_rejected_alone(self):
        good = PostRecord("test", "good", POTHOLE, paris(2014, 9, 8))
        too_long = PostRecord("test", "x" * 300, POTHOLE, paris(2014, 9, 8))
        report = ingest(
            [ParsedItem("[0]", good, external_id="good"), ParsedItem("[1]", too_long, external_id="long")],
            synchronous=True,
            keep_results=True,
        )
        assert statuses(report) == [Status.CREATED, Status.REJECTED]
        assert report.results[1].reason.startswith("the database refused it:")
        assert Post.objects.filter(external_id="good").exists()

    def test_stored_posts_keep_what_the_platform_said_about_place(self, push):
        push(
            post(
                POTHOLE, CAPITOLE, id="gps", place_name="Capitole", place_type="poi", place_bbox="1.44,43.60,1.45,43.61"
            )
        )
        stored = Post.objects.get(external_id="gps")
        assert stored.gps_location.coords == pytest.approx(CAPITOLE.coords)
        assert stored.place_bbox.extent == pytest.approx((1.44, 43.60, 1.45, 43.61))
        assert stored.place_type == "poi"


class TestReposts:
    def test_a_repost_is_not_a_post_and_adds_to_the_original(self, push):
        push(post(POTHOLE, CAPITOLE, id="orig", repost_count=0))
        report = push(post("", id="rt1", repost_of="orig"), post("", id="rt2", repost_of="orig"))
        assert statuses(report) == [Status.REPOST, Status.REPOST]
        assert not Post.objects.filter(external_id__in=["rt1", "rt2"]).exists()
        original = Post.objects.get(external_id="orig")
        assert original.repost_count == 2
        assert original.incident.engagement == 2

    def test_the_same_repost_twice_counts_once(self, push):
        push(post(POTHOLE, CAPITOLE, id="orig"))
        push(post("", id="rt1", repost_of="orig"))
        report = push(post("", id="rt1", repost_of="orig"))
        assert statuses(report) == [Status.DUPLICATE]
        assert Post.objects.get(external_id="orig").repost_count == 1
        assert Repost.objects.count() == 1

    def test_reposts_arriving_before_their_original_are_kept_and_counted(self, push):
        push(post("", id="rt1", repost_of="late"), post("", id="rt2", repost_of="late"))
        assert Repost.objects.of("test", "late").count() == 2
        push(post(POTHOLE, CAPITOLE, id="late", repost_count=1))
        original = Post.objects.get(external_id="late")
        assert original.repost_count == 2  # what was seen beats the platform's older count
        assert original.incident.engagement == 2

    def test_the_platform_count_wins_when_it_is_higher(self, push):
        push(post("", id="rt1", repost_of="famous"))
        push(post(POTHOLE, CAPITOLE, id="famous", repost_count=40))
        assert Post.objects.get(external_id="famous").repost_count == 40

    def test_a_retweet_carrying_its_original_stores_both(self):
        original = PostRecord("x", "1", POTHOLE, paris(2014, 9, 8, 9), lon=CAPITOLE.x, lat=CAPITOLE.y, repost_count=3)
        retweet = PostRecord("x", "2", "RT: " + POTHOLE, paris(2014, 9, 8, 10), repost_of="1")
        report = ingest([ParsedItem("data[0]", retweet, embedded=(original,))], synchronous=True, keep_results=True)
        assert statuses(report) == [Status.REPOST]
        assert report.carried == 1
        assert Post.objects.get(source="x", external_id="1").repost_count == 3
        assert Repost.objects.get(source="x", external_id="2").original_external_id == "1"

    def test_a_fresher_count_updates_the_incident(self, push):
        push(post(POTHOLE, CAPITOLE, id="p", like_count=1))
        push(post(POTHOLE, CAPITOLE, id="p", like_count=30))
        assert Post.objects.get(external_id="p").incident.engagement == 30

    def test_bluesky_reposts_in_a_feed_fold_into_their_original(self):
        from incidents.sources.reader import open_file
        from tests.pipeline.conftest import SOURCES

        report = ingest(open_file(SOURCES / "bluesky_feed.json").items, synchronous=True, keep_results=True)
        assert statuses(report) == [Status.REPOST, Status.REPOST, Status.CREATED]
        quote = Post.objects.get(external_id="at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3leaq4gz7nk2x")
        assert quote.source == "bluesky"
        assert quote.repost_count == 2  # two reposts seen beat the view's older count of 1
        assert Repost.objects.of("bluesky", quote.external_id).count() == 2
        again = ingest(open_file(SOURCES / "bluesky_feed.json").items, synchronous=True, keep_results=True)
        assert statuses(again) == [Status.DUPLICATE] * 3
        quote.refresh_from_db()
        assert quote.repost_count == 2
