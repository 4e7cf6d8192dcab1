"""
Listen: poll the channels, page by page, through the sources' parsers and the ingest service.

For each stream of a channel (hashtag, search, mentions), a poll reads pages until the
stream is caught up (or ``INCIDENTS_LISTEN_MAX_PAGES``). Each page is

1. fetched by the network's client and parsed by the same parser as files
   (:mod:`incidents.sources`): a malformed status is a rejected item, reported, and the
   rest of its page is stored;
2. stored by the same ingest service as files (exactly once on ``(source, external_id)``,
   reposts folded into engagement), then processed here or by Celery;
3. remembered: which channel saw which post, under which id on its server (replies go
   back through it), and the stream's cursor — in one transaction, **after** step 2.

Pages are stored a batch at a time (up to ``INCIDENTS_INGEST_BATCH_SIZE`` posts, and
whatever was read when a request fails). A crash between 2 and 3 means those pages are
read again at the next poll and stored as duplicates: nothing lost, nothing twice. A
channel is polled by one process at a time (a PostgreSQL advisory lock, released if the
process dies), so ``manage.py listen`` and Celery beat may run side by side.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone

from incidents.models import Channel, ChannelCursor, ChannelPost, IncidentReply

# The one place channels reach the ingest service (shared with files and the push API).
from incidents.pipeline.ingest import IngestReport, ItemResult, Status, ingest
from incidents.sources.parsing import ParsedItem

from .base import NetworkClient, Page, Stream
from .clients import client_for
from .http import NetworkError, RateLimited, backoff_delay
from .outbox import deliver_due

logger = logging.getLogger(__name__)

# Advisory lock (namespace, channel id) held while a channel is polled.
LOCK_NAMESPACE = 0x4C53544E  # "LSTN"
# A failing channel waits at most this long between polls (or its interval, if longer), in seconds.
MAX_FAILURE_DELAY_S = 3600
# The listener never ticks more often than this (a channel another process keeps polling stays due), seconds.
MIN_WAIT_S = 1.0


@dataclass
class PollReport:
    """What one poll of one channel did."""

    channel: str
    pages: int = 0
    requests: int = 0
    seconds: float = 0.0
    stored: IngestReport = field(default_factory=IngestReport)
    error: str = ""
    retry_at: dt.datetime | None = None  # when a failed or rate-limited channel is polled again
    backlog: bool = False  # a stream stopped at the page limit; it goes on at the next poll
    skipped: bool = False  # another process was polling it
    newest: dt.datetime | None = None  # the newest post this poll created

    @property
    def ok(self) -> bool:
        return not self.error and not self.skipped

    def add(self, pages: int, items: list[ParsedItem], stored: IngestReport) -> None:
        self.pages += pages
        self.stored.merge(stored)
        for item, result in zip(items, stored.results, strict=True):
            if result.status == Status.CREATED and item.record is not None:
                self.newest = max(self.newest or item.record.posted_at, item.record.posted_at)


@dataclass
class TickReport:
    polls: list[PollReport] = field(default_factory=list)
    replies: list[IncidentReply] = field(default_factory=list)


@contextmanager
def _channel_lock(channel_id: int) -> Iterator[bool]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, channel_id])
        locked = cursor.fetchone()[0]
    try:
        yield locked
    finally:
        if locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, channel_id])


def _remember(channel: Channel, client: NetworkClient, items: list[ParsedItem], results: list[ItemResult]) -> None:
    seen = [
        ChannelPost(channel=channel, post_id=result.post_id, remote_id=client.remote_id(item)[:255])
        for item, result in zip(items, results, strict=True)
        if result.post_id is not None and result.status in (Status.CREATED, Status.DUPLICATE)
    ]
    ChannelPost.objects.bulk_create(seen, ignore_conflicts=True)


def _store(
    channel: Channel, client: NetworkClient, cursor: ChannelCursor, pages: list[Page], report: PollReport
) -> None:
    """Store the posts of ``pages``, then — only then — move the stream's cursor past the last of them."""
    items = client.with_parents([item for page in pages for item in page.items])
    stored = ingest(items, keep_results=True)
    with transaction.atomic():
        _remember(channel, client, items, stored.results)
        ChannelCursor.objects.filter(pk=cursor.pk).update(state=pages[-1].state, updated_at=timezone.now())
    report.add(len(pages), items, stored)


