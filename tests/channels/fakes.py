"""
Local stand-ins for Mastodon, Bluesky and X, served on 127.0.0.1 by threads of the test process.

Each speaks the subset of its network's API that the channels use, from data the test
puts in (``add_status``, ``add_post``, ``add_tweet``), and can be told to misbehave on
the next matching requests (:meth:`FakeNetwork.fail`): answer 429 with a reset header,
answer 500, time out, send malformed JSON, or store a write and time out before
answering. Every request is logged (method, path, query, headers, body) for the tests'
assertions. ``bench/bench_listen.py`` serves its statuses with the same classes.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _moment(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass
class Fault:
    """A misbehaviour for the next ``times`` requests whose path contains ``path`` (and of ``method``)."""

    kind: str  # 429, 500, timeout, malformed, store_then_timeout
    path: str = ""
    method: str = ""
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 1.0


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


class Answer(Exception):
    """An answer other than 200 from a route (raised for brevity)."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY each answer would wait ~40 ms for a delayed ACK.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # quiet
        pass

    def do_GET(self):
        self.server.network.serve(self)

    def do_POST(self):
        self.server.network.serve(self)


class FakeNetwork:
    """A threaded HTTP server whose routes are the subclass's ``route`` method."""

    def __init__(self):
        self.lock = threading.RLock()
        self.faults: list[Fault] = []
        self.log: list[Request] = []
        self.on_served: Callable[[Request], None] | None = None
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.network = self
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeNetwork:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def fail(self, kind: str, *, path: str = "", method: str = "", times: int = 1, **options) -> None:
        """Misbehave (``kind``) on the next ``times`` matching requests."""
        with self.lock:
            self.faults.append(Fault(str(kind), path, method, times, **options))

    def requests_to(self, path: str, method: str | None = None) -> list[Request]:
        with self.lock:
            return [r for r in self.log if path in r.path and (method is None or r.method == method)]

    def _fault(self, request: Request) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.path in request.path and fault.method in ("", request.method):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = parse_qs(raw.decode())
        request = Request(handler.command, parts.path, parse_qs(parts.query), dict(handler.headers.items()), body)
        with self.lock:
            self.log.append(request)
        fault = self._fault(request)
        if fault is not None and fault.kind == "timeout":
            time.sleep(fault.delay)  # the client gave up meanwhile; nothing is done
            self._write(handler, 504, {"error": "too late"}, {})
            return
        if fault is not None and fault.kind in ("429", "500"):
            status = int(fault.kind)
            self._write(handler, status, {"error": "RateLimitExceeded" if status == 429 else "Internal"}, fault.headers)
            return
        try:
            with self.lock:
                status, data, headers = 200, *self.route(request)
        except Answer as answer:
            status, data, headers = answer.status, answer.body, answer.headers
        if fault is not None and fault.kind == "store_then_timeout":
            time.sleep(fault.delay)  # stored; the answer comes after the client gave up
        payload = json.dumps(data).encode()
        if fault is not None and fault.kind == "malformed":
            payload = payload[: len(payload) // 2] or b"{"
        self._write(handler, status, payload, headers)
        if self.on_served is not None:
            self.on_served(request)

    @staticmethod
    def _write(handler, status: int, data: Any, headers: dict[str, str]) -> None:
        payload = data if isinstance(data, bytes) else json.dumps(data).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json; charset=utf-8")
            handler.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and left

    def route(self, request: Request) -> tuple[Any, dict[str, str]]:
        raise NotImplementedError

    @staticmethod
    def bearer(request: Request) -> str:
        value = request.headers.get("Authorization", "")
        return value.removeprefix("Bearer ") if value.startswith("Bearer ") else ""


# --- Mastodon -----------------------------------------------------------------------------------


class FakeMastodon(FakeNetwork):
    """Tag timelines, notifications, search and posting of one Mastodon instance."""

    def __init__(self, domain: str = "mastodon.test", token: str = "mastodon-token"):  # noqa: S107
        super().__init__()
        self.domain = domain
        self.tokens = {token}
        self.statuses: dict[int, dict] = {}
        self.notifications: dict[int, dict] = {}
        self.idempotency: dict[tuple[str, str], dict] = {}
        self.ids = itertools.count(109_000_000_000_000_000, 7)

    def account(self, name: str) -> dict:
        return {
            "id": str(abs(hash((self.domain, name))) % 10**9),
            "username": name,
            "acct": name,
            "url": f"https://{self.domain}/@{name}",
        }

    def add_status(
        self, text: str, *, tags: tuple[str, ...] = (), author: str = "alice", at: dt.datetime | None = None,
        mention: bool = False, uri: str | None = None, **fields,
    ) -> dict:  # fmt: skip
        """A status on the instance (``uri`` given: a remote status, the same as on another instance)."""
        with self.lock:
            status_id = next(self.ids)
            status = {
                "id": str(status_id),
                "uri": uri or f"https://{self.domain}/users/{author}/statuses/{status_id}",
                "url": f"https://{self.domain}/@{author}/{status_id}",
                "created_at": iso(at or now()),
                "content": f"<p>{html.escape(text)}</p>",
                "spoiler_text": "",
                "visibility": "public",
                "language": "fr",
                "account": self.account(author),
                "tags": [{"name": tag.lower()} for tag in tags],
                "media_attachments": [],
                "reblog": None,
                "in_reply_to_id": None,
                "favourites_count": 0,
                "reblogs_count": 0,
                "replies_count": 0,
                **fields,
            }
            self.statuses[status_id] = status
            if mention:
                notification_id = next(self.ids)
                self.notifications[notification_id] = {
                    "id": str(notification_id),
                    "type": "mention",
                    "created_at": status["created_at"],
                    "account": status["account"],
                    "status": status,
                }
            return status

    def delete(self, status_id: str) -> None:
        with self.lock:
            self.statuses.pop(int(status_id), None)

    def posted(self) -> list[dict]:
        """Statuses created through the API (the city's replies)."""
        with self.lock:
            return [status for status in self.statuses.values() if status["account"]["username"] == "ville"]

    def _auth(self, request: Request, required: bool) -> None:
        token = self.bearer(request)
        if (required or token) and token not in self.tokens:
            raise Answer(401, {"error": "The access token is invalid"})

    def _page(self, request: Request, entries: list[dict]) -> tuple[list[dict], dict[str, str]]:
        limit = min(int(request.param("limit", "20")), 40)
        max_id, since_id, min_id = (
            int(value) if (value := request.param(name)) else None for name in ("max_id", "since_id", "min_id")
        )
        chosen = sorted(
            (
                entry
                for entry in entries
                if (max_id is None or int(entry["id"]) < max_id)
                and (since_id is None or int(entry["id"]) > since_id)
                and (min_id is None or int(entry["id"]) > min_id)
            ),
            key=lambda entry: int(entry["id"]),
            reverse=min_id is None,
        )[:limit]
        if min_id is not None:
            chosen.reverse()  # the statuses just after min_id, newest first as always
        if not chosen:
            return chosen, {}
        base = f"{self.url}{request.path}"
        link = f'<{base}?max_id={chosen[-1]["id"]}>; rel="next", <{base}?min_id={chosen[0]["id"]}>; rel="prev"'
        return chosen, {"Link": link}

    def route(self, request: Request) -> tuple[Any, dict[str, str]]:
        path = request.path
        if request.method == "GET" and path.startswith("/api/v1/timelines/tag/"):
            self._auth(request, required=False)
            tag = path.rsplit("/", 1)[-1].lower()
            return self._page(request, [s for s in self.statuses.values() if tag in [t["name"] for t in s["tags"]]])
        if request.method == "GET" and path == "/api/v1/notifications":
            self._auth(request, required=True)
            types = request.query.get("types[]") or ["mention"]
            notifications = [
                n for n in self.notifications.values() if n["type"] in types and int(n["status"]["id"]) in self.statuses
            ]
            return self._page(request, notifications)
        if request.method == "GET" and path == "/api/v2/search":
            self._auth(request, required=True)
            query = (request.param("q") or "").lower()
            if query.startswith("https://"):
                found = [s for s in self.statuses.values() if s["uri"].lower() == query]
            else:
                found = [s for s in self.statuses.values() if all(w in s["content"].lower() for w in query.split())]
            statuses, _links = self._page(request, found)
            return {"accounts": [], "statuses": statuses, "hashtags": []}, {}
        if request.method == "GET" and path.startswith("/api/v1/statuses/"):
            self._auth(request, required=False)
            status = self.statuses.get(int(path.rsplit("/", 1)[-1]) if path.rsplit("/", 1)[-1].isdigit() else -1)
            if status is None or status["visibility"] not in ("public", "unlisted"):
                raise Answer(404, {"error": "Record not found"})
            return status, {}
        if request.method == "POST" and path == "/api/v1/statuses":
            self._auth(request, required=True)
            key = (self.bearer(request), request.headers.get("Idempotency-Key", ""))
            if key[1] and key in self.idempotency:
                return self.idempotency[key], {}
            body = request.body or {}
            reply_to = body.get("in_reply_to_id")
            if reply_to and int(reply_to) not in self.statuses:
                raise Answer(404, {"error": "Record not found"})
            status = self.add_status(
                body.get("status", ""), author="ville", in_reply_to_id=body.get("in_reply_to_id"),
                visibility=body.get("visibility", "public"),
            )  # fmt: skip
            status["content"] = f"<p>{html.escape(body.get('status', ''))}</p>"
            if key[1]:
                self.idempotency[key] = status
            return status, {}
        raise Answer(404, {"error": "Record not found"})


# --- Bluesky ------------------------------------------------------------------------------------


def _cursor(key: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def _uncursor(cursor: str) -> tuple[str, str]:
    return tuple(json.loads(base64.urlsafe_b64decode(cursor.encode())))


class FakeBluesky(FakeNetwork):
    """searchPosts, sessions, notifications and records of a Bluesky PDS with its AppView."""

    def __init__(self, handle: str = "ville.test", password: str = "app-password"):  # noqa: S107
        super().__init__()
        self.handle, self.password, self.did = handle, password, "did:plc:ville"
        self.posts: dict[str, dict] = {}
        self.sort_keys: dict[str, str] = {}
        self.notifications: list[dict] = []
        self.records: dict[str, dict] = {}  # uri → {"uri", "cid", "value"}
        self.sessions: dict[str, str] = {}  # access token → "ok" | "expired"
        self.refresh_tokens: set[str] = set()
        self.counter = itertools.count(1)
        self.search_needs_auth = False

    def add_post(
        self, text: str, *, tags: tuple[str, ...] = (), author: str = "alice", at: dt.datetime | None = None,
        indexed_at: dt.datetime | None = None, mention: bool = False, **fields,
    ) -> dict:  # fmt: skip
        """A post with tag facets for ``tags`` (appended as #tag); ``mention``: a mention facet of the city."""
        with self.lock:
            number = next(self.counter)
            facets = []
            for tag in tags:
                text = f"{text} #{tag}"
                end = len(text.encode())
                facets.append(
                    self._facet(end - len(tag.encode()) - 1, end, {"$type": "app.bsky.richtext.facet#tag", "tag": tag})
                )
            if mention:
                text = f"{text} @{self.handle}"
                end = len(text.encode())
                facets.append(
                    self._facet(
                        end - len(self.handle) - 1, end, {"$type": "app.bsky.richtext.facet#mention", "did": self.did}
                    )
                )
            created = at or now()
            record = {"$type": "app.bsky.feed.post", "text": text, "createdAt": iso(created), "langs": ["fr"],
                      "facets": facets, **fields.pop("record", {})}  # fmt: skip
            view = {
                "uri": f"at://did:plc:{author}/app.bsky.feed.post/3k{number:011d}",
                "cid": f"bafyrei{number:020d}",
                "author": {"did": f"did:plc:{author}", "handle": f"{author}.bsky.social"},
                "record": record,
                "indexedAt": iso(indexed_at or created),
                "likeCount": 0, "repostCount": 0, "replyCount": 0, "quoteCount": 0,
                **fields,
            }  # fmt: skip
            self.posts[view["uri"]] = view
            if mention:
                self.notifications.append(
                    {key: view[key] for key in ("uri", "cid", "author", "record", "indexedAt")}
                    | {"reason": "mention", "isRead": False, "labels": []}
                )
            return view

    @staticmethod
    def _facet(start: int, end: int, feature: dict) -> dict:
        return {"index": {"byteStart": start, "byteEnd": end}, "features": [feature]}

    def delete(self, uri: str) -> None:
        with self.lock:
            self.posts.pop(uri, None)

    def expire_sessions(self) -> None:
        with self.lock:
            self.sessions = dict.fromkeys(self.sessions, "expired")

    def _session(self) -> dict:
        number = next(self.counter)
        access, refresh = f"access-{number}", f"refresh-{number}"
        self.sessions[access] = "ok"
        self.refresh_tokens.add(refresh)
        return {"accessJwt": access, "refreshJwt": refresh, "did": self.did, "handle": self.handle}

    def _auth(self, request: Request) -> None:
        state = self.sessions.get(self.bearer(request))
        if state is None:
            raise Answer(401, {"error": "AuthenticationRequired", "message": "Authentication Required"})
        if state == "expired":
            raise Answer(400, {"error": "ExpiredToken", "message": "Token has expired"})

    def sort_at(self, view: dict) -> str:
        """Where ``sort=latest`` places a post: the earlier of its creation and indexing (kept per post)."""
        if view["uri"] not in self.sort_keys:
            created, indexed = _moment(view["record"]["createdAt"]), _moment(view["indexedAt"])
            self.sort_keys[view["uri"]] = iso(min(created, indexed))
        return self.sort_keys[view["uri"]]

    def _keyset(self, request: Request, entries: list[dict], key: Callable[[dict], str]) -> tuple[list, str | None]:
        limit = min(int(request.param("limit", "25")), 100)
        ordered = sorted(entries, key=lambda e: (key(e), e["uri"]), reverse=True)
        if cursor := request.param("cursor"):
            after = _uncursor(cursor)
            ordered = [e for e in ordered if (key(e), e["uri"]) < after]
        page = ordered[:limit]
        more = len(ordered) > limit
        return page, _cursor((key(page[-1]), page[-1]["uri"])) if more else None

    def route(self, request: Request) -> tuple[Any, dict[str, str]]:
        nsid = request.path.removeprefix("/xrpc/")
        body = request.body or {}
        if nsid == "com.atproto.server.createSession":
            if body.get("identifier") not in (self.handle, self.did) or body.get("password") != self.password:
                raise Answer(401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"})
            return self._session(), {}
        if nsid == "com.atproto.server.refreshSession":
            if self.bearer(request) not in self.refresh_tokens:
                raise Answer(400, {"error": "ExpiredToken", "message": "Token has been revoked"})
            self.refresh_tokens.discard(self.bearer(request))
            return self._session(), {}
        if nsid == "app.bsky.feed.searchPosts":
            if self.search_needs_auth or self.bearer(request):
                self._auth(request)
            query = (request.param("q") or "").lower()
            since = request.param("since")

            def matches(view: dict) -> bool:
                if query.startswith("#"):
                    tags = [
                        feature.get("tag", "").lower()
                        for facet in view["record"].get("facets", [])
                        for feature in facet["features"]
                    ]
                    return query[1:] in tags
                return all(word in view["record"]["text"].lower() for word in query.split())

            since = iso(_moment(since)) if since else ""
            found = [v for v in self.posts.values() if matches(v) and self.sort_at(v) >= since]
            posts, cursor = self._keyset(request, found, self.sort_at)
            return {"posts": posts, **({"cursor": cursor} if cursor else {})}, {}
        if nsid == "app.bsky.feed.getPosts":
            uris = request.query.get("uris") or []
            if len(uris) > 25:
                raise Answer(400, {"error": "InvalidRequest", "message": "uris must not have more than 25 elements"})
            return {"posts": [self.posts[uri] for uri in uris if uri in self.posts]}, {}
        if nsid == "app.bsky.notification.listNotifications":
            self._auth(request)
            reasons = request.query.get("reasons") or []
            found = [
                n for n in self.notifications if (not reasons or n["reason"] in reasons) and n["uri"] in self.posts
            ]
            notifications, cursor = self._keyset(request, found, lambda n: n["indexedAt"])
            return {"notifications": notifications, **({"cursor": cursor} if cursor else {})}, {}
        if nsid == "com.atproto.repo.createRecord":
            self._auth(request)
            if body.get("repo") != self.did:
                raise Answer(400, {"error": "InvalidRequest", "message": "repo is not the session's"})
            rkey = body.get("rkey") or f"3l{next(self.counter):011d}"
            uri = f"at://{self.did}/{body['collection']}/{rkey}"
            if uri in self.records:
                raise Answer(400, {"error": "InvalidRequest", "message": f"Record already exists at {uri}"})
            self.records[uri] = {"uri": uri, "cid": f"bafyreply{next(self.counter):016d}", "value": body["record"]}
            return {"uri": uri, "cid": self.records[uri]["cid"]}, {}
        if nsid == "com.atproto.repo.getRecord":
            uri = f"at://{request.param('repo')}/{request.param('collection')}/{request.param('rkey')}"
            if uri not in self.records:
                raise Answer(400, {"error": "RecordNotFound", "message": f"Could not locate record: {uri}"})
            return self.records[uri], {}
        raise Answer(501, {"error": "MethodNotImplemented"})


# --- X ------------------------------------------------------------------------------------------

_TOKEN = re.compile(r'"[^"]*"|\(|\)|[^\s()]+')


def _parse_query(tokens: list[str]) -> tuple:
    def either() -> tuple:
        terms = [both()]
        while tokens and tokens[0] == "OR":
            tokens.pop(0)
            terms.append(both())
        return ("or", terms)

    def both() -> tuple:
        terms = []
        while tokens and tokens[0] not in ("OR", ")"):
            token = tokens.pop(0)
            if token == "(":
                terms.append(either())
                tokens.pop(0)  # ")"
            else:
                terms.append(("term", token))
        return ("and", terms)

    return either()


class FakeX(FakeNetwork):
    """Recent search and posting of the X API v2."""

    def __init__(self, token: str = "x-token", account: str = "VilleToulouse"):  # noqa: S107
        super().__init__()
        self.tokens = {token}
        self.account = account
        self.tweets: dict[int, dict] = {}
        self.ids = itertools.count(1_800_000_000_000_000_000, 13)
        self.users: dict[str, dict] = {}
        self.remaining = 450

    def user(self, name: str) -> dict:
        return self.users.setdefault(name, {"id": str(10_000 + len(self.users)), "username": name, "name": name})

    def add_tweet(
        self, text: str, *, author: str = "alice", at: dt.datetime | None = None, retweet_of: dict | None = None,
        reply_to: str | None = None, **fields,
    ) -> dict:  # fmt: skip
        with self.lock:
            tweet_id = next(self.ids)
            references = []
            if retweet_of is not None:
                text = f"RT @{self._author(retweet_of)}: {retweet_of['text']}"
                references.append({"type": "retweeted", "id": retweet_of["id"]})
            if reply_to is not None:
                references.append({"type": "replied_to", "id": reply_to})
            tweet = {
                "id": str(tweet_id),
                "text": text,
                "author_id": self.user(author)["id"],
                "created_at": iso(at or now()),
                "lang": "fr",
                "conversation_id": str(tweet_id),
                "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 0, "quote_count": 0},
                **({"referenced_tweets": references} if references else {}),
                **fields,
            }
            self.tweets[tweet_id] = tweet
            return tweet

    def _author(self, tweet: dict) -> str:
        return next(user["username"] for user in self.users.values() if user["id"] == tweet["author_id"])

    def delete(self, tweet_id: str) -> None:
        with self.lock:
            self.tweets.pop(int(tweet_id), None)

    def posted(self) -> list[dict]:
        with self.lock:
            return [t for t in self.tweets.values() if t["author_id"] == self.user(self.account)["id"]]

    def _matches(self, node: tuple, tweet: dict) -> bool:
        kind, value = node
        if kind == "or":
            return any(self._matches(term, tweet) for term in value)
        if kind == "and":
            return all(self._matches(term, tweet) for term in value)
        text = tweet["text"].lower()
        term = value.lower()
        if term.startswith("from:"):
            return self._author(tweet).lower() == term[5:]
        if term.startswith("in_reply_to_tweet_id:"):
            return any(r["type"] == "replied_to" and r["id"] == term[21:] for r in tweet.get("referenced_tweets", []))
        if term == "-is:retweet":
            return not any(r["type"] == "retweeted" for r in tweet.get("referenced_tweets", []))
        return term.strip('"') in text

    def route(self, request: Request) -> tuple[Any, dict[str, str]]:
        if self.bearer(request) not in self.tokens:
            raise Answer(401, {"title": "Unauthorized", "status": 401, "detail": "Unauthorized"})
        reset = str(int(time.time()) + 900)
        headers = {
            "x-rate-limit-limit": "450",
            "x-rate-limit-remaining": str(self.remaining),
            "x-rate-limit-reset": reset,
        }
        if request.method == "GET" and request.path == "/2/tweets/search/recent":
            limit = int(request.param("max_results", "10"))
            if not 10 <= limit <= 100:
                raise Answer(400, {"title": "Invalid Request", "detail": "max_results must be 10..100"})
            query = _parse_query(_TOKEN.findall(request.param("query") or ""))
            since_id = int(request.param("since_id") or 0)
            start = request.param("start_time")
            below = int(request.param("next_token")[1:]) if request.param("next_token") else None
            found = sorted(
                (
                    t
                    for t in self.tweets.values()
                    if int(t["id"]) > since_id
                    and (below is None or int(t["id"]) < below)
                    and (not start or _moment(t["created_at"]) >= _moment(start))
                    and self._matches(query, t)
                ),
                key=lambda t: int(t["id"]),
                reverse=True,
            )
            page = found[:limit]
            if not page:
                return {"meta": {"result_count": 0}}, headers
            referenced = [
                self.tweets[int(r["id"])]
                for t in page
                for r in t.get("referenced_tweets", [])
                if int(r["id"]) in self.tweets
            ]
            authors = {t["author_id"] for t in page + referenced}
            meta = {"newest_id": page[0]["id"], "oldest_id": page[-1]["id"], "result_count": len(page)}
            if len(found) > limit:
                meta["next_token"] = f"n{page[-1]['id']}"
            includes = {"users": [u for u in self.users.values() if u["id"] in authors]}
            if referenced:
                includes["tweets"] = referenced
            return {"data": page, "includes": includes, "meta": meta}, headers
        if request.method == "POST" and request.path == "/2/tweets":
            body = request.body or {}
            text = body.get("text", "")
            if any(t["text"] == text for t in self.posted()):
                raise Answer(
                    403, {"detail": "You are not allowed to create a Tweet with duplicate content.", "status": 403}
                )
            reply = (body.get("reply") or {}).get("in_reply_to_tweet_id")
            tweet = self.add_tweet(text, author=self.account, reply_to=reply)
            raise Answer(201, {"data": {"id": tweet["id"], "text": text}}, headers)
        raise Answer(404, {"title": "Not Found"})
