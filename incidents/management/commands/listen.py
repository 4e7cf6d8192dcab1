"""manage.py listen [--once] [--channel NAME]: poll the channels and deliver the replies, in the foreground."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from incidents.channels.listen import PollReport, run, tick
from incidents.models import Channel, ReplyState

SHOWN_REJECTIONS = 20


class Command(BaseCommand):
    help = _(
        "Poll every enabled channel at its interval and deliver the queued replies, until stopped (SIGTERM or "
        "Ctrl-C): the process a service manager runs. --once polls each channel once, now, and exits."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help=_("poll each enabled channel once, now, then exit"))
        parser.add_argument("--channel", metavar="NAME", help=_("only this channel"))

    def handle(self, *args, once: bool, channel: str | None, **options) -> None:
        self.verbosity = options["verbosity"]
        names = [channel] if channel else None
        if channel:
            found = Channel.objects.filter(name=channel).first()
            if found is None:
                raise CommandError(
                    _("No channel is named %(name)s; `manage.py channels list` shows them.") % {"name": channel}
                )
            if not found.enabled:
                raise CommandError(
                    _("Channel %(name)s is disabled: `manage.py channels enable %(name)s` first.") % {"name": channel}
                )
        elif not Channel.objects.enabled().exists():
            raise CommandError(
                _("No channel is enabled: add one with `manage.py channels add NAME --kind ... --base-url ...`.")
            )
        if once:
            self._once(names)
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_args: stop.set())
        self.stdout.write(_("Listening; stop with Ctrl-C or SIGTERM (the poll under way finishes first)."))
        run(stop, names=names, on_poll=self._print_poll)
        self.stdout.write(_("Stopped."))

    def _once(self, names: list[str] | None) -> None:
        report = tick(names=names, every=True, on_poll=self._print_poll)
        if report.replies:
            states = [reply.state for reply in report.replies]
            self.stdout.write(
                _("Replies: %(sent)d sent, %(queued)d still queued, %(failed)d failed.")
                % {
                    "sent": states.count(ReplyState.SENT),
                    "queued": states.count(ReplyState.QUEUED),
                    "failed": states.count(ReplyState.FAILED),
                }
            )
        failed = [poll for poll in report.polls if poll.error]
        if failed:
            raise CommandError(
                _("%(count)d channel(s) failed; what was read before is stored, the next poll goes on from there:")
                % {"count": len(failed)}
                + "\n"
                + "\n".join(f"{poll.channel}: {poll.error}" for poll in failed)
            )

    def _print_poll(self, poll: PollReport) -> None:
        if poll.skipped:
            self.stdout.write(_("%(channel)s: skipped, another process is polling it.") % {"channel": poll.channel})
            return
        stored = poll.stored
        line = _(
            "%(channel)s: %(pages)s, %(requests)s in %(seconds).1f s: %(created)d new, "
            "%(duplicate)d already stored, %(reposts)d reposts, %(rejected)d rejected"
        ) % {
            "channel": poll.channel,
            "pages": ngettext("%(count)d page", "%(count)d pages", poll.pages) % {"count": poll.pages},
            "requests": ngettext("%(count)d request", "%(count)d requests", poll.requests) % {"count": poll.requests},
            "seconds": poll.seconds,
            "created": stored.created,
            "duplicate": stored.duplicate,
            "reposts": stored.reposts,
            "rejected": stored.rejected,
        }
        self.stdout.write(self.style.SUCCESS(line) if poll.ok and not stored.rejected else line)
        shown = stored.rejections if self.verbosity >= 2 else stored.rejections[:SHOWN_REJECTIONS]
        for rejection in shown:
            self.stderr.write(
                "  "
                + _("rejected %(position)s [%(id)s]: %(reason)s")
                % {"position": rejection.position, "id": rejection.external_id, "reason": rejection.reason}
            )
        if len(shown) < len(stored.rejections):
            self.stderr.write(
                "  "
                + _("... and %(count)d more (-v 2 lists them all)") % {"count": len(stored.rejections) - len(shown)}
            )
        if poll.backlog:
            self.stdout.write("  " + _("more to read: the next poll goes on where this one stopped"))
        if poll.error:
            when = timezone.localtime(poll.retry_at).strftime("%H:%M:%S") if poll.retry_at else "—"
            self.stderr.write(
                self.style.ERROR(
                    "  " + _("failed: %(error)s; next poll at %(time)s") % {"error": poll.error, "time": when}
                )
            )
