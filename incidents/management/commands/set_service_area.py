"""manage.py set_service_area --from districts|streets|FILE [--name NAME] [--buffer M]"""

import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from incidents.inputs import InputError, read_inputs
from incidents.models import ServiceArea
from incidents.services.areas import (
    set_service_area_from_districts,
    set_service_area_from_file,
    set_service_area_from_streets,
)

DISTRICTS, STREETS = "districts", "streets"


class Command(BaseCommand):
    help = (
        "Set a service area, the territory the city answers for (posts located outside every service area are "
        "'out of area'): the union of the loaded districts, the loaded streets grown by a margin, or the polygons "
        "of a GeoJSON file. Setting an area again under the same name replaces it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--from",
            dest="origin",
            required=True,
            metavar="districts|streets|FILE",
            help="'districts', 'streets', or a GeoJSON file of polygons (a folder of them, or - for standard input).",
        )
        parser.add_argument("--name", help="Name of the area (default: 'city'; 'streets' for --from streets).")
        parser.add_argument(
            "--buffer",
            type=float,
            metavar="M",
            help="Grow the area by M metres (default: 0; INCIDENTS_SERVICE_AREA_BUFFER_M for --from streets).",
        )

    def handle(self, *args, origin: str, name: str | None, buffer: float | None, **options):
        if buffer is not None and buffer < 0:
            raise CommandError(_("--buffer takes metres, 0 or more; e.g. --buffer 200"))
        if origin == DISTRICTS:
            area = set_service_area_from_districts(name or "city", buffer or 0)
            if area is None:
                raise CommandError(
                    _(
                        "no district is loaded: import them first (manage.py import_districts FILE), "
                        "or give --from FILE."
                    )
                )
        elif origin == STREETS:
            area = set_service_area_from_streets(name or STREETS, buffer)
            if area is None:
                raise CommandError(
                    _("no street is loaded: import them first (manage.py import_streets FILE), or give --from FILE.")
                )
        else:
            try:
                inputs = read_inputs(origin, stdin=sys.stdin.buffer if origin == "-" else None)
                area = set_service_area_from_file(inputs, name or "city", buffer or 0)
            except InputError as error:
                raise CommandError(str(error)) from None
        measured = ServiceArea.objects.with_area().get(pk=area.pk)
        self.stdout.write(
            self.style.SUCCESS(
                _("service area %(name)s set from %(origin)s: %(polygons)s polygon(s), %(km2)s km²")
                % {
                    "name": area.name,
                    "origin": origin,
                    "polygons": area.geom.num_geom,
                    "km2": f"{measured.area_m2 / 1e6:,.1f}",
                }
            )
        )
        names = ", ".join(ServiceArea.objects.order_by("name").values_list("name", flat=True))
        self.stdout.write(
            _("service areas now: %(names)s (a post is in the area when any of them covers it)") % {"names": names}
        )
