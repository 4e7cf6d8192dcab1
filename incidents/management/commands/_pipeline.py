"""What the pipeline commands (ingest_posts, process_pending) print alike."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from incidents.pipeline.process import ProcessReport


def counts(report: object, *names: str) -> dict[str, str]:
    """The counts ``names`` of ``report``, formatted for a message (thousands separated)."""
    return {name: f"{getattr(report, name):,}" for name in names}


def processed_summary(processed: ProcessReport) -> str:
    """One line: the posts processed, by state, then the incidents created and updated."""
    posts = ngettext("%(posts)s post processed", "%(posts)s posts processed", processed.posts)
    return (posts % counts(processed, "posts")) + _(
        ": %(located)s located, %(unlocated)s unlocated, %(out_of_area)s out of area, %(irrelevant)s irrelevant; "
        "incidents: %(incidents_created)s created, %(incidents_updated)s updated"
    ) % counts(processed, "located", "unlocated", "out_of_area", "irrelevant", "incidents_created", "incidents_updated")


def queued_summary(batches: int) -> str:
    """One line: how many batches were handed to the Celery workers."""
    return ngettext(
        "%(count)s batch queued for the Celery workers", "%(count)s batches queued for the Celery workers", batches
    ) % {"count": f"{batches:,}"}
