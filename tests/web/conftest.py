"""Fixtures of the map and triage tests: users, a logged-in staff client, a fresh cluster index, no tiles."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.conftest import logged_in
from tests.pipeline.conftest import push  # noqa: F401 (the fixture: posts through the real pipeline)

XSS = '<img src=x onerror="window.__xss = 1">'


@pytest.fixture(autouse=True)
def _no_basemap(settings):
    """No basemap: tests never reach the internet (counters and cluster index: tests/conftest.py)."""
    settings.INCIDENTS_TILE_URL = ""


@pytest.fixture
def operator(db):
    return get_user_model().objects.create_user("operator", "operator@example.org", "pw-operator-1", is_staff=True)


@pytest.fixture
def staff_client(operator) -> Client:
    return logged_in(operator)


@pytest.fixture
def plain_client(db) -> Client:
    return logged_in(get_user_model().objects.create_user("partner", "partner@example.org", "pw-partner-1"))
