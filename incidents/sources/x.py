"""
X (Twitter) API v2 responses: recent search, filtered stream, tweet lookup.

One response object holds tweets in ``data`` (a list, or one object for the stream and
lookups) and their expansions in ``includes``: ``users`` (authors), ``places``
(``geo.place_id``), ``media`` (``attachments.media_keys``) and ``tweets`` (what
``referenced_tweets`` point at). A file holds one response, or one response per line
(JSON lines, as the filtered stream delivers them).

- ``geo.coordinates`` (a GeoJSON point) is the device GPS; ``geo.place_id`` names a
  place whose bounding box the locator may use.
- A retweet (``referenced_tweets`` type ``retweeted``) becomes a repost record: it
  adds engagement to the original and is never a post of its own. The original, when
  present in ``includes.tweets``, is stored as a post too.
- Quotes and replies are posts; the tweets they reference, when included, are stored
  as well (they are public posts about the same thing, and nothing is dropped).
- Text comes from ``note_tweet.text`` when the tweet is long, else ``text``; X escapes
  ``&``, ``<`` and ``>`` as HTML entities, which are decoded here.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

from incidents.inputs import RecordError

from .parsing import (
    MAX_HANDLE,
    MAX_PLACE,
    ParsedItem,
    aware_datetime,
    bbox,
    check_record,
    coordinates,
    count,
    http_url,
    identifier,
    language,
    optional_text,
    text_field,
)
from .record import PostRecord

FORMAT = "x"
REFERENCE_FIELDS = {"retweeted": "repost_of", "quoted": "quote_of", "replied_to": "reply_to"}


class _Includes:
    """The expansions of one response, indexed by the keys tweets refer to them with."""

    def __init__(self, includes: Any) -> None:
        includes = includes if isinstance(includes, dict) else {}
        self.users = _index(includes.get("users"), "id")
        self.places = _index(includes.get("places"), "id")
        self.media = _index(includes.get("media"), "media_key")
        self.tweets = _index(includes.get("tweets"), "id")


def _index(objects: Any, key: str) -> dict[str, dict[str, Any]]:
    if not isinstance(objects, list):
        return {}
    return {str(obj[key]): obj for obj in objects if isinstance(obj, dict) and key in obj}


def parse_document(document: Any, *, position: str, source: str) -> Iterator[ParsedItem]:
    """Yield one item per tweet of an X API v2 response object."""
    if not isinstance(document, dict) or not ("data" in document or "includes" in document or "meta" in document):
        yield ParsedItem.rejected(position, "not an X API v2 response (expected an object with 'data')")
        return
    data = document.get("data")
    if data is None:
        return  # an empty page ("meta": {"result_count": 0}) or errors only: nothing to store
    tweets = data if isinstance(data, list) else [data]
    includes = _Includes(document.get("includes"))
    own_ids = {str(tweet.get("id")) for tweet in tweets if isinstance(tweet, dict)}
    carried: set[str] = set()
    for index, tweet in enumerate(tweets):
        where = f"{position} data[{index}]".strip() if isinstance(data, list) else position
        tweet_id = str(tweet.get("id", "")) if isinstance(tweet, dict) else ""
        try:
            record = tweet_record(tweet, includes, source)
        except RecordError as error:
            yield ParsedItem.rejected(where, str(error), tweet_id)
            continue
        embedded = []
        for ref_id in _referenced_ids(tweet):
            if ref_id in own_ids or ref_id in carried or ref_id not in includes.tweets:
                continue
            carried.add(ref_id)
            try:
                embedded.append(tweet_record(includes.tweets[ref_id], includes, source))
            except RecordError:
                continue  # an incomplete expansion; the tweet itself may still arrive on its own
        yield ParsedItem(where, record, external_id=record.external_id, embedded=tuple(embedded))


def _referenced_ids(tweet: dict[str, Any]) -> list[str]:
    refs = tweet.get("referenced_tweets")
    if not isinstance(refs, list):
        return []
    return [str(ref["id"]) for ref in refs if isinstance(ref, dict) and ref.get("id") is not None]


def tweet_record(tweet: Any, includes: _Includes, source: str) -> PostRecord:
    """Build the record of one tweet object, its expansions resolved; raise :class:`RecordError` if invalid."""
    if not isinstance(tweet, dict):
        raise RecordError("expected a tweet object")
    tweet_id = identifier(tweet.get("id"))
    references: dict[str, str] = {}
    refs = tweet.get("referenced_tweets")
    for ref in refs if isinstance(refs, list) else []:
        if isinstance(ref, dict) and ref.get("type") in REFERENCE_FIELDS:
            references[REFERENCE_FIELDS[ref["type"]]] = identifier(ref.get("id"), f"referenced_tweets {ref['type']} id")

    note = tweet.get("note_tweet")
    text = note.get("text") if isinstance(note, dict) and note.get("text") else tweet.get("text")
    text = html.unescape(text_field(text, "text", required=not references.get("repost_of")))
    posted_at = aware_datetime(tweet.get("created_at"), "created_at")

    author_id = optional_text(tweet.get("author_id"), MAX_HANDLE)
    replied_author = optional_text(tweet.get("in_reply_to_user_id"), MAX_HANDLE) if references.get("reply_to") else ""
    author = includes.users.get(author_id, {})
    handle = optional_text(author.get("username"), MAX_HANDLE)

    geo = tweet.get("geo") if isinstance(tweet.get("geo"), dict) else {}
    point = geo.get("coordinates") if isinstance(geo.get("coordinates"), dict) else {}
    lon_lat = point.get("coordinates") if isinstance(point.get("coordinates"), list) else [None, None]
    if len(lon_lat) != 2:
        raise RecordError("geo.coordinates: expected [lon, lat]")
    position = coordinates(*lon_lat)
    place = includes.places.get(str(geo.get("place_id")), {}) if geo.get("place_id") else {}
    place_geo = place.get("geo") if isinstance(place.get("geo"), dict) else {}

    attachments = tweet.get("attachments") if isinstance(tweet.get("attachments"), dict) else {}
    media_keys = attachments.get("media_keys") if isinstance(attachments.get("media_keys"), list) else []
    media = [includes.media[key] for key in media_keys if isinstance(key, str) and key in includes.media]
    media_urls = [url for url in (http_url(m.get("url") or m.get("preview_image_url")) for m in media) if url]

    metrics = tweet.get("public_metrics") if isinstance(tweet.get("public_metrics"), dict) else {}
    conversation = tweet.get("conversation_id")
    root = identifier(conversation, "conversation_id") if conversation is not None else ""
    raw_includes = {
        name: values
        for name, values in (
            ("users", [author] if author else []),
            ("places", [place] if place else []),
            ("media", media),
        )
        if values
    }
    return check_record(
        PostRecord(
            source=source,
            external_id=tweet_id,
            text=text,
            posted_at=posted_at,
            url=f"https://x.com/{handle}/status/{tweet_id}" if handle else f"https://x.com/i/web/status/{tweet_id}",
            author_handle=handle,
            author_id=author_id,
            reply_to_author=replied_author,
            language=language(tweet.get("lang")),
            media_urls=media_urls,
            like_count=count(metrics.get("like_count"), "public_metrics.like_count"),
            repost_count=count(metrics.get("retweet_count"), "public_metrics.retweet_count"),
            reply_count=count(metrics.get("reply_count"), "public_metrics.reply_count"),
            quote_count=count(metrics.get("quote_count"), "public_metrics.quote_count"),
            lon=position[0] if position else None,
            lat=position[1] if position else None,
            place_name=optional_text(place.get("full_name") or place.get("name"), MAX_PLACE),
            place_type=optional_text(place.get("place_type"), 32),
            place_bbox=bbox(place_geo.get("bbox"), "place bbox") if place_geo.get("bbox") else None,
            raw={"data": tweet, "includes": raw_includes} if raw_includes else {"data": tweet},
            thread_root=root if root != tweet_id else "",
            **references,
        )
    )
