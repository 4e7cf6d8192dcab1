"""
Bluesky (AT Protocol) posts: ``app.bsky.feed.defs#postView`` objects and the responses holding them.

A document is one post view, or a response of ``app.bsky.feed.searchPosts``
(``{"posts": [...]}``), of a feed (``{"feed": [feedViewPost...]}``),
``app.bsky.notification.listNotifications`` (``{"notifications": [...]}``) or
``app.bsky.feed.getPostThread`` (``{"thread": threadViewPost}``).

- The external id is the post's ``at://`` URI: the same whichever AppView or PDS served it.
- Text: ``record.text`` with each link facet's shortened text ("example.org/trav…")
  replaced by the full URI it stands for (facets count UTF-8 bytes); hashtags given
  only as facets or as the record's ``tags`` are appended, so that the locator and the
  classifier see them; mentions stay as written (``@handle``), their DIDs in the raw
  payload. A post with images but no text keeps their descriptions (``alt``).
- Images come from the ``app.bsky.embed.images#view`` (also inside ``recordWithMedia``),
  else from the record's blobs through the public CDN.
- ``record.reply.parent.uri`` is ``reply_to``, ``record.reply.root.uri`` ``thread_root``; a quote
  (``app.bsky.embed.record``, ``recordWithMedia``) is ``quote_of``, and the quoted post,
  when the view carries it, is stored too.
- A repost (a feed item with ``reason`` ``#reasonRepost``, a ``repost`` notification) is
  engagement of its original, never a post of its own. Mentions, replies and quotes in
  notifications are posts; other notifications (likes, follows) are not.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from incidents.inputs import RecordError

from .parsing import (
    MAX_HANDLE,
    ParsedItem,
    aware_datetime,
    check_record,
    count,
    http_url,
    identifier,
    language,
    optional_text,
    text_field,
)
from .record import PostRecord

FORMAT = "bluesky"
POST_TYPE = "app.bsky.feed.post"
FACET = "app.bsky.richtext.facet"
# Notifications that carry a post written by someone else (the city's account is named in it).
POST_NOTIFICATIONS = frozenset({"mention", "reply", "quote"})
# Images of a record without a view, through Bluesky's public CDN.
CDN_IMAGE = "https://cdn.bsky.app/img/feed_fullsize/plain/{did}/{cid}@jpeg"
_CONTAINERS = ("posts", "feed", "notifications", "thread")


def looks_like(document: Any) -> bool:
    """True when ``document`` is a post view or a response holding Bluesky posts."""
    if not isinstance(document, dict):
        return False
    if str(document.get("uri", "")).startswith("at://") and ("record" in document or "author" in document):
        return True
    return any(isinstance(document.get(name), list | dict) for name in _CONTAINERS) and "content" not in document


def parse_document(document: Any, *, position: str, source: str) -> Iterator[ParsedItem]:
    """Yield one item per post (or repost) in ``document``."""
    if not isinstance(document, dict):
        yield ParsedItem.rejected(position, "not a Bluesky post view (expected an object with 'uri' and 'record')")
        return
    where = f"{position} ".lstrip()
    if isinstance(document.get("posts"), list):
        for index, view in enumerate(document["posts"]):
            yield post_item(view, position=f"{where}posts[{index}]", source=source)
    elif isinstance(document.get("feed"), list):
        for index, entry in enumerate(document["feed"]):
            yield feed_item(entry, position=f"{where}feed[{index}]", source=source)
    elif isinstance(document.get("notifications"), list):
        for index, notification in enumerate(document["notifications"]):
            item = notification_item(notification, position=f"{where}notifications[{index}]", source=source)
            if item is not None:
                yield item
    elif isinstance(document.get("thread"), dict):
        yield from _thread_items(document["thread"], f"{where}thread", source)
    elif isinstance(document.get("post"), dict):
        yield feed_item(document, position=position, source=source)
    else:
        yield post_item(document, position=position, source=source)


def post_item(view: Any, *, position: str, source: str) -> ParsedItem:
    """Parse one post view; a quoted post the view carries is stored with it."""
    external_id = str(view.get("uri") or "") if isinstance(view, dict) else ""
    try:
        record = post_record(view, source)
        embedded = _quoted_records(view, source)
    except RecordError as error:
        return ParsedItem.rejected(position, str(error), external_id)
    return ParsedItem(position, record, external_id=record.external_id, embedded=embedded)


def feed_item(entry: Any, *, position: str, source: str) -> ParsedItem:
    """Parse one ``feedViewPost``: a post, or a repost of it (``reason`` ``#reasonRepost``)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("post"), dict):
        return ParsedItem.rejected(position, "not a Bluesky feed item (expected an object with 'post')")
    reason = entry.get("reason") if isinstance(entry.get("reason"), dict) else {}
    if not str(reason.get("$type", "")).endswith("#reasonRepost"):
        return post_item(entry["post"], position=position, source=source)
    try:
        original = post_record(entry["post"], source)
        by = reason.get("by") if isinstance(reason.get("by"), dict) else {}
        did = identifier(by.get("did"), "reason.by.did")
        # Newer AppViews give the repost record's own URI; one account reposts a post at most once.
        repost_id = optional_text(reason.get("uri"), 255) or f"{original.external_id}#repost-by-{did}"
        repost = _repost_record(repost_id, original.external_id, by, reason.get("indexedAt"), reason, source)
    except RecordError as error:
        return ParsedItem.rejected(position, str(error), str(entry["post"].get("uri") or ""))
    return ParsedItem(position, repost, external_id=repost.external_id, embedded=(original,))


def notification_item(notification: Any, *, position: str, source: str) -> ParsedItem | None:
    """Parse one notification: a post when it mentions, answers or quotes; ``None`` for likes and follows."""
    if not isinstance(notification, dict) or "reason" not in notification:
        return ParsedItem.rejected(position, "not a Bluesky notification (expected an object with 'reason')")
    reason = str(notification.get("reason"))
    external_id = str(notification.get("uri") or "")
    try:
        if reason in POST_NOTIFICATIONS:
            view = {key: notification.get(key) for key in ("uri", "cid", "author", "record", "indexedAt", "labels")}
            return ParsedItem(position, post_record(view, source), external_id=external_id)
        if reason == "repost":
            by = notification.get("author") if isinstance(notification.get("author"), dict) else {}
            record = notification.get("record") if isinstance(notification.get("record"), dict) else {}
            subject = identifier(notification.get("reasonSubject"), "reasonSubject")
            repost_id = identifier(notification.get("uri"), "uri")
            repost = _repost_record(
                repost_id, subject, by, record.get("createdAt") or notification.get("indexedAt"), notification, source
            )
            return ParsedItem(position, repost, external_id=repost.external_id)
    except RecordError as error:
        return ParsedItem.rejected(position, str(error), external_id)
    return None


def _thread_items(node: dict[str, Any], position: str, source: str) -> Iterator[ParsedItem]:
    """Yield the posts of a ``threadViewPost``: itself, its parents, its replies (not those not found or blocked)."""
    if not isinstance(node.get("post"), dict):
        return
    yield post_item(node["post"], position=position, source=source)
    if isinstance(node.get("parent"), dict):
        yield from _thread_items(node["parent"], f"{position} parent", source)
    replies = node.get("replies") if isinstance(node.get("replies"), list) else []
    for index, reply in enumerate(replies):
        if isinstance(reply, dict):
            yield from _thread_items(reply, f"{position} replies[{index}]", source)


def _repost_record(
    repost_id: str, original_id: str, by: dict[str, Any], when: Any, raw: dict[str, Any], source: str
) -> PostRecord:
    return check_record(
        PostRecord(
            source=source,
            external_id=identifier(repost_id, "uri"),
            text="",
            posted_at=aware_datetime(when, "indexedAt"),
            author_handle=optional_text(by.get("handle"), MAX_HANDLE),
            author_id=optional_text(by.get("did"), MAX_HANDLE),
            repost_of=original_id,
            raw=raw,
        )
    )


def post_record(view: Any, source: str) -> PostRecord:
    """Build the record of one post view; raise :class:`RecordError` if it is not a valid post."""
    if not isinstance(view, dict):
        raise RecordError("expected a post view object")
    uri = identifier(view.get("uri"), "uri")
    if not uri.startswith("at://"):
        raise RecordError(f"uri {uri[:60]!r} is not an at:// URI")
    record = view.get("record")
    if not isinstance(record, dict):
        raise RecordError("record is missing: not a post view")
    if record.get("$type", POST_TYPE) != POST_TYPE:
        raise RecordError(f"record is a {record.get('$type')}, not a post")
    author = view.get("author") if isinstance(view.get("author"), dict) else {}
    did = optional_text(author.get("did"), MAX_HANDLE)
    handle = optional_text(author.get("handle"), MAX_HANDLE)
    media = _media(view, record, did)

    text = _text(record)
    if not text:
        text = "\n".join(alt for _url, alt in media if alt)
    text = text_field(text, "record.text", required=True)
    langs = record.get("langs") if isinstance(record.get("langs"), list) else []
    rkey = uri.rsplit("/", 1)[-1]
    return check_record(
        PostRecord(
            source=source,
            external_id=uri,
            text=text,
            posted_at=aware_datetime(record.get("createdAt") or view.get("indexedAt"), "record.createdAt"),
            url=http_url(f"https://bsky.app/profile/{handle or did}/post/{rkey}") if handle or did else "",
            author_handle=handle,
            author_id=did,
            language=language(langs[0]) if langs else "",
            media_urls=[url for url, _alt in media if url],
            like_count=count(view.get("likeCount"), "likeCount"),
            repost_count=count(view.get("repostCount"), "repostCount"),
            reply_count=count(view.get("replyCount"), "replyCount"),
            quote_count=count(view.get("quoteCount"), "quoteCount"),
            reply_to=(parent := _ref_uri(_dict(record.get("reply")).get("parent"), "record.reply.parent.uri")),
            reply_to_author=_author_of(parent),
            thread_root=_root(record, parent),
            quote_of=_quoted_uri(record),
            raw=view,
        )
    )


def _author_of(uri: str) -> str:
    """The DID of the account that wrote the post ``uri`` (``at://DID/collection/rkey``), or ""."""
    authority = uri.removeprefix("at://").split("/", 1)[0] if uri.startswith("at://") else ""
    return authority[:MAX_HANDLE] if authority.startswith("did:") else ""


def _root(record: dict[str, Any], parent: str) -> str:
    """The first post of the conversation, when it is not the post replied to."""
    root = _ref_uri(_dict(record.get("reply")).get("root"), "record.reply.root.uri")
    return "" if root == parent else root


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _ref_uri(ref: Any, name: str) -> str:
    """Return the ``uri`` of a strong reference (``{uri, cid}``), ``""`` when there is none."""
    if ref is None:
        return ""
    uri = identifier(_dict(ref).get("uri"), name)
    if not uri.startswith("at://"):
        raise RecordError(f"{name}: {uri[:60]!r} is not an at:// URI")
    return uri


def _quoted_uri(record: dict[str, Any]) -> str:
    embed = _dict(record.get("embed"))
    kind = embed.get("$type")
    if kind == "app.bsky.embed.record":
        return _ref_uri(embed.get("record"), "record.embed.record.uri")
    if kind == "app.bsky.embed.recordWithMedia":
        return _ref_uri(_dict(embed.get("record")).get("record"), "record.embed.record.record.uri")
    return ""


def _text(record: dict[str, Any]) -> str:
    """Return the record's text, link facets expanded to their URIs, hashtags known only as facets or tags appended."""
    text = text_field(record.get("text"), "record.text")
    data = text.encode("utf-8")
    links: list[tuple[int, int, str]] = []
    tags: list[str] = []
    facets = record.get("facets") if isinstance(record.get("facets"), list) else []
    for facet in facets:
        index = _dict(_dict(facet).get("index"))
        start, end = index.get("byteStart"), index.get("byteEnd")
        features = _dict(facet).get("features") if isinstance(_dict(facet).get("features"), list) else []
        for feature in features:
            kind = _dict(feature).get("$type")
            if kind == f"{FACET}#link":
                uri = http_url(feature.get("uri"))
                # A facet pointing outside the text, or across another one, is ignored: the text stays as written.
                if uri and isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(data):
                    links.append((start, end, uri))
            elif kind == f"{FACET}#tag":
                tags.append(optional_text(feature.get("tag"), 64))
    extra_tags = record.get("tags") if isinstance(record.get("tags"), list) else []
    tags.extend(optional_text(tag, 64) for tag in extra_tags)

    pieces: list[bytes] = []
    position = 0
    for start, end, uri in sorted(links):
        if start < position:
            continue
        pieces.extend([data[position:start], uri.encode("utf-8")])
        position = end
    pieces.append(data[position:])
    text = b"".join(pieces).decode("utf-8", errors="replace")
    written = text.lower()
    missing = [f"#{tag}" for tag in dict.fromkeys(tag for tag in tags if tag) if f"#{tag.lower()}" not in written]
    return " ".join([text, *missing]).strip() if missing else text


def _media(view: dict[str, Any], record: dict[str, Any], did: str) -> list[tuple[str, str]]:
    """``(url, alt)`` of each image: from the view's embed, else from the record's blobs."""
    embed = _dict(view.get("embed"))
    if embed.get("$type") == "app.bsky.embed.recordWithMedia#view":
        embed = _dict(embed.get("media"))
    if embed.get("$type") == "app.bsky.embed.images#view" and isinstance(embed.get("images"), list):
        return [
            (http_url(image.get("fullsize") or image.get("thumb")), text_field(image.get("alt"), "alt"))
            for image in embed["images"]
            if isinstance(image, dict)
        ]
    embed = _dict(record.get("embed"))
    if embed.get("$type") == "app.bsky.embed.recordWithMedia":
        embed = _dict(embed.get("media"))
    if embed.get("$type") != "app.bsky.embed.images" or not isinstance(embed.get("images"), list):
        return []
    media = []
    for image in embed["images"]:
        blob = _dict(_dict(image).get("image"))
        cid = optional_text(_dict(blob.get("ref")).get("$link"), 255)
        url = http_url(CDN_IMAGE.format(did=did, cid=cid)) if did and cid else ""
        media.append((url, text_field(_dict(image).get("alt"), "alt")))
    return media


def _quoted_records(view: Any, source: str) -> tuple[PostRecord, ...]:
    """Return the quoted post carried by the view (``app.bsky.embed.record#viewRecord``), if complete."""
    embed = _dict(_dict(view).get("embed"))
    if embed.get("$type") == "app.bsky.embed.recordWithMedia#view":
        embed = _dict(embed.get("record"))
    quoted = _dict(embed.get("record"))
    if str(embed.get("$type") or "").startswith("app.bsky.embed.record") and str(quoted.get("$type") or "").endswith(
        "#viewRecord"
    ):
        embeds = quoted.get("embeds") if isinstance(quoted.get("embeds"), list) else []
        as_view = {**quoted, "record": quoted.get("value"), "embed": embeds[0] if embeds else None}
        try:
            return (post_record(as_view, source),)
        except RecordError:
            return ()  # an incomplete view; the post itself may still arrive on its own
    return ()
