"""manage.py import_districts PATH... [--map code=PROP] [--map name=PROP]"""

from django.core.management.base import BaseCommand, CommandError

from incidents.importers import import_districts
from incidents.importers.fields import DISTRICT_FIELDS, parse_map_options
from incidents.inputs import InputError, read_paths
from incidents.management.commands._importing import ProgressPrinter, add_encoding_argument, print_result


class Command(BaseCommand):
    help = (
        "Import districts (GeoJSON or Opendatasoft JSON polygons) keyed on their code; INSEE 'grands quartiers' "
        "and IRIS columns are recognised, others are named with --map code=PROP --map name=PROP."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH", help="A file or a folder of files.")
        parser.add_argument("--map", action="append", default=[], metavar="FIELD=PROP", help="Fields: code, name.")
        add_encoding_argument(parser)

    def handle(self, *args, **options):
        try:
            result = import_districts(
                read_paths(options["paths"], encoding=options["encoding"]),
                field_map=parse_map_options(options["map"], DISTRICT_FIELDS),
                progress=ProgressPrinter(self.stderr),
            )
        except InputError as error:
            raise CommandError(str(error)) from None
        print_result(self, result, options["verbosity"])
