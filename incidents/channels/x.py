"""
X (Twitter): recent search in; replies out (API v2, bearer token).

- One stream per channel: its hashtags, searches and mentions (``@account``) joined with
  ``OR`` into one ``GET /2/tweets/search/recent`` query, because X counts every request
  (and every post read) against the account's plan. The expansions are those the X format
  reads (authors, places, media, referenced tweets).
- Paging walks down with ``next_token`` from the newest tweet to the mark, given as
  ``since_id``; a first poll asks ``start_time`` = the channel's ``since`` (recent search
  reaches seven days back at most).
- Replies: ``POST /2/tweets`` with ``reply.in_reply_to_tweet_id`` (a user-context token
  with ``tweet.write``). X takes no idempotency key; it refuses a post with the same text
  as a recent one of the same account ("duplicate content"). Before sending again after
  an uncertain attempt, the outbox searches the account's replies to that tweet
  (``from:ACCOUNT in_reply_to_tweet_id:ID``) for the same text; a duplicate-content
  refusal is looked up the same way. Search lags a few seconds behind: that refusal is
  what then keeps a second copy out.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

from django.utils import timezone

from incidents.models import IncidentReply
from incidents.sources import x as parser

from .base import NetworkClient, Page, Published, ReplyTarget, Stream, after_walk_page
from .http import NetworkError, Refused

PAGE_SIZE = 100
# Recent search reaches back seven days; a minute less, so that a slow request is not refused.
SEARCH_WINDOW = dt.timedelta(days=7) - dt.timedelta(minutes=1)
FIELDS = {
    "tweet.fields": "created_at,author_id,public_metrics,geo,lang,referenced_tweets,attachments,note_tweet,"
    "conversation_id,in_reply_to_user_id",
    "expansions": "author_id,geo.place_id,attachments.media_keys,referenced_tweets.id",
    "user.fields": "username",
    "place.fields": "full_name,name,place_type,geo",
    "media.fields": "url,preview_image_url,type",
}


def _same_text(one: str, other: str) -> bool:
    return " ".join(html.unescape(one).split()) == " ".join(html.unescape(other).split())


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class XClient(NetworkClient):
    kind = "x"
    max_reply_length = 280

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token()}"}

    def streams(self) -> list[Stream]:
        terms = [f"#{tag}" for tag in self.channel.hashtags]
        # Each search in parentheses: its own words and ORs stay together inside the channel's OR.
        terms += [f"({query})" if " " in query else query for query in self.channel.queries]
        if self.channel.mentions and self.channel.account:
            terms.append(f"@{self.channel.account.lstrip('@')}")
        query = " OR ".join(terms)
        query = f"({query})" if len(terms) > 1 else query
        return [Stream(f"search:{query}", "search", query)]

    def fetch(self, stream: Stream, state: dict[str, Any]) -> Page:
        params: dict[str, Any] = {"query": stream.value, "max_results": PAGE_SIZE, **FIELDS}
        if state.get("mark"):
            params["since_id"] = state["mark"]
        else:
            params["start_time"] = _iso(max(self.channel.since, timezone.now() - SEARCH_WINDOW))
        if state.get("walk"):
            params["next_token"] = state["walk"]["next"]
        answer = self.http.request("GET", "/2/tweets/search/recent", params=params, headers=self._auth())
        if not isinstance(answer.data, dict):
            raise NetworkError("GET /2/tweets/search/recent: the answer is not a response object")
        items = list(parser.parse_document(answer.data, position=stream.key, source=parser.FORMAT))
        meta = answer.data.get("meta") if isinstance(answer.data.get("meta"), dict) else {}
        newest = str(meta["newest_id"]) if meta.get("newest_id") else None
        next_token = str(meta["next_token"]) if meta.get("next_token") else None
        return after_walk_page(items, state, newest, next_token, reached=next_token is None)

    def _published(self, tweet_id: str) -> Published:
        return Published(tweet_id, f"https://x.com/{self.channel.account.lstrip('@')}/status/{tweet_id}")

    def publish(self, reply: IncidentReply, target: ReplyTarget) -> Published:
        body = {
            "text": self.compose(reply.text, target.post),
            "reply": {"in_reply_to_tweet_id": target.post.external_id},
        }
        try:
            answer = self.http.request("POST", "/2/tweets", json=body, headers=self._auth(), retries=0)
        except Refused as refusal:
            if refusal.status == 403 and "duplicate" in str(refusal).lower():
                found = self.find_published(reply, target)
                if found is not None:
                    return found
            raise
        data = answer.data.get("data") if isinstance(answer.data, dict) else None
        if not isinstance(data, dict) or not data.get("id"):
            raise NetworkError("POST /2/tweets: the answer has no tweet id", uncertain=True)
        return self._published(str(data["id"]))

    def find_published(self, reply: IncidentReply, target: ReplyTarget) -> Published | None:
        tweet_id = target.post.external_id
        params = {
            "query": f"from:{self.channel.account.lstrip('@')} in_reply_to_tweet_id:{tweet_id}",
            "max_results": PAGE_SIZE,
            "tweet.fields": "referenced_tweets,created_at",
            "start_time": _iso(max(reply.created_at - dt.timedelta(minutes=1), timezone.now() - SEARCH_WINDOW)),
        }
        answer = self.http.request("GET", "/2/tweets/search/recent", params=params, headers=self._auth())
        tweets = answer.data.get("data") if isinstance(answer.data, dict) else None
        text = self.compose(reply.text, target.post)
        for tweet in tweets if isinstance(tweets, list) else []:
            references = tweet.get("referenced_tweets") if isinstance(tweet, dict) else None
            answers_it = any(
                isinstance(ref, dict) and ref.get("type") == "replied_to" and str(ref.get("id")) == tweet_id
                for ref in references or []
            )
            if answers_it and _same_text(str(tweet.get("text") or ""), text):
                return self._published(str(tweet["id"]))
        return None
