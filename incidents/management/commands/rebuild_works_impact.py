"""manage.py rebuild_works_impact: fill the works impact table again, e.g. after INCIDENTS_WORKS_RADIUS_M changed."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from incidents.publish.works_impact import rebuild


class Command(BaseCommand):
    help = (
        "Measure again which incidents lie near which works zone (the table the works impact counts read). "
        "The database keeps it current; rebuild it after changing INCIDENTS_WORKS_RADIUS_M."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--radius", type=float, help="metres around each impact area (default: INCIDENTS_WORKS_RADIUS_M)"
        )

    def handle(self, *args, radius: float | None, **options) -> None:
        radius = settings.INCIDENTS_WORKS_RADIUS_M if radius is None else radius
        if not 0 <= radius <= 5000:
            raise CommandError(_("--radius must be between 0 and 5000 metres."))
        started = time.monotonic()
        rows = rebuild(radius)
        self.stdout.write(
            _("%(rows)s incident–works pairs within %(radius)s m, in %(seconds).1f s.")
            % {"rows": f"{rows:,}", "radius": f"{radius:g}", "seconds": time.monotonic() - started}
        )