def _poll_stream(channel: Channel, client: NetworkClient, stream: Stream, report: PollReport) -> None:
    """Read ``stream`` page by page from its cursor; store pages a batch at a time (``INCIDENTS_INGEST_BATCH_SIZE``
    posts: a backfill's pages of 40 would each pay a batch's fixed cost), and what was read when a request fails."""
    cursor, _created = ChannelCursor.objects.get_or_create(channel=channel, stream=stream.key)
    state = cursor.state
    pending: list[Page] = []
    try:
        for _page in range(settings.INCIDENTS_LISTEN_MAX_PAGES):
            page = client.fetch(stream, state)
            pending.append(page)
            state = page.state
            if not page.more:
                return
            if sum(len(waiting.items) for waiting in pending) >= settings.INCIDENTS_INGEST_BATCH_SIZE:
                _store(channel, client, cursor, pending, report)
                pending = []
        report.backlog = True
    finally:
        if pending:
            _store(channel, client, cursor, pending, report)


def poll_channel(channel: Channel) -> PollReport:
    """Read what is new on each of ``channel``'s streams, store it, and record the channel's health."""
    report = PollReport(channel.name)
    started = time.monotonic()
    with _channel_lock(channel.pk) as locked:
        if not locked:
            report.skipped = True
            return report
        client = client_for(channel)
        before = client.requests
        try:
            for stream in client.streams():
                _poll_stream(channel, client, stream, report)
        except RateLimited as error:
            report.error = str(error)
            report.retry_at = dt.datetime.fromtimestamp(error.reset_at, dt.UTC)
        except NetworkError as error:
            report.error = str(error)
        finally:
            report.requests = client.requests - before
            report.seconds = time.monotonic() - started
        _record_health(channel, report)
    for rejection in report.stored.rejections:
        logger.warning(
            "%s: rejected %s [%s]: %s", channel.name, rejection.position, rejection.external_id, rejection.reason
        )
    if report.error:
        logger.error("%s: poll failed: %s", channel.name, report.error)
    return report


def _record_health(channel: Channel, report: PollReport) -> None:
    now = timezone.now()
    changes: dict = {"last_poll_at": now}
    if report.error:
        if report.retry_at is None:
            delay = backoff_delay(
                channel.failures + 1, channel.interval_s, max(channel.interval_s, MAX_FAILURE_DELAY_S)
            )
            report.retry_at = now + dt.timedelta(seconds=delay)
        changes |= {
            "failures": F("failures") + 1,
            "last_error": report.error,
            "last_error_at": now,
            "next_poll_at": report.retry_at,
        }
    else:
        changes |= {
            "last_success_at": now,
            "failures": 0,
            # A stream left at the page limit goes on at the next tick.
            "next_poll_at": now if report.backlog else now + dt.timedelta(seconds=channel.interval_s),
        }
    if report.newest is not None:
        changes["lag_s"] = max(0.0, (now - report.newest).total_seconds())
    if report.stored.rejections:
        last = report.stored.rejections[-1]
        changes["last_rejection"] = f"{now:%Y-%m-%d %H:%M} {last.position} [{last.external_id}]: {last.reason}"
    Channel.objects.filter(pk=channel.pk).update(**changes)


def tick(
    *, names: list[str] | None = None, every: bool = False, on_poll: Callable[[PollReport], None] | None = None
) -> TickReport:
    """Deliver the replies that are due, then poll the enabled channels that are due (``every``: all of them).

    ``names`` keeps only the channels of those names.
    """
    report = TickReport(replies=deliver_due())
    channels = Channel.objects.enabled() if every else Channel.objects.due(timezone.now())
    if names is not None:
        channels = channels.filter(name__in=names)
    for channel in channels:
        poll = poll_channel(channel)
        report.polls.append(poll)
        if on_poll is not None:
            on_poll(poll)
    return report


def run(
    stop: threading.Event, *, names: list[str] | None = None, on_poll: Callable[[PollReport], None] | None = None
) -> None:
    """Tick until ``stop`` is set: what ``manage.py listen`` runs in the foreground.

    It sleeps until the soonest channel is due, at most ``INCIDENTS_LISTEN_TICK_S`` (replies
    and channels added meanwhile are taken up then) and at least ``MIN_WAIT_S``. A tick that
    fails (the database restarting) is logged and the loop goes on.
    """
    while not stop.is_set():
        close_old_connections()
        try:
            tick(names=names, on_poll=on_poll)
            channels = (
                Channel.objects.enabled().filter(name__in=names) if names is not None else Channel.objects.enabled()
            )
            soonest = channels.order_by(F("next_poll_at").asc(nulls_first=True)).values_list("next_poll_at").first()
        except Exception:  # the loop outlives a database restart; the error is in the log
            logger.exception("the listener's tick failed; trying again in %s s", settings.INCIDENTS_LISTEN_TICK_S)
            soonest = None
        wait = settings.INCIDENTS_LISTEN_TICK_S
        if soonest is not None:
            due_in = (soonest[0] - timezone.now()).total_seconds() if soonest[0] is not None else 0.0
            wait = min(wait, due_in)
        stop.wait(max(wait, min(MIN_WAIT_S, settings.INCIDENTS_LISTEN_TICK_S)))
