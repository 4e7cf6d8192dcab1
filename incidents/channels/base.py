"""
What every network's client shares: streams, pages, cursors, replies.

A channel reads one or more **streams** (a hashtag, a search, the mentions). Each poll
reads a stream page by page; every page comes with the stream's **state after it** — the
cursor — which the listener saves only once the page's posts are stored. Two ways of
paging keep that promise on every network:

- **Forward** (Mastodon's ``min_id``): each page holds the posts just after the mark, so
  the mark moves up page by page.
- **Walk down** (X's ``next_token``, Bluesky's ``cursor``, a Mastodon backfill): pages go
  from the newest post down to the mark (or to the channel's ``since`` on the first
  poll). The walk's top and its next page are saved after each page; the mark becomes
  the top only when the walk has reached the old mark, so a walk cut short (a crash, a
  rate limit, the page limit) goes on where it stopped and leaves no gap.

Either way a page may be read twice (after a crash between storing and saving), never
skipped: storing twice is harmless, ingest stores each post once.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from incidents.models import Channel, IncidentReply, Post
from incidents.sources.parsing import ParsedItem

from .http import NetworkError, PoliteSession


class ConfigurationError(NetworkError):
    """The channel cannot work as configured (a missing environment variable): the message says how to fix it."""


@dataclass(frozen=True, slots=True)
class Stream:
    """One thing a channel reads: ``key`` names its cursor (``tag:NAME``, ``search:QUERY``, ``mentions``)."""

    key: str
    kind: str  # tag, search, mentions
    value: str = ""


@dataclass(slots=True)
class Page:
    """One page of a stream: its parsed items, the stream's state once they are stored, and whether more follows."""

    items: list[ParsedItem]
    state: dict[str, Any]
    more: bool = False


@dataclass(frozen=True, slots=True)
class Published:
    """A reply as the network published it."""

    external_id: str
    url: str = ""


@dataclass(slots=True)
class ReplyTarget:
    """The post a reply answers, and its id on the replying channel's server when known."""

    post: Post
    remote_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def after_walk_page(
    items: list[ParsedItem], state: dict[str, Any], top: str | None, next_token: str | None, reached: bool
) -> Page:
    """Return the page of ``items`` with the stream's state after it, for a walk down (see the module's docstring).

    ``top`` is the newest key of this page, kept when the page starts a walk; ``reached``
    says the page went down to the mark (or ``since``), or the stream has nothing older.
    """
    walk = state.get("walk")
    top = walk["top"] if walk else top
    mark = state.get("mark")
    if reached or not next_token:
        new_mark = top or mark
        return Page(items, {"mark": new_mark} if new_mark else {}, more=False)
    return Page(items, {**({"mark": mark} if mark else {}), "walk": {"top": top, "next": next_token}}, more=True)


def since_bound(channel: Channel, state: dict[str, Any]) -> dt.datetime | None:
    """Return the time a first poll reads back to: the channel's ``since`` while the stream has no mark."""
    return None if state.get("mark") else channel.since


def keep_since(items: list[ParsedItem], since: dt.datetime | None) -> list[ParsedItem]:
    """``items`` without posts older than ``since`` (rejected items are kept: they are reported)."""
    if since is None:
        return items
    return [item for item in items if item.record is None or item.record.posted_at >= since]


class NetworkClient:
    """The client of one network for one channel: reads its streams' pages, publishes and finds replies."""

    kind = ""
    # Most characters a reply may have on the network (the service checks before queueing).
    max_reply_length = 0

    def __init__(self, channel: Channel):
        self.channel = channel
        self.http = PoliteSession(channel.base_url, channel.name)

    @property
    def requests(self) -> int:
        return self.http.requests

    def close(self) -> None:
        self.http.close()

    def token(self) -> str:
        """Return the secret named by the channel's ``token_env``, read from the environment now."""
        name = self.channel.token_env
        value = os.environ.get(name, "") if name else ""
        if not value:
            raise ConfigurationError(
                _(
                    "the environment variable %(name)s is not set: export it (the token or app password) in the "
                    "environment of the listener and of the web server"
                )
                % {"name": name or "?"}
            )
        return value

    def streams(self) -> list[Stream]:
        """Return the channel's streams: its hashtags, its searches, its mentions."""
        streams = [Stream(f"tag:{tag}", "tag", tag) for tag in self.channel.hashtags]
        streams += [Stream(f"search:{query}", "search", query) for query in self.channel.queries]
        if self.channel.mentions:
            streams.append(Stream("mentions", "mentions"))
        return streams

    def fetch(self, stream: Stream, state: dict[str, Any]) -> Page:
        """Read the next page of ``stream`` from ``state``."""
        raise NotImplementedError

    def remote_id(self, item: ParsedItem) -> str:
        """Return the post's id on this channel's server, when it differs from its external id."""
        return ""

    def with_parents(self, items: list[ParsedItem]) -> list[ParsedItem]:
        """Return ``items`` ready to store, naming the posts they answer by external id (and any read for it)."""
        return items

    @classmethod
    def compose(cls, text: str, post: Post) -> str:
        """Return the text to publish in answer to ``post`` (Mastodon names its author; a reply notifies elsewhere)."""
        return text

    def publish(self, reply: IncidentReply, target: ReplyTarget) -> Published:
        """Publish ``reply`` on the network; raise :class:`NetworkError` (``uncertain``: it may have gone through)."""
        raise NotImplementedError

    def find_published(self, reply: IncidentReply, target: ReplyTarget) -> Published | None:
        """Return the reply if an earlier attempt published it, else ``None`` (asked before sending again)."""
        return None
