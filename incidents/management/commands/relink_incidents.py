"""manage.py relink_incidents: recompute segment and works links after streets or works changed."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from incidents.pipeline.link import relink_incidents


def _ids(value: str) -> list[int]:
    try:
        return [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise CommandError(_("expected comma-separated ids, got %(value)r") % {"value": value}) from None


def _bbox(value: str) -> tuple[float, float, float, float]:
    try:
        min_lon, min_lat, max_lon, max_lat = (float(part) for part in value.split(","))
    except ValueError:
        raise CommandError(
            _("--bbox expects min_lon,min_lat,max_lon,max_lat (WGS84), got %(value)r") % {"value": value}
        ) from None
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise CommandError(_("--bbox %(value)r is not a WGS84 box with min before max") % {"value": value})
    return min_lon, min_lat, max_lon, max_lat


class Command(BaseCommand):
    help = (
        "Recompute the nearest segment and the works links of located posts, then their incidents' links, "
        "totals and priority. Limit it to what an import changed with --bbox, --segments or --works; "
        "with none of them every located post is relinked. Grouping is kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bbox", help="only posts near this box: min_lon,min_lat,max_lon,max_lat")
        parser.add_argument("--segments", help="only posts near these street segment ids (comma-separated)")
        parser.add_argument("--works", help="only posts near or linked to these works zone ids (comma-separated)")

    def handle(self, *args, bbox: str | None, segments: str | None, works: str | None, **options) -> None:
        report = relink_incidents(
            extent=_bbox(bbox) if bbox else None,
            segment_ids=_ids(segments) if segments else None,
            works_zone_ids=_ids(works) if works else None,
        )
        posts = ngettext("%(count)s post relinked", "%(count)s posts relinked", report.posts)
        incidents = ngettext("%(count)s incident refreshed", "%(count)s incidents refreshed", report.incidents)
        self.stdout.write(
            _("%(posts)s; %(incidents)s.")
            % {
                "posts": posts % {"count": f"{report.posts:,}"},
                "incidents": incidents % {"count": f"{report.incidents:,}"},
            }
        )
