"""
Ingest: parsed items → stored posts, exactly once → processed here or by Celery workers.

The one service behind ``manage.py ingest_posts``, ``POST /api/posts/`` and the demo
loader. Items are cut into batches of ``INCIDENTS_INGEST_BATCH_SIZE``; each batch is
stored at once (:func:`incidents.pipeline.store.store`), so every item gets its answer —
``created``, ``duplicate``, ``repost`` (counted as engagement of its original) or
``rejected`` with the reason — and then processed: synchronously by default
(:func:`incidents.pipeline.process.process`, with the posts decided ahead), or enqueued
to Celery (:mod:`incidents.pipeline.tasks`) when ``CELERY_BROKER_URL`` is set. A batch
that cannot be enqueued stays stored as ``pending`` and :func:`process_pending` takes
it up later: nothing is lost.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import islice
from queue import Empty, Queue

from django.conf import settings
from django.db import DataError, IntegrityError, connection, connections

from incidents.models import Post, PostState
from incidents.pipeline.decide import Decided, decide
from incidents.pipeline.process import ProcessReport, process
from incidents.pipeline.store import store
from incidents.sources.parsing import ParsedItem
from incidents.sources.record import PostRecord

logger = logging.getLogger(__name__)


class Status(StrEnum):
    CREATED = "created"
    DUPLICATE = "duplicate"
    REPOST = "repost"
    REJECTED = "rejected"


@dataclass(slots=True)
class ItemResult:
    """The answer for one input item."""

    position: str
    status: Status
    source: str = ""
    external_id: str = ""
    post_id: int | None = None
    reason: str = ""

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"status": str(self.status), "external_id": self.external_id}
        if self.source:
            data["source"] = self.source
        if self.post_id is not None:
            data["id"] = self.post_id
        if self.reason:
            data["reason"] = self.reason
        return data


@dataclass
class IngestReport:
    """Counts of one ingestion; ``results`` holds every item's answer when asked for."""

    items: int = 0
    created: int = 0
    duplicate: int = 0
    reposts: int = 0
    rejected: int = 0
    carried: int = 0  # originals stored because a retweet or boost carried them
    batches: int = 0
    queued: int = 0  # batches handed to Celery
    task_ids: list[str] = field(default_factory=list)
    unqueued_posts: int = 0  # stored but not handed to Celery (broker down): see process_pending()
    processed: ProcessReport = field(default_factory=ProcessReport)
    rejections: list[ItemResult] = field(default_factory=list)
    results: list[ItemResult] = field(default_factory=list)

    def add(self, result: ItemResult, keep: bool) -> None:
        self.items += 1
        if result.status == Status.CREATED:
            self.created += 1
        elif result.status == Status.DUPLICATE:
            self.duplicate += 1
        elif result.status == Status.REPOST:
            self.reposts += 1
        else:
            self.rejected += 1
            self.rejections.append(result)
        if keep:
            self.results.append(result)

    def merge(self, other: IngestReport) -> None:
        """Add the counts of ``other`` (another file, another batch run) to these."""
        for name in ("items", "created", "duplicate", "reposts", "rejected", "carried", "batches", "queued"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.unqueued_posts += other.unqueued_posts
        self.processed.add(other.processed)
        self.rejections.extend(other.rejections)
        self.results.extend(other.results)
        self.task_ids.extend(other.task_ids)


def celery_enabled() -> bool:
    return bool(settings.CELERY_BROKER_URL)


def _batches(items: Iterable[ParsedItem], size: int) -> Iterator[list[ParsedItem]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


@dataclass(slots=True)
class _StoredBatch:
    results: list[ItemResult]
    created_ids: list[int]
    incident_ids: set[int]
    carried: int = 0
    created: dict[int, PostRecord] = field(default_factory=dict)
    decided: dict[int, Decided] = field(default_factory=dict)


def _stored_batches(items: Iterable[ParsedItem], size: int, decide_ahead: bool) -> Iterator[_StoredBatch]:
    """Parse, store and — when processing here (``decide_ahead``) — decide the posts, batch after batch.

    With ``store_ahead`` this runs in its own thread, so that the Python work of a batch
    (parsing, classifying, locating, placing) overlaps the database work of the previous one.
    """
    for batch in _batches(items, size):
        stored = _store_batch(batch)
        if decide_ahead:
            stored.decided = decide(stored.created)
        yield stored


_DONE = object()
# The interpreter's switch interval while the store-ahead thread runs (seconds).
AHEAD_SWITCH_INTERVAL_S = 0.0005


def _ahead(work: Iterator, depth: int = 2) -> Iterator:
    """Yield what ``work`` yields while a thread of its own runs it ahead.

    The thread parses and stores the next batches — with its own database connection,
    committed like any other client's — while this one processes the current batch:
    one of them mostly waits on PostgreSQL (psycopg lets go of the GIL meanwhile), so on
    two cores they overlap. Errors in the thread (a file that cannot be read) are raised
    here, in the caller's thread.
    """
    queue: Queue = Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for value in work:
                if stop.is_set():
                    return
                queue.put(value)
        except BaseException as error:  # handed over to the consumer, which raises it
            queue.put(error)
        finally:
            connections.close_all()  # this thread's connections only
            queue.put(_DONE)

    thread = threading.Thread(target=produce, name="ingest-ahead", daemon=True)
    # A thread back from PostgreSQL waits for the interpreter lock until the other one lets
    # go of it: up to the switch interval (5 ms by default), at each of the processing
    # thread's ~30 queries per batch. Shorter while both threads run.
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(min(switch_interval, AHEAD_SWITCH_INTERVAL_S))
    thread.start()
    try:
        while (value := queue.get()) is not _DONE:
            if isinstance(value, BaseException):
                raise value
            yield value
    finally:
        sys.setswitchinterval(switch_interval)
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                queue.get_nowait()
            except Empty:
                thread.join(0.01)


def ingest(
    items: Iterable[ParsedItem],
    *,
    batch_size: int | None = None,
    synchronous: bool | None = None,
    keep_results: bool = False,
    on_batch: Callable[[IngestReport], None] | None = None,
    store_ahead: bool = False,
) -> IngestReport:
    """Store and process ``items``; return what became of them.

    ``synchronous`` forces the processing path (default: Celery when
    ``CELERY_BROKER_URL`` is set). ``on_batch`` is called after each batch (progress).
    ``store_ahead`` parses, stores (and, when processing here, classifies and locates)
    the next batches in a second thread, with a second database connection, while the
    current one is processed. Only for callers outside any transaction that must see or
    undo the posts: ``ingest_posts`` turns it on (``INCIDENTS_INGEST_STORE_AHEAD``).
    """
    batch_size = batch_size or settings.INCIDENTS_INGEST_BATCH_SIZE
    if synchronous is None:
        synchronous = not celery_enabled()
    report = IngestReport()
    stored_batches = _stored_batches(items, batch_size, decide_ahead=synchronous)
    for stored in _ahead(stored_batches) if store_ahead else stored_batches:
        for result in stored.results:
            report.add(result, keep_results)
        report.carried += stored.carried
        report.batches += 1
        dispatch(
            stored.created_ids, stored.incident_ids, synchronous=synchronous, report=report, decided=stored.decided
        )
        if on_batch is not None:
            on_batch(report)
    return report


def _store_batch(batch: list[ParsedItem]) -> _StoredBatch:
    """Store one batch; if the database refuses it, store item by item to find the culprit."""
    try:
        return _store_items(batch)
    except (DataError, IntegrityError):
        logger.warning("a batch was refused by the database; storing its %d items one by one", len(batch))
    total = _StoredBatch([], [], set())
    for item in batch:
        try:
            stored = _store_items([item])
        except (DataError, IntegrityError) as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            source = item.record.source if item.record else ""
            reason = f"the database refused it: {reason}"
            total.results.append(ItemResult(item.position, Status.REJECTED, source, item.external_id, reason=reason))
            continue
        total.results.extend(stored.results)
        total.created_ids.extend(stored.created_ids)
        total.incident_ids |= stored.incident_ids
        total.carried += stored.carried
        total.created.update(stored.created)
    return total


def _store_items(batch: list[ParsedItem]) -> _StoredBatch:
    valid = [item for item in batch if item.record is not None]
    stored = store([item.record for item in valid], [record for item in valid for record in item.embedded])
    outcomes = iter(stored.outcomes)
    results = []
    for item in batch:
        if item.record is None:
            results.append(ItemResult(item.position, Status.REJECTED, external_id=item.external_id, reason=item.error))
            continue
        outcome = next(outcomes)
        results.append(
            ItemResult(
                item.position, Status(outcome.status), item.record.source, item.record.external_id, outcome.post_id
            )
        )
    return _StoredBatch(
        results, stored.created_post_ids, stored.incident_ids, stored.embedded_created, created=stored.created
    )


def dispatch(
    post_ids: list[int],
    incident_ids: Iterable[int],
    *,
    synchronous: bool,
    report: IngestReport | None = None,
    decided: dict[int, Decided] | None = None,
) -> None:
    """Process stored posts now (with the decisions already taken, if any), or hand them to a Celery worker."""
    incident_ids = sorted(set(incident_ids))
    if not post_ids and not incident_ids:
        return
    if synchronous:
        processed = process(post_ids, incident_ids, decided=decided)
        if report is not None:
            report.processed.add(processed)
        return
    from incidents.pipeline.tasks import process_posts  # Celery is only imported on the scale-out path

    try:
        task = process_posts.apply_async((sorted(post_ids), incident_ids))
    except Exception as error:  # the broker's errors vary with the transport; all mean "not queued"
        logger.error("could not queue %d posts (%s); they stay pending for process_pending", len(post_ids), error)
        if report is not None:
            report.unqueued_posts += len(post_ids)
        return
    if report is not None:
        report.queued += 1
        report.task_ids.append(task.id)


def wait_for_workers(report: IngestReport, timeout: float | None = None) -> None:
    """Wait until the Celery tasks of ``report`` are done and add their counts to it (needs a result backend)."""
    from celery.result import AsyncResult

    for task_id in report.task_ids:
        counts = AsyncResult(task_id).get(timeout=timeout)
        report.processed.add(ProcessReport(**counts))
    report.task_ids.clear()


def pending_post_ids(limit: int | None = None) -> list[int]:
    """Ids of stored posts still waiting for the pipeline, oldest post first."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {Post._meta.db_table} WHERE state = %s ORDER BY posted_at, id"
            + (" LIMIT %s" if limit else ""),
            [PostState.PENDING, limit] if limit else [PostState.PENDING],
        )
        return [post_id for (post_id,) in cursor.fetchall()]


def process_pending(*, batch_size: int | None = None, synchronous: bool | None = None) -> IngestReport:
    """Process (or enqueue) every post still pending, e.g. after the broker was down."""
    batch_size = batch_size or settings.INCIDENTS_INGEST_BATCH_SIZE
    if synchronous is None:
        synchronous = not celery_enabled()
    report = IngestReport()
    post_ids = pending_post_ids()
    for start in range(0, len(post_ids), batch_size):
        report.batches += 1
        dispatch(post_ids[start : start + batch_size], (), synchronous=synchronous, report=report)
    return report
