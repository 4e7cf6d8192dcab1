"""manage.py import_landmarks SOURCE... [--output FILE] [--kind KIND] [--name-property PROP] [--radius M] [--replace]"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from incidents.locate.landmarks import (
    KINDS,
    Places,
    PlacesFileError,
    merge,
    read_places,
    read_source,
    unknown_streets,
    write_places,
)
from incidents.models import StreetSegment


class Command(BaseCommand):
    help = (
        "Add landmarks (stations, markets, schools, churches, parks...) and house numbers to the locator's "
        "landmarks file, from GeoJSON (features with a name property), an OpenStreetMap XML extract or another "
        "landmarks file. The file is INCIDENTS_LANDMARKS_FILE unless --output names another; the locator reads "
        "it again when it changes."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="SOURCE", help="A .geojson, .osm or landmarks .json file.")
        parser.add_argument("--output", help="The landmarks file to write (default: INCIDENTS_LANDMARKS_FILE).")
        parser.add_argument("--kind", choices=list(KINDS), help="Kind of every GeoJSON feature (default: detected).")
        parser.add_argument("--name-property", default="name", help="GeoJSON property holding the name.")
        parser.add_argument("--radius", type=float, help="Extent in metres of every GeoJSON point (default: by kind).")
        parser.add_argument("--source", default="", help="Where the positions come from, written with each entry.")
        parser.add_argument("--replace", action="store_true", help="Start from an empty file instead of adding.")

    def handle(self, *args, **options):
        output = options["output"] or settings.INCIDENTS_LANDMARKS_FILE
        if not output:
            raise CommandError(_("No file to write: give --output FILE, or set INCIDENTS_LANDMARKS_FILE."))
        places = Places()
        if Path(output).exists() and not options["replace"]:
            try:
                places = read_places(output)
            except PlacesFileError as error:
                raise CommandError(
                    _("%(file)s: %(error)s. Fix it, or use --replace to write a new file.")
                    % {"file": output, "error": error}
                ) from None
        added = known = 0
        for path in options["paths"]:
            try:
                result = read_source(
                    path,
                    kind=options["kind"],
                    name_property=options["name_property"],
                    radius_m=options["radius"],
                    source=options["source"],
                )
            except PlacesFileError as error:
                raise CommandError(
                    _("%(error)s. Give GeoJSON, OpenStreetMap XML or a landmarks file (format: see README).")
                    % {"error": error}
                ) from None
            for reason, count in sorted(result.skipped.items()):
                self.stdout.write(
                    _("%(path)s: skipped %(count)s: %(reason)s") % {"path": path, "count": count, "reason": reason}
                )
            if not len(result.places):
                raise CommandError(
                    _(
                        "%(path)s: no landmark or house number found. GeoJSON features need a name in the "
                        "%(property)s property (--name-property names another); OpenStreetMap objects need a name "
                        "and a landmark tag (amenity, railway, leisure, tourism...)."
                    )
                    % {"path": path, "property": repr(options["name_property"])}
                )
            places, new, duplicates = merge(places, result.places)
            added += new
            known += duplicates
            self.stdout.write(
                _("%(path)s: %(landmarks)s landmarks, %(addresses)s house numbers read")
                % {"path": path, "landmarks": len(result.places.landmarks), "addresses": len(result.places.addresses)}
            )
        names = StreetSegment.objects.order_by().values_list("name", flat=True).distinct()
        missing = unknown_streets(places, names) if names.exists() else []
        if not names.exists():
            self.stdout.write(_("no streets in the database yet: the landmarks placed by a street are not checked"))
        for street in missing:
            self.stdout.write(
                self.style.WARNING(
                    _("street %(street)s is not in the street data: its landmarks are skipped until it is imported")
                    % {"street": street}
                )
            )
        write_places(places, output)
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "%(added)s added, %(known)s already there; %(file)s holds %(landmarks)s landmarks and "
                    "%(addresses)s house numbers."
                )
                % {
                    "added": added,
                    "known": known,
                    "file": output,
                    "landmarks": len(places.landmarks),
                    "addresses": len(places.addresses),
                }
            )
        )
