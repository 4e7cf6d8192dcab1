"""manage.py load_demo: load the Toulouse demo from fixtures/ (idempotent)."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from incidents.demo import DEMO_STEPS, DemoContext
from incidents.inputs import InputError


class Command(BaseCommand):
    help = (
        "Load the Toulouse demo from fixtures/: districts, street segments, service area, roadworks. "
        "Safe to run again: a second run finds nothing changed and writes nothing."
    )

    def handle(self, *args, **options):
        context = DemoContext()
        started = time.monotonic()
        for number, step in enumerate(DEMO_STEPS, start=1):
            step_started = time.monotonic()
            try:
                summary = step.run(context)
            except InputError as error:
                raise CommandError(_("demo step %(step)s: %(error)s") % {"step": step.label, "error": error}) from None
            elapsed = time.monotonic() - step_started
            self.stdout.write(
                _("[%(number)s/%(steps)s] %(step)s (%(seconds)s s): %(summary)s")
                % {
                    "number": number,
                    "steps": len(DEMO_STEPS),
                    "step": step.label,
                    "seconds": f"{elapsed:.1f}",
                    "summary": summary,
                }
            )
        self.stdout.write(
            self.style.SUCCESS(_("demo loaded in %(seconds)s s") % {"seconds": f"{time.monotonic() - started:.1f}"})
        )
