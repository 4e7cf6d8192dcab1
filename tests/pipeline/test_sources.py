"""Every input format parses realistic payloads into records, and reports bad items one by one."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest

from incidents.inputs import InputError
from incidents.sources.htmltext import html_to_text
from incidents.sources.reader import input_files, open_file, open_stdin
from tests.pipeline.conftest import SOURCES


def parsed(name: str, **options):
    source_input = open_file(SOURCES / name, **options)
    return source_input.format, list(source_input.items)


def by_id(items):
    return {item.record.external_id: item for item in items if item.ok}


def posts_of(name: str, format: str) -> dict:
    """The parsed posts of fixture ``name`` by external id, its format detected as ``format``."""
    detected, items = parsed(name)
    assert detected == format
    return by_id(items)


def rejections(items):
    return {item.position: item.error for item in items if not item.ok}


class TestXResponses:
    def test_a_search_response_with_its_expansions(self):
        posts = posts_of("x_search_response.json", "x")
        founding = posts["508567120145330176"].record
        assert founding.source == "x"
        assert founding.text.startswith("Barrière de chantier posée en plein sur le seul passage piéton")
        assert ">:(" in founding.text  # X's HTML entities decoded
        assert (founding.lon, founding.lat) == (1.440093, 43.613391)
        assert founding.posted_at == dt.datetime(2014, 9, 7, 6, 42, 11, tzinfo=dt.UTC)
        assert founding.author_handle == "marie_tls31"
        assert founding.author_id == "2251908374"
        assert founding.url == "https://x.com/marie_tls31/status/508567120145330176"
        assert founding.media_urls == ["https://pbs.twimg.com/media/BxBwQ7mCIAAhPhL.jpg"]
        assert (founding.like_count, founding.repost_count, founding.reply_count, founding.quote_count) == (
            22,
            14,
            3,
            1,
        )
        assert founding.place_type == "city"
        assert founding.raw["data"]["id"] == "508567120145330176"
        assert founding.raw["includes"]["users"][0]["username"] == "marie_tls31"

    def test_references_become_repost_quote_and_reply_links(self):
        _, items = parsed("x_search_response.json")
        posts = by_id(items)
        assert posts["508571873104441344"].record.repost_of == "508567120145330176"
        assert posts["508580240812126209"].record.quote_of == "508567120145330176"
        assert posts["508593771204079616"].record.reply_to == "508567120145330176"

    def test_place_bounding_box_from_place_id(self):
        _, items = parsed("x_search_response.json")
        quote = by_id(items)["508580240812126209"].record
        assert quote.lon is None
        assert quote.place_name == "École Jean Jaurès"
        assert quote.place_type == "poi"
        assert quote.place_bbox == (1.43957, 43.61312, 1.44031, 43.61368)

    def test_bad_tweets_are_rejected_one_by_one(self):
        _, items = parsed("x_search_response.json")
        errors = rejections(items)
        assert errors["data[4]"].startswith("created_at: 'le 8 septembre' is not a date-time")
        assert errors["data[6]"] == "id is missing or empty"
        assert len(by_id(items)) == 5

    def test_stream_lines_with_a_broken_line_and_an_empty_page(self):
        format, items = parsed("x_stream.jsonl")
        assert format == "x"
        errors = rejections(items)
        assert errors["line 3"].startswith("invalid JSON")
        assert errors["line 7"] == "lat 143.6 is outside -90..90 (are lon and lat swapped?)"
        long_tweet = by_id(items)["508701998877665544"].record
        assert long_tweet.text.endswith("with two kids & a scooter. Not great, Toulouse.")  # note_tweet wins
        assert long_tweet.language == "en"
        assert by_id(items)["508703555566667777"].record.repost_of == "508700112233445566"

    def test_a_retweet_carries_its_original_from_includes(self):
        retweet = {
            "data": [
                {
                    "id": "2",
                    "text": "RT @a: Chantier rue de Metz",
                    "created_at": "2014-09-09T08:00:00.000Z",
                    "referenced_tweets": [{"type": "retweeted", "id": "1"}],
                }
            ],
            "includes": {
                "tweets": [
                    {
                        "id": "1",
                        "text": "Chantier rue de Metz",
                        "created_at": "2014-09-09T07:00:00.000Z",
                        "public_metrics": {"retweet_count": 7},
                    }
                ]
            },
        }
        source_input = open_stdin(stdin=io.StringIO(_json(retweet)))
        (item,) = list(source_input.items)
        assert item.record.repost_of == "1"
        assert [original.external_id for original in item.embedded] == ["1"]
        assert item.embedded[0].repost_count == 7


class TestMastodon:
    def test_statuses_html_to_text_and_counts(self):
        status = posts_of("mastodon_statuses.json", "mastodon")[
            "https://piaille.fr/users/cyclotls/statuses/112934817263544321"
        ].record
        assert status.text == (
            "Rue Cujas fermée pour les travaux ERDF, et la barrière déborde sur le trottoir : impossible de "
            "passer avec un fauteuil.\n\nIl faut descendre sur la chaussée 😡 #Toulouse #accessibilité"
        )
        assert (status.like_count, status.repost_count, status.reply_count) == (11, 5, 2)
        assert status.author_handle == "cyclotls"
        assert status.url == "https://piaille.fr/@cyclotls/112934817263544321"
        assert status.media_urls[0].endswith("5c1a3b0e9d7f2a41.jpg")
        assert status.language == "fr"

    def test_a_boost_is_a_repost_carrying_the_boosted_status(self):
        _, items = parsed("mastodon_statuses.json")
        boost = by_id(items)["https://mastodon.social/users/lucie_b/statuses/112934900011122233/activity"]
        assert boost.record.repost_of == "https://piaille.fr/users/cyclotls/statuses/112934817263544321"
        (original,) = boost.embedded
        assert original.external_id == boost.record.repost_of
        assert original.repost_count == 6  # the boost carries fresher counts

    def test_content_warning_first_scripts_dropped_entities_decoded(self):
        _, items = parsed("mastodon_statuses.json")
        status = by_id(items)["https://toot.aquilenet.fr/users/pieton31/statuses/112935100000000002"].record
        assert status.text == (
            "Travaux / coup de gueule\n\nRue d'Alsace-Lorraine : trottoir encombré de barrières & de gravats\n"
            "depuis lundi. Pensez aux piétons !"
        )
        assert "alert" not in status.text

    def test_media_only_status_keeps_the_description(self):
        _, items = parsed("mastodon_statuses.json")
        status = by_id(items)["https://piaille.fr/users/photos_tls/statuses/112935200000000003"].record
        assert status.text == "Tags sur le mur de l'école, rue de la Balance"

    def test_direct_messages_and_bad_dates_are_rejected(self):
        _, items = parsed("mastodon_statuses.json")
        errors = rejections(items)
        assert errors["[2]"] == "not public (visibility=direct): only public posts are ingested"
        assert errors["[5]"].startswith("created_at: 'not a date'")

    def test_a_mention_notification_carries_its_status(self):
        from incidents.sources import mastodon

        status = json.loads((SOURCES / "mastodon_statuses.json").read_text())[0]
        page = [
            {"id": "51", "type": "mention", "created_at": status["created_at"], "account": status["account"],
             "status": status},
            {"id": "50", "type": "favourite", "created_at": status["created_at"], "account": status["account"],
             "status": status},
        ]  # fmt: skip
        items = [
            item
            for n, entry in enumerate(page)
            for item in mastodon.parse_document(entry, position=f"[{n}]", source="mastodon")
        ]
        assert [(item.position, item.record.external_id) for item in items] == [("[0] status", status["uri"])]


BLUESKY_ALICE = "at://did:plc:q6gjnaw2blty4crticxkmujt/app.bsky.feed.post/3ldxk2pq5sc2s"
BLUESKY_REPLY = "at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3ldxm7u2ajk2b"
BLUESKY_QUOTE = "at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3leaq4gz7nk2x"


class TestBluesky:
    def test_post_views_of_a_search_with_facets_images_and_counts(self):
        post = posts_of("bluesky_search.json", "bluesky")[BLUESKY_ALICE].record
        assert post.source == "bluesky"
        # The link's shortened text is replaced by its URI; a hashtag given only in the record's tags is added.
        assert post.text == (
            "Trottoir défoncé rue d'Alsace-Lorraine, poussette impossible 😡 #Toulouse signalé ici : "
            "https://toulouse.fr/signaler-un-probleme?id=4821 @toulouse.fr #voirie"
        )
        assert post.posted_at == dt.datetime(2026, 12, 5, 8, 41, 12, 345000, tzinfo=dt.UTC)
        assert post.author_handle == "cyclo-tls.bsky.social"
        assert post.author_id == "did:plc:q6gjnaw2blty4crticxkmujt"
        assert post.url == "https://bsky.app/profile/cyclo-tls.bsky.social/post/3ldxk2pq5sc2s"
        assert post.language == "fr"
        assert post.media_urls == [
            "https://cdn.bsky.app/img/feed_fullsize/plain/did:plc:q6gjnaw2blty4crticxkmujt/"
            "bafkreihtzmrw5ll7xrhwzdybj2zf7crqbhwa3y6v4ix4hx7rozsylsqz7e@jpeg"
        ]
        assert (post.like_count, post.repost_count, post.reply_count, post.quote_count) == (17, 4, 1, 1)
        assert post.raw["cid"].startswith("bafyrei")

    def test_reply_refs_quotes_and_images_without_a_view(self):
        _, items = parsed("bluesky_search.json")
        posts = by_id(items)
        reply = posts[BLUESKY_REPLY].record
        assert reply.reply_to == BLUESKY_ALICE
        # The parent's URI names its author: another account, not a self-reply.
        assert reply.reply_to_author == "did:plc:q6gjnaw2blty4crticxkmujt"
        assert reply.reply_to_author != reply.author_id
        quote = posts[BLUESKY_QUOTE]
        assert quote.record.quote_of == BLUESKY_ALICE
        (quoted,) = quote.embedded  # the quoted post, from the view, is stored too
        assert quoted.external_id == BLUESKY_ALICE
        assert quoted.media_urls[0].endswith("@jpeg")
        only_image = posts["at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3leb2jd5w2c2t"].record
        assert only_image.text == "Lampadaire éteint rue des Lois"  # the description is the text
        assert only_image.media_urls == [
            "https://cdn.bsky.app/img/feed_fullsize/plain/did:plc:z72i7hdynmk6r22z27h6tvur/bafkreiabc4lampadaire@jpeg"
        ]

    def test_a_bad_post_is_rejected_with_its_position(self):
        _, items = parsed("bluesky_search.json")
        assert rejections(items) == {"posts[4]": "record.createdAt: 'hier soir' is not a date-time; use ISO 8601, "
                                     "e.g. 2014-09-08T09:30:00+02:00"}  # fmt: skip

    def test_reposts_in_a_feed_are_engagement_of_their_original(self):
        _, items = parsed("bluesky_feed.json")
        first, second, reply = items
        assert first.record.repost_of == second.record.repost_of == BLUESKY_QUOTE
        assert first.record.external_id == f"{BLUESKY_QUOTE}#repost-by-did:plc:k3a4r5e6p7o8s9t0e1u2r3ab"
        assert second.record.external_id == "at://did:plc:m9n8b7v6c5x4z3a2s1d0f9gh/app.bsky.feed.repost/3lebx7k2pfs2c"
        assert second.record.author_handle == "marie.bsky.social"
        assert [original.external_id for original in first.embedded] == [BLUESKY_QUOTE]
        assert reply.record.reply_to == BLUESKY_ALICE

    def test_notifications_mentions_are_posts_likes_are_not(self):
        _, items = parsed("bluesky_notifications.json")
        mention, repost = items
        assert mention.position == "notifications[0]"
        assert mention.record.external_id == BLUESKY_ALICE
        assert mention.record.text.startswith("Trottoir défoncé rue d'Alsace-Lorraine")
        assert repost.record.repost_of == "at://did:plc:ville5toulouse4example0/app.bsky.feed.post/3lec0reply"

    def test_a_thread_gives_its_posts_and_skips_those_not_found(self):
        _, items = parsed("bluesky_thread.json")
        assert [(item.position, item.record.external_id) for item in items] == [
            ("thread", BLUESKY_REPLY),
            ("thread parent", BLUESKY_ALICE),
        ]


class TestFlatColumns:
    def test_french_spreadsheet_csv(self):
        posts = posts_of("posts_fr.csv", "csv")
        first = posts["csv-0001"].record
        assert first.source == "csv"
        assert first.text == "Trottoir défoncé devant le 24 allées Jean-Jaurès; une dame a failli tomber"
        assert (first.lon, first.lat) == (1.450231, 43.606712)  # decimal commas
        assert first.posted_at.isoformat() == "2014-09-08T10:15:00+02:00"  # naive = the city's time zone
        assert first.media_urls == ["https://example.org/m/1.jpg", "https://example.org/m/2.jpg"]
        assert (first.like_count, first.repost_count) == (4, 1)  # "likes", "retweets" aliases
        assert posts["csv-0005"].record.text == "Inondation du passage souterrain\naprès l'orage, route de Narbonne"

    def test_csv_errors_name_the_line_and_the_field(self):
        _, items = parsed("posts_fr.csv")
        assert rejections(items) == {
            "line 4": "coordinates: give both lon and lat, or neither",
            "line 5": "text is missing or empty",
            "line 8": "posted_at: '08/09/2014 18:00' is not a date-time; use ISO 8601, e.g. 2014-09-08T09:30:00+02:00",
        }

    def test_json_lines(self):
        format, items = parsed("posts.jsonl")
        assert format == "jsonl"
        posts = by_id(items)
        assert posts["api-1"].record.language == "en"
        assert posts["api-2"].record.posted_at == dt.datetime(2014, 9, 10, 10, 0, tzinfo=dt.UTC)  # epoch seconds
        assert posts["api-2"].record.place_bbox == (1.4552, 43.6101, 1.4601, 43.6123)
        assert posts["api-3"].record.repost_of == "api-1"
        assert posts["api-5"].record.text == "Deux posts sur une ligne, premier"
        errors = rejections(items)
        assert errors["line 4"].startswith("coordinates 0,0 are not a real position")
        assert errors["line 5 [1]"] == "like_count: -3 is not a count (a whole number, 0 or more)"
        assert errors["line 6"] == "expected an object with the post columns, got str"

    def test_source_column_and_source_option(self):
        rows = '{"id": "1", "text": "a", "posted_at": "2014-09-08T10:00:00Z", "source": "Open311"}\n'
        rows += '{"id": "2", "text": "b", "posted_at": "2014-09-08T10:00:00Z"}\n'
        items = list(open_stdin(stdin=io.StringIO(rows), source="citizens").items)
        assert [item.record.source for item in items] == ["open311", "citizens"]

    def test_unstorable_characters_are_removed(self):
        rows = '{"id": "n1", "text": "nul\\u0000 here \\ud83d alone", "posted_at": "2014-09-08T10:00:00Z"}\n'
        (item,) = list(open_stdin(stdin=io.StringIO(rows)).items)
        assert item.record.text == "nul here  alone"

    def test_future_dates_are_rejected(self):
        rows = '{"id": "f1", "text": "a", "posted_at": "2999-01-01T00:00:00Z"}\n'
        (item,) = list(open_stdin(stdin=io.StringIO(rows)).items)
        assert item.error == "posted_at: 2999-01-01T00:00:00+00:00 is in the future"


class TestWholeFileErrors:
    def test_csv_without_required_columns(self, tmp_path):
        path = tmp_path / "export.csv"
        path.write_text("identifiant,message\n1,Nid de poule\n")
        with pytest.raises(InputError, match="lacks the column\\(s\\) id, posted_at; it has: identifiant, message"):
            parsed_any(path)

    def test_not_json_at_all(self, tmp_path):
        path = tmp_path / "posts.json"
        path.write_text("{ this is not json\n}\n")
        with pytest.raises(InputError, match="invalid JSON: Expecting property name"):
            parsed_any(path)

    def test_windows_1252_file_says_how_to_fix_it(self, tmp_path):
        path = tmp_path / "export.csv"
        path.write_bytes("id,text,posted_at\n1,Trottoir défoncé,2014-09-08T10:00:00Z\n".encode("cp1252"))
        with pytest.raises(InputError, match="pass --encoding cp1252"):
            parsed_any(path)
        source_input = open_file(path, encoding="cp1252")
        assert next(source_input.items).record.text == "Trottoir défoncé"

    def test_wrong_format_given(self):
        with pytest.raises(InputError, match="--format x was given, but the first document looks like mastodon"):
            parsed("mastodon_statuses.json", format="x")

    def test_folder_lists_input_files_in_order_and_skips_hidden_ones(self, tmp_path):
        (tmp_path / "b.csv").write_text("id,text,posted_at\n")
        (tmp_path / "a").mkdir()
        (tmp_path / "a" / "z.jsonl").write_text("")
        (tmp_path / ".hidden.json").write_text("{}")
        (tmp_path / "notes.txt").write_text("")
        assert [p.relative_to(tmp_path).as_posix() for p in input_files(str(tmp_path))] == ["a/z.jsonl", "b.csv"]

    def test_empty_folder(self, tmp_path):
        with pytest.raises(InputError, match="holds no"):
            input_files(str(tmp_path))


def parsed_any(path):
    return list(open_file(path).items)


def _json(value) -> str:
    import json

    return json.dumps(value)


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Un</p><p>Deux</p>", "Un\n\nDeux"),
        ("ligne<br>suivante<br/>fin", "ligne\nsuivante\nfin"),
        ("&lt;script&gt; reste du texte", "<script> reste du texte"),
        ("<style>p{}</style><p>visible</p>", "visible"),
        ('<a href="https://x"><span class="invisible">https://</span>ex.org/a</a>', "https://ex.org/a"),
        ("sans balise", "sans balise"),
    ],
)
def test_html_to_text(html, text):
    assert html_to_text(html) == text
