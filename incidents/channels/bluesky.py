"""
Bluesky: searches and mentions in; replies out (XRPC over HTTP).

- Searches and hashtags: ``app.bsky.feed.searchPosts`` (``sort=latest``, ``cursor``,
  ``since``) on a public AppView, or on the account's PDS with a session (the PDS passes
  ``app.bsky.*`` calls on to the AppView). Mentions, replies and quotes of the city's
  account: ``app.bsky.notification.listNotifications`` (session).
- A session comes from ``com.atproto.server.createSession`` with the channel's account and
  the app password of its environment variable; it is kept by the process and renewed
  with ``refreshSession`` when the network says it expired.
- Paging walks down (``cursor``) from the newest post to the mark: the newest time stored
  (search: the earlier of ``createdAt`` and ``indexedAt``, which ``sort=latest`` orders
  by; notifications: ``indexedAt``). Each search also asks ``since`` a minute before the
  mark, so that a post indexed a little late is still read (a duplicate is harmless). A
  post indexed much later than it claims to be written is missed by search; mentions,
  read from notifications, are not.
- Replies: ``com.atproto.repo.createRecord`` of an ``app.bsky.feed.post`` with the reply's
  ``root`` and ``parent`` (URI and CID), under a record key derived from the reply (a TID
  made of its creation time and its delivery key). A repository holds one record per key:
  the same reply sent twice cannot make two posts, and before sending again after an
  uncertain attempt the outbox looks the key up (``com.atproto.repo.getRecord``).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from incidents.models import IncidentReply, Post
from incidents.sources import bluesky as parser
from incidents.sources.parsing import ParsedItem

from .base import NetworkClient, Page, Published, ReplyTarget, Stream, after_walk_page, keep_since, since_bound
from .http import Answer, NetworkError, Refused

PAGE_SIZE = 100
# The most URIs app.bsky.feed.getPosts takes in one call.
GET_POSTS_MAX = 25
SEARCH_OVERLAP = dt.timedelta(minutes=1)
MENTION_REASONS = ("mention", "reply", "quote")
EXPIRED = frozenset({"ExpiredToken", "InvalidToken"})
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"

logger = logging.getLogger(__name__)


def tid(moment: dt.datetime, clock_id: int) -> str:
    """Return a record key in the TID format: microseconds since 1970 and a 10-bit clock id, base32-sortable."""
    value = (int(moment.timestamp() * 1_000_000) << 10) | (clock_id & 0x3FF)
    return "".join(TID_ALPHABET[(value >> shift) & 31] for shift in range(60, -5, -5))


def reply_key(reply: IncidentReply) -> str:
    return tid(reply.created_at, reply.delivery_key.int)


def _moment(value: Any) -> dt.datetime | None:
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is not None and timezone.is_naive(moment):
        moment = moment.replace(tzinfo=dt.UTC)
    return moment


def sort_time(post: Any) -> dt.datetime | None:
    """Return when ``sort=latest`` places a post: the earlier of its ``createdAt`` and ``indexedAt``."""
    if not isinstance(post, dict):
        return None
    record = post.get("record") if isinstance(post.get("record"), dict) else {}
    moments = [m for m in (_moment(record.get("createdAt")), _moment(post.get("indexedAt"))) if m is not None]
    return min(moments) if moments else None


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class BlueskyClient(NetworkClient):
    kind = "bluesky"
    max_reply_length = 300

    def __init__(self, channel):
        super().__init__(channel)
        self.session: dict[str, str] | None = None

    def _login(self) -> None:
        answer = self.http.request(
            "POST",
            "/xrpc/com.atproto.server.createSession",
            json={"identifier": self.channel.account, "password": self.token()},
        )
        self.session = self._checked(answer, "createSession")

    @staticmethod
    def _checked(answer: Answer, nsid: str) -> dict[str, str]:
        session = answer.data if isinstance(answer.data, dict) else {}
        if not all(isinstance(session.get(key), str) for key in ("accessJwt", "refreshJwt", "did")):
            raise NetworkError(f"{nsid}: the answer holds no session")
        return session

    def _refresh(self) -> None:
        try:
            answer = self.http.request(
                "POST",
                "/xrpc/com.atproto.server.refreshSession",
                headers={"Authorization": f"Bearer {self.session['refreshJwt']}"},
            )
        except Refused:
            self._login()
        else:
            self.session = {**self.session, **self._checked(answer, "refreshSession")}

    def _call(self, method: str, nsid: str, *, auth: bool, retries: int | None = None, **options) -> Answer:
        """Make one XRPC call, with the session when ``auth`` (or whenever the channel has a password)."""
        if not (auth or self.channel.token_env):
            return self.http.request(method, f"/xrpc/{nsid}", retries=retries, **options)
        if self.session is None:
            self._login()
        for renewed in (False, True):
            headers = {"Authorization": f"Bearer {self.session['accessJwt']}"}
            try:
                return self.http.request(method, f"/xrpc/{nsid}", headers=headers, retries=retries, **options)
            except Refused as refusal:
                error = refusal.body.get("error") if isinstance(refusal.body, dict) else None
                if renewed or not (refusal.status == 401 or error in EXPIRED):
                    raise
                self._refresh()
        raise AssertionError("unreachable")

    def fetch(self, stream: Stream, state: dict[str, Any]) -> Page:
        since = since_bound(self.channel, state)
        mark = _moment(state.get("mark"))
        cursor = state["walk"]["next"] if state.get("walk") else None
        if stream.kind == "mentions":
            params: dict[str, Any] = {"limit": PAGE_SIZE, "reasons": list(MENTION_REASONS)}
            nsid, container, auth = "app.bsky.notification.listNotifications", "notifications", True
        else:
            query = f"#{stream.value}" if stream.kind == "tag" else stream.value
            lower = mark - SEARCH_OVERLAP if mark else since
            params = {"q": query, "sort": "latest", "limit": PAGE_SIZE, "since": _iso(lower) if lower else None}
            nsid, container, auth = "app.bsky.feed.searchPosts", "posts", False
        if cursor:
            params["cursor"] = cursor
        answer = self._call("GET", nsid, auth=auth, params={k: v for k, v in params.items() if v is not None})
        entries = answer.data.get(container) if isinstance(answer.data, dict) else None
        if not isinstance(entries, list):
            raise NetworkError(f"GET /xrpc/{nsid}: the answer has no {container} list")
        items = list(parser.parse_document({container: entries}, position=stream.key, source=parser.FORMAT))
        if stream.kind == "mentions":
            times = [m for m in (_moment(e.get("indexedAt")) for e in entries if isinstance(e, dict)) if m]
        else:
            times = [m for m in (sort_time(e) for e in entries) if m]
        bound = mark or since
        reached = not entries or (bound is not None and bool(times) and min(times) < bound)
        next_cursor = answer.data.get("cursor") if isinstance(answer.data.get("cursor"), str) else None
        return after_walk_page(
            keep_since(items, since), state, _iso(max(times)) if times else None, next_cursor, reached
        )

    def with_parents(self, items: list[ParsedItem]) -> list[ParsedItem]:
        """Read the posts that replies of ``items`` answer when they are neither among them nor stored.

        ``app.bsky.feed.getPosts``, 25 URIs a call, at most ``INCIDENTS_LISTEN_MAX_PARENTS``
        per batch: a reply to a post no stream read ("@ville toujours rien" under a report
        without the followed hashtag) then meets its report. A reply names its parent by its
        URI, the same everywhere, so a parent read later would place it too. Reading parents
        never fails the batch.
        """
        read = {item.record.external_id for item in items if item.record is not None}
        wanted = {item.record.reply_to for item in items if item.record is not None and item.record.reply_to} - read
        if not wanted:
            return items
        wanted -= set(
            Post.objects.filter(source=parser.FORMAT, external_id__in=wanted).values_list("external_id", flat=True)
        )
        uris = sorted(wanted)[: settings.INCIDENTS_LISTEN_MAX_PARENTS]
        parents: list[ParsedItem] = []
        for start in range(0, len(uris), GET_POSTS_MAX):
            try:
                chunk = uris[start : start + GET_POSTS_MAX]
                answer = self._call("GET", "app.bsky.feed.getPosts", auth=False, params={"uris": chunk})
            except NetworkError as error:
                # The replies left wait for their parent, which places them whenever a stream reads it.
                logger.warning("%s: parents of replies not read: %s", self.channel.name, error)
                break
            posts = answer.data.get("posts") if isinstance(answer.data, dict) else None
            if isinstance(posts, list):
                parents.extend(parser.parse_document({"posts": posts}, position="parents", source=parser.FORMAT))
        return [*parents, *items]

    def _did(self) -> str:
        if self.session is None:
            self._login()
        return self.session["did"]

    def _published(self, uri: str) -> Published:
        handle = (self.session or {}).get("handle") or self._did()
        return Published(uri, f"https://bsky.app/profile/{handle}/post/{uri.rsplit('/', 1)[-1]}")

    def publish(self, reply: IncidentReply, target: ReplyTarget) -> Published:
        post = target.post
        raw = post.raw if isinstance(post.raw, dict) else {}
        parent = {"uri": post.external_id, "cid": raw.get("cid")}
        if not parent["cid"]:
            raise Refused(f"{post.external_id}: its CID is unknown, a reply cannot point at it")
        record = raw.get("record") if isinstance(raw.get("record"), dict) else {}
        root = (record.get("reply") or {}).get("root") if isinstance(record.get("reply"), dict) else None
        body = {
            "repo": self._did(),
            "collection": parser.POST_TYPE,
            "rkey": reply_key(reply),
            "record": {
                "$type": parser.POST_TYPE,
                "text": self.compose(reply.text, post),
                "createdAt": _iso(timezone.now()),
                "langs": [reply.language],
                "reply": {"root": root if isinstance(root, dict) and root.get("cid") else parent, "parent": parent},
            },
        }
        try:
            answer = self._call("POST", "com.atproto.repo.createRecord", auth=True, retries=0, json=body)
        except Refused:
            # The key may already hold the reply (an earlier attempt that timed out): that is a success.
            found = self.find_published(reply, target)
            if found is None:
                raise
            return found
        return self._published(str(answer.data["uri"]))

    def find_published(self, reply: IncidentReply, target: ReplyTarget) -> Published | None:
        try:
            answer = self._call(
                "GET",
                "com.atproto.repo.getRecord",
                auth=True,
                params={"repo": self._did(), "collection": parser.POST_TYPE, "rkey": reply_key(reply)},
            )
        except Refused as refusal:
            if refusal.status in (400, 404):
                return None
            raise
        return self._published(str(answer.data["uri"]))
