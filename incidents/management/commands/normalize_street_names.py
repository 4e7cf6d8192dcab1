"""Recompute the stored comparable keys of street names after the normaliser changed."""

from django.core.management.base import BaseCommand

from incidents.locate.gazetteer import renormalize_street_names
from incidents.models import StreetSegment


class Command(BaseCommand):
    help = (
        "Recompute StreetSegment.name_normalized with the current normaliser "
        "(incidents/locate/normalize.py). Safe to run again: unchanged rows are not written."
    )

    def handle(self, *args, **options):
        total = StreetSegment.objects.count()
        self.stdout.write(f"normalising the names of {total} street segments...")
        changed = renormalize_street_names()
        self.stdout.write(self.style.SUCCESS(f"{changed} segments updated, {total - changed} unchanged"))
