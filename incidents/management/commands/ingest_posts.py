"""manage.py ingest_posts PATH: store, locate, classify, link and group posts from files."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from incidents.inputs import InputError, check_encoding
from incidents.management.commands._pipeline import counts, processed_summary, queued_summary
from incidents.pipeline.ingest import IngestReport, celery_enabled, ingest, wait_for_workers
from incidents.sources.parsing import source_name
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
        parser.add_argument(
            "--encoding", help="text encoding of files without a byte-order mark (default: utf-8), e.g. cp1252"
        )
        parser.add_argument("--batch-size", type=int, help="posts per batch (default: INCIDENTS_INGEST_BATCH_SIZE)")
        parser.add_argument(
            "--wait", action="store_true", help="with Celery, wait for the workers and report what they did"
        )

    def handle(self, *args, path: str, format: str | None, source: str | None, encoding: str | None, **options) -> None:
        verbosity = options["verbosity"]
        batch_size = options["batch_size"]
        if batch_size is not None and batch_size < 1:
            raise CommandError(_("--batch-size must be 1 or more"))
        try:
            if source is not None:
                source = source_name(source)
            check_encoding(encoding)
            files = None if path == "-" else input_files(path)
        except (InputError, ValueError) as error:
            raise CommandError(str(error)) from None

        if celery_enabled():
            self.stdout.write(_("CELERY_BROKER_URL is set: batches are processed by Celery workers."))
        failures: list[str] = []
        progress: dict[str, IngestReport] = {}  # the latest counts of each file, for a failure message
        total = IngestReport()
        started = time.monotonic()
        for file in files if files is not None else [None]:
            label = _("stdin") if file is None else str(file)
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
            except InputError as error:
                if files is None or len(files) == 1:
                    raise CommandError(str(error)) from None
                failures.append(str(error))
                self.stderr.write(str(error))
                continue
            self._summary(f"{label} ({source_input.format})", report, time.monotonic() - file_started, verbosity)
            if not report.items:
                self.stderr.write(_("%(label)s: no posts found (is the file empty?)") % {"label": label})
            total.merge(report)
        if files is not None and len(files) > 1:
            label = _("total, %(count)s files") % {"count": f"{len(files):,}"}
            self._summary(label, total, time.monotonic() - started, verbosity, rejections=False)
        if failures:
            unreadable = ngettext(
                "%(count)s file could not be read (the others were ingested):",
                "%(count)s files could not be read (the others were ingested):",
                len(failures),
            ) % {"count": f"{len(failures):,}"}
            raise CommandError("\n".join([unreadable, *failures]))

    @staticmethod
    def _lost_database(label: str, error: Exception, report: IngestReport | None) -> str:
        done = (
            _("%(items)s items were read and %(created)s new posts stored before that")
            % {"items": f"{report.items:,}", "created": f"{report.created:,}"}
            if report is not None
            else _("no batch of it was finished")
        )
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return _(
            "%(label)s: the database connection was lost (%(reason)s); %(done)s. Nothing stored is lost and "
            "nothing will be stored twice: re-run the same command once the database answers again (posts "
            "already stored count as duplicates), then run `manage.py process_pending` to finish the posts "
            "that were stored but not processed."
        ) % {"label": label, "reason": reason, "done": done}

    def _progress(self, label: str, report: IngestReport, verbosity: int, progress: dict) -> None:
        progress[label] = report
        if verbosity >= 2 or (verbosity >= 1 and report.batches % 20 == 0):
            self.stdout.write(
                _("  %(label)s: %(items)s items read, %(created)s new posts so far")
                % {"label": label, "items": f"{report.items:,}", "created": f"{report.created:,}"}
            )

    def _summary(self, label: str, report: IngestReport, seconds: float, verbosity: int, rejections=True) -> None:
        if verbosity < 1:
            return
        rate = report.items / seconds if seconds > 0 else 0.0
        line = _(
            "%(label)s: %(items)s items in %(seconds)s s (%(rate)s/s): %(created)s created, %(duplicate)s duplicate, "
            "%(reposts)s reposts, %(rejected)s rejected"
        ) % {
            "label": label,
            "seconds": f"{seconds:.1f}",
            "rate": f"{rate:,.0f}",
            **counts(report, "items", "created", "duplicate", "reposts", "rejected"),
        }
        if report.carried:
            line += _("; %(carried)s originals stored from retweets/boosts") % counts(report, "carried")
        self.stdout.write(self.style.SUCCESS(line) if not report.rejected else line)
        processed = report.processed
        if processed.posts or processed.incidents_created or processed.incidents_updated:
            self.stdout.write("  " + processed_summary(processed))
        if report.queued:
            self.stdout.write("  " + queued_summary(report.queued))
        if report.unqueued_posts:
            self.stderr.write(
                _(
                    "  %(unqueued_posts)s posts are stored but could not be queued (is the broker up?): "
                    "run `manage.py process_pending` once it is"
                )
                % counts(report, "unqueued_posts")
            )
        if rejections and report.rejections:
            shown = report.rejections if verbosity >= 2 else report.rejections[:SHOWN_REJECTIONS]
            for rejection in shown:
                name = f" [{rejection.external_id}]" if rejection.external_id else ""
                self.stderr.write(f"  {rejection.position}{name}: {rejection.reason}")
            if len(shown) < len(report.rejections):
                self.stderr.write(
                    _("  ... and %(count)s more (use -v 2 to list all)")
                    % {"count": f"{len(report.rejections) - len(shown):,}"}
                )
