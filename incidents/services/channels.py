"""Channels: add, enable, disable and remove the city's connections to the networks (command line and admin)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from incidents.models import Channel, IncidentReply, ReplyState


def add_channel(
    *,
    name: str,
    kind: str,
    base_url: str,
    hashtags: Iterable[str] = (),
    queries: Iterable[str] = (),
    mentions: bool = False,
    account: str = "",
    token_env: str = "",
    interval_s: int | None = None,
    since: dt.datetime | None = None,
) -> Channel:
    """Create a channel; raise ``ValidationError`` (per field) when it cannot work as given."""
    channel = Channel(
        name=name,
        kind=kind,
        base_url=base_url.rstrip("/"),
        hashtags=list(dict.fromkeys(tag.strip().lstrip("#") for tag in hashtags if tag.strip())),
        queries=list(dict.fromkeys(query.strip() for query in queries if query.strip())),
        mentions=mentions,
        account=account.strip().lstrip("@"),
        token_env=token_env.strip(),
    )
    if interval_s is not None:
        channel.interval_s = interval_s
    if since is not None:
        channel.since = since
    channel.full_clean()
    with transaction.atomic():
        channel.save()
    return channel


def set_channel_enabled(name: str, enabled: bool) -> Channel:
    """Enable (polled at the next tick) or disable a channel; raise ``Channel.DoesNotExist``."""
    with transaction.atomic():
        channel = Channel.objects.select_for_update().get(name=name)
        channel.enabled = enabled
        channel.next_poll_at = None
        channel.save(update_fields=["enabled", "next_poll_at"])
    return channel


def remove_channel(name: str) -> int:
    """Delete a channel, its cursors and what it saw (posts stay); its queued replies fail. Return how many failed."""
    with transaction.atomic():
        channel = Channel.objects.select_for_update().get(name=name)
        failed = IncidentReply.objects.filter(channel=channel, state=ReplyState.QUEUED).update(
            state=ReplyState.FAILED, next_attempt_at=None, error=_("its channel was removed before it was sent")
        )
        channel.delete()
    return failed
