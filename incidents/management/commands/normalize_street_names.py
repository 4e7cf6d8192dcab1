"""Recompute the stored comparable keys of street names after the normaliser changed."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from incidents.locate.gazetteer import renormalize_street_names
from incidents.models import StreetSegment


class Command(BaseCommand):
    help = (
        "Recompute StreetSegment.name_normalized with the current normaliser "
        "(incidents/locate/normalize.py). Safe to run again: unchanged rows are not written."
    )

    def handle(self, *args, **options):
        total = StreetSegment.objects.count()
        self.stdout.write(_("normalising the names of %(total)s street segments...") % {"total": total})
        changed = renormalize_street_names()
        self.stdout.write(
            self.style.SUCCESS(
                _("%(changed)s segments updated, %(unchanged)s unchanged")
                % {"changed": changed, "unchanged": total - changed}
            )
        )
