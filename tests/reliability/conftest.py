"""Fixtures of the reliability tests: callers with and without rights, clean throttle counts."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from incidents.api.clusters import INDEX


@pytest.fixture(autouse=True)
def _fresh_api_state():
    """Empty throttle counters and a cluster index that reloads from the database."""
    cache.clear()
    INDEX.reset()
    yield
    INDEX.reset()


@pytest.fixture(autouse=True)
def _store_in_the_test_transaction(settings):
    # ingest_posts' second thread has its own connection, which would commit past the test's rollback.
    settings.INCIDENTS_INGEST_STORE_AHEAD = False


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture
def staff_user(db):
    return get_user_model().objects.create_user("operator", "operator@example.org", "pw-operator-1", is_staff=True)


@pytest.fixture
def plain_user(db):
    return get_user_model().objects.create_user("partner", "partner@example.org", "pw-partner-1")


@pytest.fixture
def staff(staff_user) -> APIClient:
    return token_client(staff_user)


@pytest.fixture
def feeder(db) -> APIClient:
    """A token allowed to push posts (``incidents.add_post``), not staff."""
    user = get_user_model().objects.create_user("feeder")
    user.user_permissions.add(Permission.objects.get(codename="add_post", content_type__app_label="incidents"))
    return token_client(user)


@pytest.fixture
def api_key(plain_user) -> str:
    """An Open311 API key (a DRF token of a non-staff partner)."""
    return Token.objects.create(user=plain_user).key
