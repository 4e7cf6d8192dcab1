"""manage.py channels add|list|enable|disable|remove: the hashtags, searches and mentions the service follows."""

from __future__ import annotations

import datetime as dt
import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from incidents.models import Channel, ChannelKind
from incidents.services.channels import add_channel, remove_channel, set_channel_enabled
from incidents.templatetags.incidents_web import duration as duration_text

# The command-line option of each model field, to name it in error messages.
OPTIONS = {
    "name": "NAME",
    "kind": "--kind",
    "base_url": "--base-url",
    "hashtags": "--hashtag",
    "queries": "--query",
    "mentions": "--mentions",
    "account": "--account",
    "token_env": "--token-env",
    "interval_s": "--interval",
    "since": "--since",
}


def parse_since(value: str) -> dt.datetime:
    """Parse an ISO 8601 date or date-time; without an offset, in the city's time zone."""
    moment = parse_datetime(value)
    if moment is None and (day := parse_date(value)) is not None:
        moment = dt.datetime.combine(day, dt.time())
    if moment is None:
        raise CommandError(
            _("--since %(value)r is not a date: use ISO 8601, e.g. 2026-12-01 or 2026-12-01T08:00+01:00")
            % {"value": value}
        )
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


class Command(BaseCommand):
    help = _(
        "Add, list, enable, disable or remove the channels the listener polls (Mastodon, Bluesky, X). "
        "Tokens are never stored: a channel names the environment variable that holds its token."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="add|list|enable|disable|remove")
        add = actions.add_parser("add", help=_("add a channel"))
        add.add_argument("name", help=_("a name for the channel (lower-case letters, digits, - _ .)"))
        add.add_argument("--kind", required=True, choices=ChannelKind.values, help=_("the network"))
        add.add_argument(
            "--base-url",
            required=True,
            help=_("Mastodon instance, Bluesky AppView or PDS, or X API URL (e.g. https://mastodon.social)"),
        )
        add.add_argument("--hashtag", action="append", default=[], help=_("a hashtag to follow (repeat for more)"))
        add.add_argument("--query", action="append", default=[], help=_("a search to follow (repeat for more)"))
        add.add_argument("--mentions", action="store_true", help=_("read the posts that mention the city's account"))
        add.add_argument(
            "--account", default="", help=_("the city's account: Bluesky handle (login), X username (replies)")
        )
        add.add_argument(
            "--token-env", default="", help=_("the environment variable holding the token or app password")
        )
        add.add_argument("--interval", type=int, help=_("seconds between polls (default: INCIDENTS_LISTEN_INTERVAL_S)"))
        add.add_argument(
            "--since", help=_("how far back the first poll reads (ISO 8601; default: INCIDENTS_LISTEN_BACKFILL_DAYS)")
        )
        actions.add_parser("list", help=_("list the channels and their health"))
        for action, text in (
            ("enable", _("poll a channel again")),
            ("disable", _("stop polling a channel (its cursors are kept)")),
            ("remove", _("delete a channel and its cursors (the posts stay)")),
        ):
            actions.add_parser(action, help=text).add_argument("name")

    def handle(self, *args, action: str, **options) -> None:
        getattr(self, f"_{action}")(**options)

    def _add(self, *, name, kind, base_url, hashtag, query, mentions, account, token_env, interval, since, **options):
        try:
            channel = add_channel(
                name=name,
                kind=kind,
                base_url=base_url,
                hashtags=hashtag,
                queries=query,
                mentions=mentions,
                account=account,
                token_env=token_env,
                interval_s=interval,
                since=parse_since(since) if since else None,
            )
        except ValidationError as error:
            lines = [
                f"{OPTIONS[field]}: {message}" if field in OPTIONS else message
                for field, messages in error.message_dict.items()
                for message in messages
            ]
            raise CommandError(_("The channel was not added:") + "\n" + "\n".join(lines)) from None
        if options["verbosity"] < 1:
            return
        self.stdout.write(
            self.style.SUCCESS(
                _("Channel %(name)s added: %(streams)s, every %(interval)s; its first poll reads back to %(since)s.")
                % {
                    "name": channel.name,
                    "streams": self._streams(channel),
                    "interval": duration_text(channel.interval_s),
                    "since": timezone.localtime(channel.since).strftime("%Y-%m-%d %H:%M"),
                }
            )
        )
        if channel.token_env and not os.environ.get(channel.token_env):
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "Note: %(variable)s is not set here; set it in the environment of the listener "
                        "(manage.py listen or Celery) and of the web server (replies)."
                    )
                    % {"variable": channel.token_env}
                )
            )

    @staticmethod
    def _streams(channel: Channel) -> str:
        parts = [f"#{tag}" for tag in channel.hashtags] + [f"“{query}”" for query in channel.queries]
        if channel.mentions:
            parts.append(_("mentions"))
        return ", ".join(parts)

    def _list(self, **options) -> None:
        now = timezone.now()
        channels = list(Channel.objects.with_health(now))
        if not channels:
            self.stdout.write(
                _("No channel yet: add one with `manage.py channels add NAME --kind ... --base-url ...`.")
            )
            return
        for channel in channels:
            state = _("enabled") if channel.enabled else _("disabled")
            self.stdout.write(
                _("%(name)s (%(kind)s, %(state)s) %(url)s: %(streams)s, every %(interval)s")
                % {
                    "name": channel.name,
                    "kind": channel.get_kind_display(),
                    "state": state,
                    "url": channel.base_url,
                    "streams": self._streams(channel),
                    "interval": duration_text(channel.interval_s),
                }
            )
            last = (
                timezone.localtime(channel.last_success_at).strftime("%Y-%m-%d %H:%M:%S")
                if channel.last_success_at
                else "—"
            )
            self.stdout.write(
                "  "
                + _("last successful poll %(last)s, lag %(lag)s, posts in the last hour %(hour)d, day %(day)d")
                % {
                    "last": last,
                    "lag": duration_text(channel.lag_s),
                    "hour": channel.posts_last_hour,
                    "day": channel.posts_last_day,
                }
            )
            if channel.last_error:
                self.stdout.write("  " + _("last error: %(error)s") % {"error": channel.last_error})
            trouble = channel.trouble_since(now)
            if trouble is not None:
                self.stdout.write(
                    self.style.ERROR(
                        "  "
                        + _("FAILING: no successful poll for %(duration)s")
                        % {"duration": duration_text((now - trouble).total_seconds())}
                    )
                )

    def _enable(self, *, name: str, **options) -> None:
        self._set_enabled(name, True)

    def _disable(self, *, name: str, **options) -> None:
        self._set_enabled(name, False)

    def _set_enabled(self, name: str, enabled: bool) -> None:
        try:
            set_channel_enabled(name, enabled)
        except Channel.DoesNotExist:
            raise CommandError(self._unknown(name)) from None
        message = (
            _("Channel %(name)s enabled: it is polled at the next tick.")
            if enabled
            else _("Channel %(name)s disabled: its cursors are kept for when it is enabled again.")
        )
        self.stdout.write(self.style.SUCCESS(message % {"name": name}))

    def _remove(self, *, name: str, **options) -> None:
        try:
            failed = remove_channel(name)
        except Channel.DoesNotExist:
            raise CommandError(self._unknown(name)) from None
        self.stdout.write(
            self.style.SUCCESS(
                _("Channel %(name)s removed; the posts it stored stay. %(failed)d queued replies marked failed.")
                % {"name": name, "failed": failed}
            )
        )

    @staticmethod
    def _unknown(name: str) -> str:
        return _("No channel is named %(name)s; `manage.py channels list` shows them.") % {"name": name}
