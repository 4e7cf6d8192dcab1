"""The one plain record every source parser yields, whatever the platform."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class PostRecord:
    """A post as parsed from its source, before it is stored, located or classified.

    Coordinates are WGS84 longitude/latitude. ``posted_at`` is always aware.
    """

    source: str
    external_id: str
    text: str
    posted_at: dt.datetime
    url: str = ""
    author_handle: str = ""
    author_id: str = ""
    language: str = ""
    media_urls: list[str] = field(default_factory=list)
    like_count: int = 0
    repost_count: int = 0
    reply_count: int = 0
    quote_count: int = 0
    repost_of: str = ""
    quote_of: str = ""
    reply_to: str = ""
    # Mastodon names the status replied to by its id on the instance the reply was read
    # from (``reply_to_local``), and each status has one there too (``local_id``).
    reply_to_local: str = ""
    # The account of the post replied to, in the terms of ``author_id`` (equal to it: a self-reply).
    # Mastodon names its parent by this when the parent's instance id is unknown (pipeline.thread).
    reply_to_author: str = ""
    local_id: str = ""
    # The first post of the conversation (X conversation_id, Bluesky root), when not this one.
    thread_root: str = ""
    # Exact position given by the device (GPS), if any.
    lon: float | None = None
    lat: float | None = None
    # A named place attached by the platform (X "place"), if any.
    place_name: str = ""
    place_type: str = ""  # X place_type: poi, neighborhood, city, admin, country
    place_bbox: tuple[float, float, float, float] | None = None  # min_lon, min_lat, max_lon, max_lat
    # A category the reporter chose (Open311 service_code): it decides over the classifier.
    declared_category: str = ""
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def engagement(self) -> int:
        return self.like_count + self.repost_count + self.reply_count + self.quote_count
