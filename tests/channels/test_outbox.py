"""Replies written in triage are delivered on the network the post came from, once, through the outbox."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from incidents.channels.outbox import deliver_due
from incidents.models import Channel, IncidentReply, Post, ReplyState
from incidents.services.replies import send_reply
from tests.channels.conftest import add_channel, listen_once

pytestmark = pytest.mark.django_db

REPLY = "Merci, une équipe passe demain matin."


def reported(make_incident, source: str):
    """An incident holding the posts the channels stored."""
    incident = make_incident()
    Post.objects.filter(source=source).update(incident=incident)
    return incident


def test_mastodon_reply_from_triage_is_posted_once_even_when_the_answer_times_out(
    mastodon, staff_client, make_incident, settings
):
    status = mastodon.add_status("Trottoir bloqué rue de Metz", tags=("voirie",), author="marie")
    add_channel("city", "--kind", "mastodon", "--base-url", mastodon.url, "--hashtag", "voirie",
                "--token-env", "CITY_MASTODON_TOKEN")  # fmt: skip
    listen_once()
    incident = reported(make_incident, "mastodon")
    settings.INCIDENTS_LISTEN_TIMEOUT_S = 0.3
    mastodon.fail("store_then_timeout", path="/api/v1/statuses", method="POST", delay=0.8)

    staff_client.post(reverse("web:triage-reply", args=[incident.pk]), {"text": REPLY})
    reply = IncidentReply.objects.get()
    (published,) = mastodon.posted()  # stored once, although the first answer never came
    first, again = mastodon.requests_to("/api/v1/statuses", "POST")
    assert first.headers["Idempotency-Key"] == again.headers["Idempotency-Key"] == str(reply.delivery_key)
    assert first.body["in_reply_to_id"] == status["id"]
    assert first.body["status"] == f"@marie {REPLY}"
    assert reply.state == ReplyState.SENT
    assert reply.external_id == published["id"]
    assert reply.url == published["url"]
    assert reply.channel.name == "city"
    assert reply.backend == "incidents.channels.mastodon.MastodonClient"

    page = staff_client.get(reverse("web:triage-incident", args=[incident.pk])).content.decode()
    assert f'href="{published["url"]}"' in page
    assert "Sent" in page


def test_bluesky_reply_is_looked_up_before_it_is_sent_again(bluesky, make_incident, settings, staff_client):
    post = bluesky.add_post("Le passage piéton de la rue Alsace est effacé", mention=True, author="marie")
    add_channel("city", "--kind", "bluesky", "--base-url", bluesky.url, "--mentions", "--account", "ville.test",
                "--token-env", "CITY_BLUESKY_PASSWORD")  # fmt: skip
    listen_once()
    incident = reported(make_incident, "bluesky")
    settings.INCIDENTS_LISTEN_TIMEOUT_S = 0.3
    bluesky.fail("store_then_timeout", path="createRecord", delay=0.8)

    reply = send_reply(incident, REPLY, language="fr")
    assert reply.state == ReplyState.QUEUED  # stored by the network, but nobody heard back
    assert reply.attempts == 1
    assert "no answer within" in reply.error
    (created,) = bluesky.requests_to("createRecord")
    record = created.body["record"]
    assert record["reply"] == {"root": {"uri": post["uri"], "cid": post["cid"]},
                               "parent": {"uri": post["uri"], "cid": post["cid"]}}  # fmt: skip
    assert record["text"] == REPLY
    assert record["langs"] == ["fr"]
    assert created.body["repo"] == "did:plc:ville"
    assert len(created.body["rkey"]) == 13
    page = staff_client.get(reverse("web:triage-incident", args=[incident.pk])).content.decode()
    assert "Queued for the network" in page
    assert "1 attempt, next at" in page

    (delivered,) = deliver_due()
    assert delivered.state == ReplyState.SENT
    assert len(bluesky.records) == 1  # one reply on the network
    assert len(bluesky.requests_to("createRecord")) == 1  # found by its key, not sent again
    assert delivered.external_id == f"at://did:plc:ville/app.bsky.feed.post/{created.body['rkey']}"
    assert delivered.url == f"https://bsky.app/profile/ville.test/post/{created.body['rkey']}"
    page = staff_client.get(reverse("web:triage-incident", args=[incident.pk])).content.decode()
    assert f'href="{delivered.url}"' in page


def test_x_reply_is_looked_up_before_it_is_sent_again(x_api, make_incident, settings, staff_client):
    tweet = x_api.add_tweet("Le trottoir de la rue Bayard est encombré #voirie")
    add_channel("x", "--kind", "x", "--base-url", x_api.url, "--hashtag", "voirie", "--account", "VilleToulouse",
                "--token-env", "CITY_X_TOKEN")  # fmt: skip
    listen_once()
    incident = reported(make_incident, "x")
    settings.INCIDENTS_LISTEN_TIMEOUT_S = 0.3
    x_api.fail("store_then_timeout", path="/2/tweets", method="POST", delay=0.8)

    reply = send_reply(incident, REPLY, language="fr")
    assert reply.state == ReplyState.QUEUED
    (posted,) = x_api.requests_to("/2/tweets", "POST")
    assert posted.body == {"text": REPLY, "reply": {"in_reply_to_tweet_id": tweet["id"]}}

    (delivered,) = deliver_due()
    assert delivered.state == ReplyState.SENT
    (published,) = x_api.posted()
    assert delivered.external_id == published["id"]
    assert delivered.url == f"https://x.com/VilleToulouse/status/{published['id']}"
    assert len(x_api.requests_to("/2/tweets", "POST")) == 1
    page = staff_client.get(reverse("web:triage-incident", args=[incident.pk])).content.decode()
    assert f'href="{delivered.url}"' in page
    lookup = x_api.requests_to("/2/tweets/search/recent")[-1]
    assert lookup.param("query") == f"from:VilleToulouse in_reply_to_tweet_id:{tweet['id']}"


def test_x_duplicate_content_refusal_means_already_sent(x_api, make_incident):
    x_api.add_tweet("Feu en panne #voirie")
    add_channel("x", "--kind", "x", "--base-url", x_api.url, "--hashtag", "voirie", "--account", "VilleToulouse",
                "--token-env", "CITY_X_TOKEN")  # fmt: skip
    listen_once()
    incident = reported(make_incident, "x")
    first = send_reply(incident, REPLY, language="fr")
    # A second reply with the same text: X refuses duplicate content; the lookup finds the first one.
    second = send_reply(incident, REPLY, language="fr")
    assert first.state == second.state == ReplyState.SENT
    assert second.external_id == first.external_id
    assert len(x_api.posted()) == 1


def test_a_refusal_fails_at_once_and_a_network_down_too_long_fails_in_the_end(mastodon, make_incident, settings):
    mastodon.add_status("Lampadaire éteint", tags=("voirie",))
    add_channel("city", "--kind", "mastodon", "--base-url", mastodon.url, "--hashtag", "voirie",
                "--token-env", "CITY_MASTODON_TOKEN")  # fmt: skip
    listen_once()
    incident = reported(make_incident, "mastodon")
    mastodon.tokens.clear()  # the token was revoked
    refused = send_reply(incident, REPLY, language="fr")
    assert refused.state == ReplyState.FAILED
    assert "refused (401 The access token is invalid)" in refused.error

    mastodon.tokens.add("mastodon-token")
    settings.INCIDENTS_LISTEN_RETRIES = 0
    mastodon.fail(500, path="/api/v1/statuses", times=10)
    waiting = send_reply(incident, "Encore merci", language="fr")
    assert waiting.state == ReplyState.QUEUED
    assert "server error 500" in waiting.error
    settings.INCIDENTS_REPLY_RETRY_FOR_S = 0
    (given_up,) = deliver_due()
    assert given_up.state == ReplyState.FAILED
    assert given_up.error.startswith("gave up after 2 attempts: POST")
    assert mastodon.posted() == []


def test_replies_to_posts_from_files_stay_recorded_and_long_replies_are_refused(mastodon, make_incident, make_post):
    incident = make_incident()
    make_post(incident=incident, source="mastodon", external_id="https://mastodon.test/users/a/statuses/1")
    reply = send_reply(incident, REPLY, language="fr")
    assert reply.state == ReplyState.RECORDED  # no channel saw the post: nothing is sent
    assert reply.channel is None
    assert reply.backend == "incidents.services.replies.RecordOnlyBackend"

    mastodon.add_status("Trottoir bloqué", tags=("voirie",), author="marie")
    add_channel("city", "--kind", "mastodon", "--base-url", mastodon.url, "--hashtag", "voirie",
                "--token-env", "CITY_MASTODON_TOKEN")  # fmt: skip
    listen_once()
    Post.objects.filter(source="mastodon").update(incident=incident)
    with pytest.raises(ValidationError, match="A reply on Mastodon has at most 500 characters; this one has 507"):
        send_reply(incident, "x" * 500, language="fr")


def test_a_channel_without_token_answers_through_another_channel_of_its_network(mastodon, make_incident):
    from tests.channels.fakes import FakeMastodon

    with FakeMastodon(domain="city.test", token="mastodon-token") as home:
        seen = mastodon.add_status("Arbre tombé", tags=("voirie",), author="marie")
        home.add_status("Arbre tombé", tags=("voirie",), author="marie", uri=seen["uri"])
        add_channel("public", "--kind", "mastodon", "--base-url", mastodon.url, "--hashtag", "voirie")
        add_channel("city", "--kind", "mastodon", "--base-url", home.url, "--mentions",
                    "--token-env", "CITY_MASTODON_TOKEN")  # fmt: skip
        listen_once()
        incident = reported(make_incident, "mastodon")
        reply = send_reply(incident, REPLY, language="fr")
        assert reply.state == ReplyState.SENT
        assert reply.channel == Channel.objects.get(name="city")
        assert mastodon.posted() == []
        (published,) = home.posted()
        local_id = next(status_id for status_id, s in home.statuses.items() if s["uri"] == seen["uri"])
        assert published["in_reply_to_id"] == str(local_id)  # resolved by a search on the city's instance
        assert home.requests_to("/api/v2/search")[0].param("resolve") == "true"
