"""What the import commands share: arguments, progress output, the summary."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from incidents.importers import ImportResult
from incidents.importers.fields import parse_map_options
from incidents.importers.records import no_progress
from incidents.inputs import InputError, read_paths

# Rejections listed at the default verbosity; -v 2 lists them all.
LISTED_REJECTIONS = 20


class ProgressPrinter:
    """Print progress (records/s, percentage when the total is known) at most once a second."""

    def __init__(self, stream: TextIO, interval_s: float = 1.0):
        self.stream = stream
        self.interval_s = interval_s
        self.phase = ""
        self.phase_started = self.last_print = 0.0
        self.printed = False

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        if phase != self.phase:
            self.phase, self.phase_started, self.last_print, self.printed = phase, now, now, False
        finished = total is not None and done >= total
        # Quick phases print nothing; long ones print every interval and their last line.
        if (finished and not self.printed) or (not finished and now - self.last_print < self.interval_s):
            return
        self.last_print, self.printed = now, True
        elapsed = now - self.phase_started
        rate = _(", %(rate)s records/s") % {"rate": f"{done / elapsed:,.0f}"} if elapsed > 0 and done else ""
        count = f"{done:,}/{total:,} ({done / total:.0%})" if total else f"{done:,}"
        self.stream.write(f"  {phase}: {count}{rate}")
        self.stream.flush()


def print_result(command: BaseCommand, result: ImportResult, verbosity: int) -> None:
    """Notes, rejections (position and reason) and the counts line."""
    for note in result.notes:
        command.stdout.write(_("note: %(note)s") % {"note": note})
    for reason, count in result.skipped.items():
        command.stdout.write(_("skipped %(count)s: %(reason)s") % {"count": f"{count:,}", "reason": reason})
    listed = result.rejections if verbosity >= 2 else result.rejections[:LISTED_REJECTIONS]
    for rejection in listed:
        command.stdout.write(command.style.WARNING(_("rejected %(rejection)s") % {"rejection": rejection}))
    if len(listed) < len(result.rejections):
        command.stdout.write(
            _("... and %(count)s more rejections (-v 2 lists them all)")
            % {"count": f"{len(result.rejections) - len(listed):,}"}
        )
    command.stdout.write(command.style.SUCCESS(result.summary()))


def add_encoding_argument(parser: CommandParser) -> None:
    parser.add_argument(
        "--encoding",
        help="Text encoding of JSON inputs without a byte-order mark (default: UTF-8), e.g. cp1252.",
    )


class ImportCommand(BaseCommand):
    """Base of import_streets / import_works: PATH..., --format, --source, --encoding, --map, and ``own_arguments``."""

    formats: tuple[str, ...] = ()
    map_fields: dict[str, str] = {}
    # The command's own options: flag -> add_argument keywords.
    own_arguments: dict[str, dict[str, Any]] = {}

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "paths", nargs="+", metavar="PATH", help="A file, a folder of files, or - for standard input."
        )
        parser.add_argument("--format", choices=self.formats, help="Input format (default: detected from the content).")
        parser.add_argument("--source", help="Source name stored with the rows (default: from the format).")
        add_encoding_argument(parser)
        fields = ", ".join(self.map_fields)
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="FIELD=PROP",
            help=f"Read FIELD from the property PROP (dotted for nested). Fields: {fields}, lon, lat.",
        )
        for flag, keywords in self.own_arguments.items():
            parser.add_argument(flag, **keywords)

    def run_import(self, service: Callable[..., ImportResult], options: dict[str, Any], **extra: Any) -> None:
        """Read the paths, call the import ``service``, print the outcome; bad input is a CommandError."""
        progress = ProgressPrinter(self.stderr) if options["verbosity"] >= 1 else no_progress
        try:
            inputs = read_paths(
                options["paths"],
                stdin=sys.stdin.buffer if "-" in options["paths"] else None,
                encoding=options["encoding"],
            )
            field_map = parse_map_options(options["map"], self.map_fields)
            result = service(
                inputs,
                format=options["format"],
                source=options["source"],
                field_map=field_map,
                progress=progress,
                **extra,
            )
        except InputError as error:
            raise CommandError(str(error)) from None
        print_result(self, result, options["verbosity"])
