"""Channels: the city's live connections to Mastodon, Bluesky and X, what they read and how they fare.

A channel never holds a secret: it names the environment variable that holds its token
or app password (``token_env``), read by the listener when it polls.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"
ENV_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
TAG_PATTERN = r"^[^\s#]+$"


def default_interval() -> int:
    return settings.INCIDENTS_LISTEN_INTERVAL_S


def default_since() -> dt.datetime:
    return timezone.now() - dt.timedelta(days=settings.INCIDENTS_LISTEN_BACKFILL_DAYS)


class ChannelKind(models.TextChoices):
    MASTODON = "mastodon", _("Mastodon")
    BLUESKY = "bluesky", _("Bluesky")
    X = "x", _("X (Twitter)")


class ChannelQuerySet(models.QuerySet["Channel"]):
    def enabled(self) -> ChannelQuerySet:
        return self.filter(enabled=True)

    def due(self, now: dt.datetime) -> ChannelQuerySet:
        """Enabled channels whose next poll is not in the future."""
        return self.enabled().filter(models.Q(next_poll_at__isnull=True) | models.Q(next_poll_at__lte=now))

    def with_health(self, now: dt.datetime | None = None) -> ChannelQuerySet:
        """Annotate ``posts_last_hour`` and ``posts_last_day``: posts this channel saw first in that time."""
        now = now or timezone.now()

        def seen_since(start: dt.datetime):
            counts = (
                ChannelPost.objects.filter(channel=models.OuterRef("pk"), seen_at__gte=start)
                .values("channel")
                .annotate(n=models.Count("*"))
                .values("n")
            )
            return Coalesce(models.Subquery(counts, output_field=models.IntegerField()), 0)

        return self.annotate(
            posts_last_hour=seen_since(now - dt.timedelta(hours=1)),
            posts_last_day=seen_since(now - dt.timedelta(days=1)),
        )


class Channel(models.Model):
    """Hashtags, searches and mentions the service follows on one network, and its health."""

    name = models.CharField(
        _("name"),
        max_length=64,
        unique=True,
        validators=[RegexValidator(NAME_PATTERN, _("Use lower-case letters, digits, '-', '_' or '.'."))],
    )
    kind = models.CharField(_("network"), max_length=16, choices=ChannelKind.choices)
    base_url = models.URLField(
        _("base URL"),
        max_length=500,
        help_text=_(
            "Mastodon: the instance (https://mastodon.social); Bluesky: an AppView or, to read mentions and "
            "reply, the account's PDS (https://bsky.social); X: https://api.x.com."
        ),
    )
    hashtags = ArrayField(
        models.CharField(max_length=100, validators=[RegexValidator(TAG_PATTERN, _("A hashtag, without '#'."))]),
        default=list,
        blank=True,
        verbose_name=_("hashtags"),
        help_text=_("Followed hashtags, without '#'."),
    )
    queries = ArrayField(
        models.CharField(max_length=500),
        default=list,
        blank=True,
        verbose_name=_("searches"),
        help_text=_("Search queries, in the network's own syntax."),
    )
    mentions = models.BooleanField(
        _("mentions"), default=False, help_text=_("Read the posts that mention the city's account (needs a token).")
    )
    account = models.CharField(
        _("account"),
        max_length=255,
        blank=True,
        help_text=_("The city's account: Bluesky handle (to log in), X username (to find its replies)."),
    )
    token_env = models.CharField(
        _("token variable"),
        max_length=128,
        blank=True,
        validators=[RegexValidator(ENV_PATTERN, _("An environment variable name, e.g. MASTODON_TOKEN."))],
        help_text=_(
            "Name of the environment variable holding the access token (Bluesky: the app password). "
            "Secrets are never stored in the database."
        ),
    )
    interval_s = models.PositiveIntegerField(
        _("interval"), default=default_interval, help_text=_("Seconds between two polls.")
    )
    since = models.DateTimeField(
        _("since"), default=default_since, help_text=_("The first poll reads posts back to this time, no further.")
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    # Health, written by the listener after each poll.
    last_poll_at = models.DateTimeField(_("last poll"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last successful poll"), null=True, blank=True)
    next_poll_at = models.DateTimeField(
        _("next poll"), null=True, blank=True, help_text=_("Not before this time (interval, backoff, rate limit).")
    )
    failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    lag_s = models.FloatField(
        _("lag"),
        null=True,
        blank=True,
        help_text=_("Seconds between the newest post of the last poll that stored one and the end of that poll."),
    )
    last_rejection = models.TextField(
        _("last rejected item"), blank=True, help_text=_("Position, id and reason of the last item the parser refused.")
    )

    objects = ChannelQuerySet.as_manager()

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=ChannelKind.values),
                name="channel_kind_known",
                violation_error_message=_("The network is mastodon, bluesky or x."),
            ),
            models.CheckConstraint(
                condition=models.Q(interval_s__gte=1),
                name="channel_interval_positive",
                violation_error_message=_("The interval is at least one second."),
            ),
            models.CheckConstraint(
                condition=models.Q(mentions=True) | ~models.Q(hashtags=[]) | ~models.Q(queries=[]),
                name="channel_listens_to_something",
                violation_error_message=_("Give at least one hashtag or search, or read the mentions."),
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=ChannelKind.X) | ~models.Q(token_env=""),
                name="channel_x_has_token",
                violation_error_message=_("X needs a token: name the environment variable that holds it."),
            ),
            models.CheckConstraint(
                condition=models.Q(mentions=False) | ~models.Q(token_env=""),
                name="channel_mentions_have_token",
                violation_error_message=_(
                    "Reading mentions needs the account's token: name the environment variable that holds it."
                ),
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=ChannelKind.BLUESKY) | models.Q(token_env="") | ~models.Q(account=""),
                name="channel_bluesky_login_has_account",
                violation_error_message=_("Bluesky logs in with an account: give its handle with the app password."),
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=ChannelKind.X) | models.Q(mentions=False) | ~models.Q(account=""),
                name="channel_x_mentions_have_account",
                violation_error_message=_("X finds mentions by searching @account: give the city's username."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def can_reply(self) -> bool:
        """True when the channel holds what posting needs: a token (and for X, the account its replies are found by)."""
        return bool(self.token_env) and (self.kind != ChannelKind.X or bool(self.account))

    def trouble_since(self, now: dt.datetime | None = None) -> dt.datetime | None:
        """Return when the channel stopped succeeding, if that is longer ago than its interval plus
        ``INCIDENTS_LISTEN_FAILING_AFTER_S`` (failing, or nobody polls it); else ``None``."""
        if not self.enabled:
            return None
        now = now or timezone.now()
        since = self.last_success_at or self.created_at
        allowed = dt.timedelta(seconds=self.interval_s + settings.INCIDENTS_LISTEN_FAILING_AFTER_S)
        return since if since and now - since > allowed else None


class ChannelCursor(models.Model):
    """Where a channel's stream (a hashtag, a search, the mentions) stands: advanced only after its page is stored."""

    channel = models.ForeignKey(Channel, verbose_name=_("channel"), on_delete=models.CASCADE, related_name="cursors")
    stream = models.TextField(_("stream"), help_text=_("tag:NAME, search:QUERY or mentions."))
    state = models.JSONField(
        _("state"), default=dict, blank=True, help_text=_("The newest id or time stored, and a walk in progress.")
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("channel cursor")
        verbose_name_plural = _("channel cursors")
        ordering = ["channel", "stream"]
        constraints = [models.UniqueConstraint(fields=["channel", "stream"], name="channelcursor_unique_stream")]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.stream}"


class ChannelPost(models.Model):
    """A post a channel saw, with its id on that channel's server (Mastodon ids are per instance)."""

    channel = models.ForeignKey(Channel, verbose_name=_("channel"), on_delete=models.CASCADE, related_name="seen")
    post = models.ForeignKey("incidents.Post", verbose_name=_("post"), on_delete=models.CASCADE, related_name="seen")
    remote_id = models.CharField(
        _("id on the server"), max_length=255, blank=True, help_text=_("The status id on the channel's instance.")
    )
    seen_at = models.DateTimeField(_("first seen"), default=timezone.now)

    class Meta:
        verbose_name = _("post seen by a channel")
        verbose_name_plural = _("posts seen by channels")
        constraints = [models.UniqueConstraint(fields=["channel", "post"], name="channelpost_unique")]
        indexes = [models.Index(fields=["channel", "seen_at"], name="channelpost_channel_seen_idx")]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.post_id}"
