"""
The documented column set of flat exports: CSV files, JSON lines and the push API.

One row (or JSON object) is one post:

=============== ======== =================================================================
column          required meaning
=============== ======== =================================================================
id              yes      identifier of the post on its source (unique per source)
text            yes      what was posted (may be empty for a repost)
posted_at       yes      ISO 8601 date-time; without an offset it is the city's local time
                         (``DJANGO_TIME_ZONE``); epoch seconds are accepted in JSON
lon, lat        no       WGS84 decimal degrees given by the device; both or neither
author          no       author handle (personal data: staff only)
author_id       no       author identifier on the source (personal data: staff only)
url             no       link to the post
language        no       BCP 47 code (``fr``, ``en``)
media_urls      no       photo/video URLs; a JSON list, or separated by spaces or ``|``
like_count      no       likes (also ``repost_count``, ``reply_count``, ``quote_count``)
repost_of       no       id of the reposted post (same source): the row is a repost
quote_of        no       id of the quoted post
reply_to        no       id of the post replied to
reply_to_author no       ``author_id`` of the post replied to: equal to the row's, a self-reply
thread_root     no       id of the first post of the conversation (``conversation_id``)
place_name      no       a place named by the platform
place_type      no       ``poi``, ``neighborhood``, ``city``, ``admin`` or ``country``
place_bbox      no       ``min_lon,min_lat,max_lon,max_lat`` of that place
source          no       source name for this row (default: ``--source`` or the format)
=============== ======== =================================================================

Column names are case-insensitive, and common aliases are understood (``created_at``,
``longitude``/``latitude``, ``likes``, ``retweets``, ``lang`` ...: see :data:`ALIASES`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
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
    source_name,
    text_field,
)
from .record import PostRecord

COLUMNS = (
    "id",
    "text",
    "posted_at",
    "lon",
    "lat",
    "author",
    "author_id",
    "url",
    "language",
    "media_urls",
    "like_count",
    "repost_count",
    "reply_count",
    "quote_count",
    "repost_of",
    "quote_of",
    "reply_to",
    "reply_to_author",
    "thread_root",
    "place_name",
    "place_type",
    "place_bbox",
    "source",
)
REQUIRED = ("id", "text", "posted_at")

ALIASES: dict[str, str] = {
    "external_id": "id",
    "post_id": "id",
    "message": "text",
    "content": "text",
    "body": "text",
    "created_at": "posted_at",
    "date": "posted_at",
    "datetime": "posted_at",
    "timestamp": "posted_at",
    "longitude": "lon",
    "lng": "lon",
    "long": "lon",
    "x": "lon",
    "latitude": "lat",
    "y": "lat",
    "author_handle": "author",
    "username": "author",
    "user": "author",
    "handle": "author",
    "lang": "language",
    "media": "media_urls",
    "media_url": "media_urls",
    "likes": "like_count",
    "favourites_count": "like_count",
    "reposts": "repost_count",
    "retweets": "repost_count",
    "retweet_count": "repost_count",
    "shares": "repost_count",
    "replies": "reply_count",
    "quotes": "quote_count",
    "retweet_of": "repost_of",
    "in_reply_to": "reply_to",
    "in_reply_to_user_id": "reply_to_author",
    "in_reply_to_account_id": "reply_to_author",
    "conversation_id": "thread_root",
    "place": "place_name",
}

_URL_SEPARATORS = re.compile(r"[\s|]+")


def canonical_column(name: str) -> str:
    """Return the documented column a header or key stands for (unknown names are kept, lower-cased)."""
    key = str(name).strip().lower().replace(" ", "_").replace("-", "_")
    return ALIASES.get(key, key)


def missing_columns(names: list[str]) -> list[str]:
    """The required columns absent from ``names`` (aliases count)."""
    present = {canonical_column(name) for name in names}
    return [column for column in REQUIRED if column not in present]


def _media(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    values = value if isinstance(value, list) else _URL_SEPARATORS.split(str(value))
    return [url for url in (http_url(v) for v in values) if url]


def record_from_columns(row: Mapping[str, Any], *, source: str, decimal_comma: bool = False) -> PostRecord:
    """Build the record of one flat row; raise :class:`RecordError` naming the bad field."""
    values: dict[str, Any] = {}
    for key, value in row.items():
        if key is None:
            raise RecordError("the row has more fields than the header")
        values.setdefault(canonical_column(key), value)
    repost_of = text_field(values.get("repost_of"), "repost_of", max_length=255)
    position = coordinates(values.get("lon"), values.get("lat"), decimal_comma=decimal_comma)
    return check_record(
        PostRecord(
            source=source_name(values["source"]) if values.get("source") else source,
            external_id=identifier(values.get("id")),
            text=text_field(values.get("text"), "text", required=not repost_of),
            posted_at=aware_datetime(values.get("posted_at"), "posted_at"),
            url=http_url(values.get("url")),
            author_handle=optional_text(values.get("author"), MAX_HANDLE),
            author_id=optional_text(values.get("author_id"), MAX_HANDLE),
            language=language(values.get("language")),
            media_urls=_media(values.get("media_urls")),
            like_count=count(values.get("like_count"), "like_count"),
            repost_count=count(values.get("repost_count"), "repost_count"),
            reply_count=count(values.get("reply_count"), "reply_count"),
            quote_count=count(values.get("quote_count"), "quote_count"),
            repost_of=repost_of,
            quote_of=text_field(values.get("quote_of"), "quote_of", max_length=255),
            reply_to=text_field(values.get("reply_to"), "reply_to", max_length=255),
            reply_to_author=optional_text(values.get("reply_to_author"), MAX_HANDLE),
            thread_root=_thread_root(values),
            lon=position[0] if position else None,
            lat=position[1] if position else None,
            place_name=optional_text(values.get("place_name"), MAX_PLACE),
            place_type=optional_text(values.get("place_type"), 32).lower(),
            place_bbox=bbox(values.get("place_bbox")),
            raw=dict(row),
        )
    )


def row_item(row: Any, *, position: str, source: str, decimal_comma: bool = False) -> ParsedItem:
    """Parse one row or JSON object into an item (a record, or the reason it was rejected)."""
    if not isinstance(row, Mapping):
        return ParsedItem.rejected(position, f"expected an object with the post columns, got {type(row).__name__}")
    try:
        record = record_from_columns(row, source=source, decimal_comma=decimal_comma)
    except RecordError as error:
        external_id = row.get("id") or row.get("external_id") or ""
        return ParsedItem.rejected(position, str(error), str(external_id)[:255])
    return ParsedItem(position, record, external_id=record.external_id)


def parse_document(document: Any, *, position: str, source: str) -> Iterator[ParsedItem]:
    """Yield the item of one JSON object with the post columns (JSON lines, API)."""
    yield row_item(document, position=position, source=source)


def _thread_root(values: Mapping[str, Any]) -> str:
    """The first post of the row's conversation, unless it is the row itself."""
    root = text_field(values.get("thread_root"), "thread_root", max_length=255)
    return "" if root == str(values.get("id")) else root
