"""
Mastodon: hashtag timelines, searches and mentions in; replies out.

- Hashtags: ``GET /api/v1/timelines/tag/:hashtag`` (public instances answer without a
  token). Searches: ``GET /api/v2/search?type=statuses`` (token). Mentions:
  ``GET /api/v1/notifications?types[]=mention`` (token).
- Paging: a stream with a mark reads forward with ``min_id`` (the statuses just after
  it, oldest page first), so the mark moves up page by page. A first poll walks down
  from the newest status with ``max_id`` — the ``Link: rel="next"`` header's — until
  statuses are older than the channel's ``since``. Ids are the instance's own (status
  or notification ids); posts are stored under the status URI, the same on every instance.
- Replies: ``POST /api/v1/statuses`` with ``in_reply_to_id`` (the status id on this
  channel's instance, resolved by a search of the post's URI when another instance saw
  it) and ``Idempotency-Key``: the reply's delivery key. Mastodon answers a request
  repeated with the same key within an hour with the status it already created, so a
  retry after a timeout never posts twice (the outbox gives up before that hour is over).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from django.conf import settings
from requests.utils import parse_header_links

from incidents.models import ChannelPost, IncidentReply, Post
from incidents.sources import mastodon as parser
from incidents.sources.parsing import ParsedItem

from .base import NetworkClient, Page, Published, ReplyTarget, Stream, after_walk_page, keep_since, since_bound
from .http import NetworkError, Refused

logger = logging.getLogger(__name__)

PAGE_SIZE = 40  # the most Mastodon returns per page
PUBLIC_VISIBILITIES = ("public", "unlisted")


def id_order(value: str) -> tuple[int, str]:
    """Return the sort key of a Mastodon id (decimal strings longer than a float's precision)."""
    return len(value), value


def _link(headers: Any, rel: str, param: str) -> str | None:
    """Return the ``param`` of the ``Link`` header's ``rel`` URL (``next`` → ``max_id``, ``prev`` → ``min_id``)."""
    for link in parse_header_links(headers.get("Link") or ""):
        if link.get("rel") == rel:
            values = parse_qs(urlsplit(link.get("url", "")).query).get(param)
            return values[0] if values else None
    return None


class MastodonClient(NetworkClient):
    kind = "mastodon"
    max_reply_length = 500

    def _auth(self, required: bool) -> dict[str, str]:
        if not required and not self.channel.token_env:
            return {}
        return {"Authorization": f"Bearer {self.token()}"}

    def _request(self, stream: Stream) -> tuple[str, dict[str, Any]]:
        if stream.kind == "tag":
            return f"/api/v1/timelines/tag/{quote(stream.value, safe='')}", {}
        if stream.kind == "search":
            return "/api/v2/search", {"q": stream.value, "type": "statuses", "resolve": "false"}
        return "/api/v1/notifications", {"types[]": "mention"}

    def fetch(self, stream: Stream, state: dict[str, Any]) -> Page:
        path, params = self._request(stream)
        params["limit"] = PAGE_SIZE
        forward = "mark" in state and "walk" not in state
        if forward:
            params["min_id"] = state["mark"]
        elif state.get("walk"):
            params["max_id"] = state["walk"]["next"]
        answer = self.http.request("GET", path, params=params, headers=self._auth(stream.kind != "tag"))
        entries = answer.data.get("statuses") if isinstance(answer.data, dict) else answer.data
        if not isinstance(entries, list):
            raise NetworkError(f"GET {path}: the answer is not a list of statuses")
        items = [
            item
            for index, entry in enumerate(entries)
            for item in parser.parse_document(entry, position=f"{stream.key} [{index}]", source=parser.FORMAT)
        ]
        ids = sorted(
            (str(entry["id"]) for entry in entries if isinstance(entry, dict) and entry.get("id")), key=id_order
        )
        if forward:
            newest = _link(answer.headers, "prev", "min_id") or (ids[-1] if ids else None)
            mark = max(newest, state["mark"], key=id_order) if newest else state["mark"]
            return Page(items, {"mark": mark}, more=len(entries) >= PAGE_SIZE)
        since = since_bound(self.channel, state)
        older = _link(answer.headers, "next", "max_id") or (ids[0] if ids else None)
        dates = [item.record.posted_at for item in items if item.record is not None]
        reached = len(entries) < PAGE_SIZE or (since is not None and bool(dates) and min(dates) < since)
        return after_walk_page(keep_since(items, since), state, ids[-1] if ids else None, older, reached)

    def remote_id(self, item: ParsedItem) -> str:
        raw = item.record.raw if item.record is not None else {}
        return str(raw.get("id") or "")

    def with_parents(self, items: list[ParsedItem]) -> list[ParsedItem]:
        """Name each reply's parent by its URI, reading the parent from the instance when it is new.

        A status names the one it answers by its id on this instance (``in_reply_to_id``); the
        parent is found among ``items``, among the statuses read from this instance before
        (``ChannelPost.remote_id``, any channel on it), or read from it
        (``GET /api/v1/statuses/:id``, at most ``INCIDENTS_LISTEN_MAX_PARENTS``) and stored
        with the replies. Either way the reply's ``reply_to`` is the parent's URI: it is placed
        in its conversation whichever instance read the parent (incidents.pipeline.thread).
        Reading parents never fails the batch: a rate limit or a failing instance stops it.
        """
        waiting = [item for item in items if item.record and item.record.reply_to_local and not item.record.reply_to]
        if not waiting:
            return items
        uris = {self.remote_id(item): item.record.external_id for item in items if item.record is not None}
        wanted = {item.record.reply_to_local for item in waiting} - set(uris)
        uris.update(
            ChannelPost.objects.filter(channel__base_url=self.channel.base_url, remote_id__in=wanted).values_list(
                "remote_id", "post__external_id"
            )
        )
        parents: list[ParsedItem] = []
        for local_id in sorted(wanted - set(uris), key=id_order)[: settings.INCIDENTS_LISTEN_MAX_PARENTS]:
            try:
                answer = self.http.request(
                    "GET", f"/api/v1/statuses/{quote(local_id, safe='')}", headers=self._auth(False)
                )
            except Refused as error:  # deleted or private: the reply waits
                logger.info("%s: the status %s replied to cannot be read: %s", self.channel.name, local_id, error)
                continue
            except NetworkError as error:
                # A rate limit or a failing instance: the batch is stored all the same. The replies left
                # wait, and still meet their parent by its id if a stream of this instance reads it later.
                logger.warning("%s: parents of replies not read: %s", self.channel.name, error)
                break
            for item in parser.parse_document(answer.data, position=f"status {local_id}", source=parser.FORMAT):
                parents.append(item)
                if item.record is not None and self.remote_id(item) == local_id:
                    uris[local_id] = item.record.external_id
        for item in waiting:
            item.record.reply_to = uris.get(item.record.reply_to_local, "")
        return [*parents, *items]

    @classmethod
    def compose(cls, text: str, post: Post) -> str:
        mention = f"@{post.author_handle}" if post.author_handle else ""
        return f"{mention} {text}" if mention and mention not in text else text

    def _resolve(self, post: Post) -> str:
        """Return the id of ``post`` on this instance, found by a search of its URI."""
        answer = self.http.request(
            "GET",
            "/api/v2/search",
            params={"q": post.external_id, "type": "statuses", "resolve": "true", "limit": 1},
            headers=self._auth(True),
        )
        statuses = answer.data.get("statuses") if isinstance(answer.data, dict) else None
        if not statuses or not isinstance(statuses[0], dict) or not statuses[0].get("id"):
            raise Refused(
                f"{self.channel.base_url} cannot find {post.external_id} (deleted, or the instance is blocked)"
            )
        return str(statuses[0]["id"])

    def publish(self, reply: IncidentReply, target: ReplyTarget) -> Published:
        post = target.post
        visibility = post.raw.get("visibility") if isinstance(post.raw, dict) else None
        body = {
            "status": self.compose(reply.text, post),
            "in_reply_to_id": target.remote_id or self._resolve(post),
            "visibility": visibility if visibility in PUBLIC_VISIBILITIES else "public",
            "language": reply.language,
        }
        # The same key on every attempt: Mastodon creates one status per key, so retrying here is safe.
        headers = {**self._auth(True), "Idempotency-Key": str(reply.delivery_key)}
        answer = self.http.request("POST", "/api/v1/statuses", json=body, headers=headers)
        data = answer.data if isinstance(answer.data, dict) else {}
        if not data.get("id"):
            raise NetworkError("POST /api/v1/statuses: the answer has no status id", uncertain=True)
        return Published(str(data["id"]), str(data.get("url") or data.get("uri") or ""))
