"""The demo posts: fixtures/demo_posts/, written by scripts/generate_demo_posts.py."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from incidents.pipeline.ingest import IngestReport, ingest
from incidents.sources.reader import open_file

DEMO_POSTS_DIR = Path(settings.BASE_DIR) / "fixtures" / "demo_posts"
# One file per real input format; truth.csv (the problem each post is about) is for evaluation.
DEMO_POST_FILES = ("x_recent_search.jsonl", "mastodon_statuses.jsonl", "citizen_reports.csv")


def load_demo_posts(directory: Path | None = None) -> IngestReport:
    """Ingest the demo posts through the whole pipeline, here and now, and return the counts.

    Load the streets, works and districts first: posts are linked to what is loaded.
    Safe to run again: posts already stored are counted as duplicates and change nothing.
    """
    directory = directory or DEMO_POSTS_DIR
    total = IngestReport()
    for name in DEMO_POST_FILES:
        source_input = open_file(directory / name)
        total.merge(ingest(source_input.items, synchronous=True))
    return total
