"""manage.py import_streets PATH... [--format toulouse|osm|geojson] [--source NAME] [--map FIELD=PROP ...]"""

from django.core.management.base import CommandError

from incidents.importers import InputError, import_streets
from incidents.importers.fields import STREET_FIELDS
from incidents.importers.service import STREET_FORMATS
from incidents.management.commands._importing import ImportCommand, print_result


class Command(ImportCommand):
    help = (
        "Import street segments: Toulouse Métropole layers (GeoJSON or Opendatasoft JSON), OpenStreetMap "
        "(.osm XML or PBF; named highway ways, split at junctions) or any GeoJSON with --map. Re-importing "
        "the same data changes nothing; changed segments are updated in place (upsert on source + id)."
    )
    formats = tuple(STREET_FORMATS)
    map_fields = STREET_FIELDS

    def handle(self, *args, **options):
        inputs, field_map = self.read(options)
        try:
            result = import_streets(
                inputs,
                format=options["format"],
                source=options["source"],
                field_map=field_map,
                progress=self.progress(options),
            )
        except InputError as error:
            raise CommandError(str(error)) from None
        print_result(self, result, options["verbosity"])
