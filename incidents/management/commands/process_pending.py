"""manage.py process_pending: take up stored posts still waiting for the pipeline."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from incidents.management.commands._pipeline import processed_summary, queued_summary
from incidents.pipeline.ingest import process_pending


class Command(BaseCommand):
    help = (
        "Process (or queue for the Celery workers) every stored post still pending, e.g. after the broker "
        "was unreachable or a worker was stopped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, help="posts per batch (default: INCIDENTS_INGEST_BATCH_SIZE)")
        parser.add_argument("--sync", action="store_true", help="process here even when CELERY_BROKER_URL is set")

    def handle(self, *args, batch_size: int | None, sync: bool, **options) -> None:
        report = process_pending(batch_size=batch_size, synchronous=True if sync else None)
        if report.queued:
            self.stdout.write(queued_summary(report.queued))
        if report.processed.posts:
            self.stdout.write(processed_summary(report.processed))
        if not report.batches:
            self.stdout.write(_("No pending posts."))
