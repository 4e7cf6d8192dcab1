"""One client per channel and thread, kept between polls (its HTTP connections, a Bluesky session)."""

from __future__ import annotations

import threading

from incidents.models import Channel, ChannelKind

from .base import NetworkClient
from .bluesky import BlueskyClient
from .mastodon import MastodonClient
from .x import XClient

CLIENTS: dict[str, type[NetworkClient]] = {
    ChannelKind.MASTODON: MastodonClient,
    ChannelKind.BLUESKY: BlueskyClient,
    ChannelKind.X: XClient,
}
_local = threading.local()


def client_for(channel: Channel) -> NetworkClient:
    """Return the client of ``channel`` in this thread, made again when its network, URL, account or token changed."""
    cache: dict[int, tuple[tuple, NetworkClient]] = _local.__dict__.setdefault("clients", {})
    fingerprint = (channel.kind, channel.base_url, channel.token_env, channel.account)
    cached = cache.get(channel.pk)
    if cached is None or cached[0] != fingerprint:
        if cached is not None:
            cached[1].close()
        cache[channel.pk] = (fingerprint, CLIENTS[channel.kind](channel))
    client = cache[channel.pk][1]
    client.channel = channel  # the row as read now: its hashtags, searches, since
    return client


def forget_clients() -> None:
    """Close this thread's clients (a test, a worker shutting down)."""
    for _fingerprint, client in getattr(_local, "clients", {}).values():
        client.close()
    _local.clients = {}
