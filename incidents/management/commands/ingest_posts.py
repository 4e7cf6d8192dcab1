"""manage.py ingest_posts PATH: store, locate, classify, link and group posts from files."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import InterfaceError, OperationalError

from incidents.pipeline.ingest import IngestReport, celery_enabled, ingest, wait_for_workers
from incidents.sources.parsing import SourceError, source_name
from incidents.sources.reader import FORMATS, input_files, open_file, open_stdin

SHOWN_REJECTIONS = 20


class Command(BaseCommand):
    help = (
        "Ingest posts from a file, a folder (read recursively) or standard input (-): X API v2 responses, "
        "Mastodon statuses, CSV or JSON lines with the documented columns (docs/ingest.md). The format is "
        "detected when --format is not given. Posts seen before are counted as duplicates, never stored twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="a file, a folder, or - for standard input")
        parser.add_argument("--format", choices=FORMATS, help="input format (default: detected per file)")
        parser.add_argument(
            "--source", help="source name stored with the posts (default: x, mastodon, csv or jsonl, from the format)"
        )
        parser.add_argument("--encoding", default="utf-8", help="text encoding of the files (default: utf-8)")
        parser.add_argument("--batch-size", type=int, help="posts per batch (default: INCIDENTS_INGEST_BATCH_SIZE)")
        parser.add_argument(
            "--wait", action="store_true", help="with Celery, wait for the workers and report what they did"
        )

    def handle(self, *args, path: str, format: str | None, source: str | None, encoding: str, **options) -> None:
        verbosity = options["verbosity"]
        batch_size = options["batch_size"]
        if batch_size is not None and batch_size < 1:
            raise CommandError("--batch-size must be 1 or more")
        try:
            if source is not None:
                source = source_name(source)
            files = None if path == "-" else input_files(path)
        except (SourceError, ValueError) as error:
            raise CommandError(str(error)) from None

        if celery_enabled():
            self.stdout.write("CELERY_BROKER_URL is set: batches are processed by Celery workers.")
        failures: list[str] = []
        progress: dict[str, IngestReport] = {}  # the latest counts of each file, for a failure message
        total = IngestReport()
        started = time.monotonic()
        for file in files if files is not None else [None]:
            label = "stdin" if file is None else str(file)
            file_started = time.monotonic()
            try:
                if file is None:
                    source_input = open_stdin(format=format, source=source, stdin=self.stdin)
                else:
                    source_input = open_file(file, format=format, source=source, encoding=encoding)
                report = ingest(
                    source_input.items,
                    batch_size=batch_size,
                    store_ahead=settings.INCIDENTS_INGEST_STORE_AHEAD,
                    on_batch=lambda report, label=label: self._progress(label, report, verbosity, progress),
                )
                if options["wait"] and report.task_ids:
                    wait_for_workers(report)
            except (OperationalError, InterfaceError) as error:
                raise CommandError(self._lost_database(label, error, progress.get(label))) from None
            except SourceError as error:
                if files is None or len(files) == 1:
                    raise CommandError(f"{label}: {error}") from None
                failures.append(f"{label}: {error}")
                self.stderr.write(f"{label}: {error}")
                continue
            self._summary(f"{label} ({source_input.format})", report, time.monotonic() - file_started, verbosity)
            if not report.items:
                self.stderr.write(f"{label}: no posts found (is the file empty?)")
            total.merge(report)
        if files is not None and len(files) > 1:
            self._summary(f"total, {len(files)} files", total, time.monotonic() - started, verbosity, rejections=False)
        if failures:
            raise CommandError(
                f"{len(failures)} file(s) could not be read (the others were ingested):\n" + "\n".join(failures)
            )

    @staticmethod
    def _lost_database(label: str, error: Exception, report: IngestReport | None) -> str:
        done = (
            f"{report.items:,} items were read and {report.created:,} new posts stored before that"
            if report is not None
            else "no batch of it was finished"
        )
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return (
            f"{label}: the database connection was lost ({reason}); {done}. Nothing stored is lost and "
            "nothing will be stored twice: re-run the same command once the database answers again (posts "
            "already stored count as duplicates), then run `manage.py process_pending` to finish the posts "
            "that were stored but not processed."
        )

    def _progress(self, label: str, report: IngestReport, verbosity: int, progress: dict) -> None:
        progress[label] = report
        if verbosity >= 2 or (verbosity >= 1 and report.batches % 20 == 0):
            self.stdout.write(f"  {label}: {report.items:,} items read, {report.created:,} new posts so far")

    def _summary(self, label: str, report: IngestReport, seconds: float, verbosity: int, rejections=True) -> None:
        if verbosity < 1:
            return
        rate = report.items / seconds if seconds > 0 else 0.0
        line = (
            f"{label}: {report.items:,} items in {seconds:.1f} s ({rate:,.0f}/s): {report.created:,} created, "
            f"{report.duplicate:,} duplicate, {report.reposts:,} reposts, {report.rejected:,} rejected"
        )
        if report.carried:
            line += f"; {report.carried:,} originals stored from retweets/boosts"
        self.stdout.write(self.style.SUCCESS(line) if not report.rejected else line)
        processed = report.processed
        if processed.posts or processed.incidents_created or processed.incidents_updated:
            self.stdout.write(
                f"  processed {processed.posts:,}: {processed.located:,} located, {processed.unlocated:,} unlocated, "
                f"{processed.out_of_area:,} out of area, {processed.irrelevant:,} irrelevant; "
                f"incidents: {processed.incidents_created:,} created, {processed.incidents_updated:,} updated"
            )
        if report.queued:
            self.stdout.write(f"  {report.queued:,} batches queued for the Celery workers")
        if report.unqueued_posts:
            self.stderr.write(
                f"  {report.unqueued_posts:,} posts are stored but could not be queued (is the broker up?): "
                "run `manage.py process_pending` once it is"
            )
        if rejections and report.rejections:
            shown = report.rejections if verbosity >= 2 else report.rejections[:SHOWN_REJECTIONS]
            for rejection in shown:
                name = f" [{rejection.external_id}]" if rejection.external_id else ""
                self.stderr.write(f"  {rejection.position}{name}: {rejection.reason}")
            if len(shown) < len(report.rejections):
                self.stderr.write(f"  ... and {len(report.rejections) - len(shown):,} more (use -v 2 to list all)")
