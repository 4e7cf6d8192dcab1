"""manage.py process_pending: take up stored posts still waiting for the pipeline."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

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
        processed = report.processed
        if report.queued:
            self.stdout.write(f"{report.queued:,} batches queued for the Celery workers.")
        if processed.posts:
            self.stdout.write(
                f"{processed.posts:,} posts processed: {processed.located:,} located, {processed.unlocated:,} "
                f"unlocated, {processed.out_of_area:,} out of area, {processed.irrelevant:,} irrelevant; incidents: "
                f"{processed.incidents_created:,} created, {processed.incidents_updated:,} updated."
            )
        if not report.batches:
            self.stdout.write("No pending posts.")
