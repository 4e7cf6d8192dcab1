"""Fixtures of the listening pipeline tests: posts pushed through the real ingest service."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.gis.geos import Point
from django.db import connection

from incidents.pipeline.ingest import IngestReport, ingest
from incidents.sources.columns import row_item
from tests.conftest import paris

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
SOURCES = DATA / "sources"

_ids = itertools.count(1)


def post(
    text: str,
    at: Point | None = None,
    when: dt.datetime | None = None,
    *,
    id: str | None = None,
    **columns,
) -> dict:
    """One post in the documented column set, GPS-located at ``at`` when given."""
    row = {"id": id or f"t{next(_ids)}", "text": text, "posted_at": (when or paris(2014, 9, 8, 9)).isoformat()}
    if at is not None:
        row.update(lon=at.x, lat=at.y)
    row.update(columns)
    return row


@pytest.fixture
def push(db) -> Callable[..., IngestReport]:
    """Ingest rows of the documented column set synchronously, as the API or a JSON lines file would."""

    def push_rows(*rows: dict, source: str = "test", batch_size: int | None = None) -> IngestReport:
        items = [row_item(row, position=f"[{index}]", source=source) for index, row in enumerate(rows)]
        return ingest(items, synchronous=True, keep_results=True, batch_size=batch_size)

    return push_rows


def manage_env() -> dict[str, str]:
    """Environment for a manage.py or Celery subprocess that must use the test database."""
    env = dict(os.environ)
    name = connection.settings_dict["NAME"]
    url = env.get("DATABASE_URL")
    if url:
        env["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + name
    else:
        env["INCIDENTS_PG_DB"] = name
    env.update(DJANGO_SETTINGS_MODULE="cityincidents.settings", PYTHONPATH=str(ROOT))
    return env


def manage(*args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.Popen:
    """Start ``manage.py args`` against the test database."""
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env or manage_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )
