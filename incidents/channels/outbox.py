"""
The outbox: operators' replies delivered on the network the answered post came from, once.

A reply to an incident whose posts a channel saw is stored ``queued``, with the channel
that will post it (one that saw the post and holds a token, else another channel of that
network that does) and the post it answers. Delivery then:

1. **claims** the reply: one ``UPDATE`` counts the attempt and moves its next attempt a
   lease ahead, so two processes never send it at the same time, and a process that dies
   mid-send leaves it to be taken up again after the lease;
2. on any attempt after the first, **looks it up** on the network first (Bluesky: its
   record key; X: the account's replies to the post), since an attempt that timed out may
   have been published all the same; Mastodon needs no look-up, its ``Idempotency-Key``
   makes a repeated request return the status already created;
3. **publishes** it: ``sent`` with its id and link; a refusal (bad token, post deleted)
   is ``failed`` at once; anything uncertain (timeout, 5xx, rate limit) stays ``queued``
   with an exponential backoff, until ``INCIDENTS_REPLY_RETRY_FOR_S`` after it was
   written, then ``failed``.

``send_reply`` makes the first attempt at once; the listener (``manage.py listen`` or
Celery beat) delivers the ones that are due. Replies to posts no channel saw (files, the
push API) never come here.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.models import Channel, ChannelPost, Incident, IncidentReply, Post, ReplyState

from .base import ReplyTarget
from .clients import CLIENTS, client_for
from .http import NetworkError, RateLimited, Refused, backoff_delay

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Route:
    """Where a reply goes: the post it answers, the channel that posts it, the post's id on that channel's server."""

    post: Post
    channel: Channel
    remote_id: str = ""

    @property
    def backend(self) -> str:
        client = CLIENTS[self.channel.kind]
        return f"{client.__module__}.{client.__name__}"


def route_for(incident: Incident) -> Route | None:
    """Return the earliest post of ``incident`` a channel saw that a channel of its network can answer, or ``None``."""
    seen = list(
        ChannelPost.objects.filter(post__incident=incident)
        .select_related("post", "channel")
        .order_by("post__posted_at", "post_id", "channel__name")
    )
    if not seen:
        return None
    kinds = {sighting.channel.kind for sighting in seen}
    repliers = [channel for channel in Channel.objects.enabled().filter(kind__in=kinds) if channel.can_reply]
    remote_ids = {(sighting.post_id, sighting.channel_id): sighting.remote_id for sighting in seen}
    for sighting in seen:
        same_network = [channel for channel in repliers if channel.kind == sighting.channel.kind]
        # The channel that saw the post knows its id on its own server: it comes first.
        same_network.sort(key=lambda channel: channel.pk != sighting.channel_id)
        if same_network:
            channel = same_network[0]
            return Route(sighting.post, channel, remote_ids.get((sighting.post_id, channel.pk), ""))
    return None


def check_length(route: Route, text: str) -> None:
    """Raise ``ValidationError`` when ``text`` is longer than the network takes."""
    client = CLIENTS[route.channel.kind]
    length = len(client.compose(text, route.post))
    if length > client.max_reply_length:
        raise ValidationError(
            _("A reply on %(network)s has at most %(max)d characters; this one has %(length)d.")
            % {"network": route.channel.get_kind_display(), "max": client.max_reply_length, "length": length},
            code="reply_too_long_for_network",
        )


def _lease() -> dt.timedelta:
    """Return how long a claimed reply is left to its sender: every try of a request, and a margin."""
    tries = settings.INCIDENTS_LISTEN_RETRIES + 1
    return dt.timedelta(
        seconds=tries * (2 * settings.INCIDENTS_LISTEN_TIMEOUT_S + settings.INCIDENTS_LISTEN_BACKOFF_MAX_S) + 60
    )


def deliver(reply: IncidentReply) -> IncidentReply:
    """Make one delivery attempt of a queued ``reply`` if it is due and nobody else is on it; return it as it stands."""
    now = timezone.now()
    claimed = IncidentReply.objects.filter(pk=reply.pk, state=ReplyState.QUEUED, next_attempt_at__lte=now).update(
        attempts=F("attempts") + 1, next_attempt_at=now + _lease()
    )
    reply.refresh_from_db()
    if not claimed:
        return reply
    post = reply.in_reply_to
    if post is None:
        return _finish(reply, ReplyState.FAILED, error=_("the post it answered was deleted"))
    client = client_for(reply.channel)
    remote_id = (
        ChannelPost.objects.filter(channel=reply.channel, post=post).values_list("remote_id", flat=True).first() or ""
    )
    target = ReplyTarget(post, remote_id)
    try:
        published = client.find_published(reply, target) if reply.attempts > 1 else None
        published = published or client.publish(reply, target)
    except Refused as error:
        logger.warning("reply %s refused by %s: %s", reply.pk, reply.channel.name, error)
        return _finish(reply, ReplyState.FAILED, error=str(error))
    except NetworkError as error:
        return _retry_later(reply, error)
    return _finish(reply, ReplyState.SENT, external_id=published.external_id, url=published.url)


def _retry_later(reply: IncidentReply, error: NetworkError) -> IncidentReply:
    now = timezone.now()
    if (now - reply.created_at).total_seconds() > settings.INCIDENTS_REPLY_RETRY_FOR_S:
        message = _("gave up after %(attempts)d attempts: %(error)s") % {"attempts": reply.attempts, "error": error}
        return _finish(reply, ReplyState.FAILED, error=message)
    if isinstance(error, RateLimited):
        retry_at = dt.datetime.fromtimestamp(error.reset_at, dt.UTC)
    else:
        delay = backoff_delay(
            reply.attempts - 1, settings.INCIDENTS_REPLY_BACKOFF_S, settings.INCIDENTS_REPLY_RETRY_FOR_S
        )
        retry_at = now + dt.timedelta(seconds=delay)
    logger.info("reply %s not delivered yet (%s); next attempt at %s", reply.pk, error, retry_at)
    IncidentReply.objects.filter(pk=reply.pk, state=ReplyState.QUEUED).update(
        error=str(error), next_attempt_at=retry_at
    )
    reply.refresh_from_db()
    return reply


def _finish(
    reply: IncidentReply, state: ReplyState, *, error: str = "", external_id: str = "", url: str = ""
) -> IncidentReply:
    IncidentReply.objects.filter(pk=reply.pk, state=ReplyState.QUEUED).update(
        state=state,
        error=error,
        external_id=external_id,
        url=url[:1000],
        sent_at=timezone.now() if state == ReplyState.SENT else None,
        next_attempt_at=None,
    )
    reply.refresh_from_db()
    return reply


def deliver_due(limit: int = 100) -> list[IncidentReply]:
    """Make an attempt at each queued reply that is due (at most ``limit``); return them as they stand."""
    # A disabled channel's replies wait for it (or fail when their time is up): it may have been stopped on purpose.
    due = IncidentReply.objects.due(timezone.now()).filter(channel__enabled=True)
    due = list(due.select_related("channel", "in_reply_to")[:limit])
    return [deliver(reply) for reply in due]
