"""manage.py import_works PATH... [--format toulouse|wzdx|geojson] [--source NAME] [--map FIELD=PROP ...]
[--as-of DATETIME]
"""

from django.core.management.base import CommandError

from incidents.importers import import_works
from incidents.importers.fields import WORKS_FIELDS
from incidents.importers.works import WORKS_FORMATS
from incidents.inputs import RecordError, parse_datetime
from incidents.management.commands._importing import ImportCommand

AS_OF_HELP = (
    "When the input was taken from its feed (ISO 8601; local time if no offset), for inputs that do not say it "
    "themselves. The input then counts as a full snapshot: zones of the same source missing from it are withdrawn "
    "as of DATETIME."
)


class Command(ImportCommand):
    help = (
        "Import works zones: Toulouse 'chantiers-en-cours' (2014 daily snapshots or the current API), work zone "
        "feeds of WZDx 4.x (validated against the 4.2 schema), WZDx 3.x and CWZ 1.0, or any GeoJSON with --map. "
        "Re-importing the same data changes nothing; a zone missing from a newer full snapshot is marked withdrawn, "
        "never deleted."
    )
    formats = tuple(WORKS_FORMATS)
    map_fields = WORKS_FIELDS
    own_arguments = {"--as-of": {"metavar": "DATETIME", "help": AS_OF_HELP}}

    def handle(self, *args, **options):
        try:
            as_of = parse_datetime(options["as_of"], label="--as-of", day_first=True)
        except RecordError as error:
            raise CommandError(str(error)) from None
        self.run_import(import_works, options, as_of=as_of)
