"""Fixtures of the channel tests: local Mastodon, Bluesky and X servers, tokens in the environment, short delays."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.core.management import call_command

from incidents.channels.clients import forget_clients
from incidents.models import Channel, Post
from tests.channels.fakes import FakeBluesky, FakeMastodon, FakeX

MASTODON_TOKEN = "mastodon-token"
BLUESKY_PASSWORD = "app-password"
X_TOKEN = "x-token"


@pytest.fixture(autouse=True)
def fast_network(settings, monkeypatch) -> Iterator[None]:
    """Milliseconds instead of seconds for backoffs and timeouts; the tokens in the environment; fresh clients."""
    settings.INCIDENTS_LISTEN_BACKOFF_S = 0.001
    settings.INCIDENTS_LISTEN_BACKOFF_MAX_S = 0.01
    settings.INCIDENTS_LISTEN_TIMEOUT_S = 0.5
    settings.INCIDENTS_LISTEN_MAX_WAIT_S = 2.0
    settings.INCIDENTS_REPLY_BACKOFF_S = 0.001
    settings.INCIDENTS_SITE_URL = "https://incidents.example.org"
    monkeypatch.setenv("CITY_MASTODON_TOKEN", MASTODON_TOKEN)
    monkeypatch.setenv("CITY_BLUESKY_PASSWORD", BLUESKY_PASSWORD)
    monkeypatch.setenv("CITY_X_TOKEN", X_TOKEN)
    forget_clients()
    yield
    forget_clients()


@pytest.fixture
def mastodon() -> Iterator[FakeMastodon]:
    with FakeMastodon(token=MASTODON_TOKEN) as server:
        yield server


@pytest.fixture
def bluesky() -> Iterator[FakeBluesky]:
    with FakeBluesky(password=BLUESKY_PASSWORD) as server:
        yield server


@pytest.fixture
def x_api() -> Iterator[FakeX]:
    with FakeX(token=X_TOKEN) as server:
        yield server


def ago(**delta) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(**delta)


def stored(source: str) -> list[str]:
    """External ids of the posts stored from ``source``, sorted."""
    return sorted(Post.objects.filter(source=source).values_list("external_id", flat=True))


def add_channel(name: str, *args: str) -> Channel:
    """``manage.py channels add NAME ARGS...`` and the channel it made."""
    call_command("channels", "add", name, *args)
    return Channel.objects.get(name=name)


def listen_once(*args: str) -> str:
    """``manage.py listen --once ARGS...``; its output."""
    from io import StringIO

    out = StringIO()
    call_command("listen", "--once", *args, stdout=out, stderr=out)
    return out.getvalue()


@pytest.fixture
def staff_client(staff_user):
    from django.test import Client

    client = Client()
    client.force_login(staff_user)
    return client
