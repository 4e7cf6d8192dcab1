"""manage.py import_streets PATH... [--format toulouse|osm|geojson] [--source NAME] [--map FIELD=PROP ...]"""

from incidents.importers import import_streets
from incidents.importers.fields import STREET_FIELDS
from incidents.importers.streets import STREET_FORMATS
from incidents.management.commands._importing import ImportCommand

PARTIAL_HELP = (
    "The inputs are only part of their source (some communes, one area): segments of the source missing from "
    "them are not retired."
)


class Command(ImportCommand):
    help = (
        "Import street segments: Toulouse Métropole layers (GeoJSON or Opendatasoft JSON), OpenStreetMap (.osm "
        "XML or PBF; named highway ways, split at junctions) or any GeoJSON with --map. Re-importing changes "
        "nothing; changed segments are updated in place; segments no longer listed are retired, not deleted."
    )
    formats = tuple(STREET_FORMATS)
    map_fields = STREET_FIELDS
    own_arguments = {"--partial": {"action": "store_true", "help": PARTIAL_HELP}}

    def handle(self, *args, **options):
        self.run_import(import_streets, options, complete=not options["partial"])
