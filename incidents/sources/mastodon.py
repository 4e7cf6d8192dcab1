"""
Mastodon status objects (REST API ``/api/v1/statuses``, timelines, search, streaming).

A file holds one status, an array of statuses (a timeline page), a search result
(``{"statuses": [...]}``), notifications (a ``mention`` carries the status that names
the account; other types are no posts) or one of those per line.

- The external id is the status ``uri``: the ActivityPub id is the same whichever
  instance the status was fetched from, while ``id`` is local to each instance. For
  the same reason ``in_reply_to_id`` (a local id) is not ``reply_to``: it is kept as
  ``reply_to_local``, beside the status's own ``id`` (``local_id``), so that a reply
  finds its parent when both were read from the same instance.
- Account ids are local to each instance too: an author is named by their profile
  ``url`` (``account.url``, the same on every instance; ``id`` when there is none), and
  the account a reply answers (``in_reply_to_account_id``, a local id) by the profile
  ``url`` of the mention that has that id. So a reply read from another instance than
  its parent still names the parent's author (:mod:`incidents.pipeline.thread`).
- ``content`` is HTML: it becomes plain text (:func:`html_to_text`); a content warning
  (``spoiler_text``) comes first; a post with only media keeps the media descriptions
  as its text.
- A boost (``reblog`` set) becomes a repost record of ``reblog.uri``; the boosted
  status is stored as a post with its own counts.
- Only public and unlisted statuses are ingested: private and direct messages are
  rejected, the city listens to public posts only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from incidents.inputs import RecordError

from .htmltext import html_to_text
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

FORMAT = "mastodon"
# Mastodon's ids are 18-digit numbers; other servers' ids are short strings.
MAX_LOCAL_ID = 64
PUBLIC_VISIBILITIES = frozenset({"public", "unlisted", ""})


def looks_like(document: Any) -> bool:
    """True when ``document`` is a status, a search result holding statuses or a notification."""
    return isinstance(document, dict) and (
        ("content" in document and "account" in document)
        or "statuses" in document
        or {"type", "account", "status"} <= document.keys()
    )


def parse_document(document: Any, *, position: str, source: str) -> Iterator[ParsedItem]:
    """Yield one item per status in ``document`` (a status or a search result)."""
    if isinstance(document, dict) and "statuses" in document and "content" not in document:
        statuses = document["statuses"] if isinstance(document["statuses"], list) else []
        for index, status in enumerate(statuses):
            yield status_item(status, position=f"{position} statuses[{index}]".strip(), source=source)
        return
    if isinstance(document, dict) and "type" in document and "content" not in document:
        if document["type"] == "mention":
            yield status_item(document.get("status"), position=f"{position} status".strip(), source=source)
        return
    yield status_item(document, position=position, source=source)


def status_item(status: Any, *, position: str, source: str) -> ParsedItem:
    """Parse one status; a boost yields a repost record with the boosted status embedded."""
    if not isinstance(status, dict) or ("content" not in status and "reblog" not in status):
        return ParsedItem.rejected(position, "not a Mastodon status (expected an object with 'content' and 'account')")
    external_id = str(status.get("uri") or status.get("id") or "")
    visibility = str(status.get("visibility") or "")
    if visibility not in PUBLIC_VISIBILITIES:
        return ParsedItem.rejected(position, f"not public (visibility={visibility}): only public posts are ingested")
    try:
        reblog = status.get("reblog")
        if isinstance(reblog, dict):
            original = status_record(reblog, source)
            record = status_record(status, source, repost_of=original.external_id)
            return ParsedItem(position, record, external_id=record.external_id, embedded=(original,))
        record = status_record(status, source)
    except RecordError as error:
        return ParsedItem.rejected(position, str(error), external_id)
    return ParsedItem(position, record, external_id=record.external_id)


def status_record(status: dict[str, Any], source: str, *, repost_of: str = "") -> PostRecord:
    """Build the record of one status; raise :class:`RecordError` if it is not a valid post."""
    external_id = identifier(status.get("uri") or status.get("url") or status.get("id"), "uri")
    account = status.get("account") if isinstance(status.get("account"), dict) else {}
    media = status.get("media_attachments")
    attachments = [m for m in media if isinstance(m, dict)] if isinstance(media, list) else []

    text = ""
    if not repost_of:
        parts = [text_field(status.get("spoiler_text"), "spoiler_text"), html_to_text(str(status.get("content") or ""))]
        text = "\n\n".join(part for part in parts if part)
        if not text:
            text = "\n".join(text_field(m.get("description"), "description") for m in attachments).strip()
        text = text_field(text, "content", required=True)

    return check_record(
        PostRecord(
            source=source,
            external_id=external_id,
            text=text,
            posted_at=aware_datetime(status.get("created_at"), "created_at"),
            url=http_url(status.get("url")),
            author_handle=optional_text(account.get("acct") or account.get("username"), MAX_HANDLE),
            author_id=optional_text(_account_key(account), MAX_HANDLE),
            language=language(status.get("language")),
            media_urls=[url for url in (http_url(m.get("url") or m.get("remote_url")) for m in attachments) if url],
            like_count=count(status.get("favourites_count"), "favourites_count"),
            repost_count=count(status.get("reblogs_count"), "reblogs_count"),
            reply_count=count(status.get("replies_count"), "replies_count"),
            quote_count=count(status.get("quotes_count"), "quotes_count"),
            repost_of=repost_of,
            local_id=_local_id(status.get("id")),
            reply_to_local=_local_id(status.get("in_reply_to_id")),
            reply_to_author=optional_text(_replied_account(status, account), MAX_HANDLE),
            raw=status,
        )
    )


def _account_key(account: dict[str, Any]) -> str:
    """The account as every instance names it: its profile URL, else its (local) id."""
    return http_url(account.get("url")) or str(account.get("id") or "")


def _replied_account(status: dict[str, Any], account: dict[str, Any]) -> str:
    """The account ``status`` replies to, named as :func:`_account_key` names authors."""
    local = status.get("in_reply_to_account_id")
    if local in (None, ""):
        return ""
    if str(local) == str(account.get("id")):
        return _account_key(account)
    mentions = status.get("mentions") if isinstance(status.get("mentions"), list) else []
    for mention in mentions:
        if isinstance(mention, dict) and str(mention.get("id")) == str(local):
            return _account_key(mention)
    return str(local)


def _local_id(value: Any) -> str:
    """An instance-local status id, or "" when there is none or it is longer than any real one (64)."""
    if value in (None, ""):
        return ""
    local = identifier(value, "id")
    return local if len(local) <= MAX_LOCAL_ID else ""
