"""Listening to X against a local API v2-like server: recent search with since_id, next_token, expansions."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from incidents.models import Post, Repost
from tests.channels.conftest import add_channel, ago, listen_once, stored

pytestmark = pytest.mark.django_db

SEARCH = "/2/tweets/search/recent"


def test_recent_search_is_stored_once_across_pages_faults_and_runs(x_api):
    x_api.add_tweet("Vieux chantier #travaux", at=ago(days=6))  # before --since: not read
    recent = [
        x_api.add_tweet(f"Tranchée ouverte rue Bayard #travaux {n}", at=ago(days=2) + dt.timedelta(minutes=n))
        for n in range(230)
    ]
    retweet = x_api.add_tweet("", author="bob", retweet_of=recent[-1])
    mention = x_api.add_tweet("@VilleToulouse le feu est cassé place Dupuy")
    x_api.add_tweet("Hors sujet")
    add_channel("x", "--kind", "x", "--base-url", x_api.url, "--hashtag", "travaux", "--mentions",
                "--account", "VilleToulouse", "--token-env", "CITY_X_TOKEN",
                "--since", ago(days=3).isoformat())  # fmt: skip

    output = listen_once()
    assert stored("x") == sorted([*(tweet["id"] for tweet in recent), mention["id"]])
    assert "3 pages, 3 requests" in output
    assert "231 new" in output
    assert "1 reposts" in output
    assert Post.objects.get(external_id=recent[-1]["id"]).repost_count == 1  # the retweet, folded in
    assert Repost.objects.get().external_id == retweet["id"]
    first, second, _third = x_api.requests_to(SEARCH)
    assert first.param("query") == "(#travaux OR @VilleToulouse)"
    assert first.param("start_time")
    assert not first.param("since_id")
    assert "referenced_tweets.id" in first.param("expansions")
    assert "author_id" in first.param("expansions")
    assert second.param("next_token")
    assert first.headers["Authorization"] == "Bearer x-token"

    later = [x_api.add_tweet(f"Chaussée inondée #travaux {n}") for n in range(120)]
    x_api.fail(429, path=SEARCH, headers={"x-rate-limit-reset": str(int(time.time()) + 1)})
    x_api.fail(500, path=SEARCH)
    before = len(x_api.requests_to(SEARCH))
    output = listen_once()
    assert stored("x") == sorted([*(t["id"] for t in recent + later), mention["id"]])
    asked = x_api.requests_to(SEARCH)[before:]
    assert len(asked) == 4  # the 429, the 500, two pages
    assert {request.param("since_id") for request in asked} == {mention["id"]}

    assert "0 new" in listen_once()
    assert Post.objects.filter(source="x").count() == 351


def test_a_channel_s_terms_make_one_query_however_long(x_api):
    queries = [f'"{word}" ' * 30 for word in ("trottoir", "chaussée", "lampadaire")]
    tweet = x_api.add_tweet("Trottoir défoncé #Toulouse")
    add_channel("x", "--kind", "x", "--base-url", x_api.url, "--hashtag", "Toulouse", "--token-env", "CITY_X_TOKEN",
                *(arg for query in queries for arg in ("--query", query.strip())))  # fmt: skip
    listen_once()
    assert stored("x") == [tweet["id"]]
    (asked,) = x_api.requests_to(SEARCH)
    assert len(asked.param("query")) > 1000
    assert asked.param("query").startswith('(#Toulouse OR ("trottoir" "trottoir" ')
