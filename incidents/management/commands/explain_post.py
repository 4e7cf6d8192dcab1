"""Show how one post would be located and classified (who it affects, whether it is a follow-up), with the evidence."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from incidents.classify.lexicon import classify
from incidents.locate.gazetteer import get_gazetteer
from incidents.locate.locator import Locator
from incidents.pipeline.decide import read_with_place
from incidents.sources.record import PostRecord


class Command(BaseCommand):
    help = (
        "Locate and classify TEXT as the pipeline would, printing the evidence: useful when "
        "extending the lexicon (INCIDENTS_LEXICON_FILE) or checking street names."
    )

    def add_arguments(self, parser):
        parser.add_argument("text", help="the text of a post")
        parser.add_argument("--lang", default="", help="language code of the post, e.g. fr or en")
        parser.add_argument("--lonlat", help="device position 'LON,LAT'")
        parser.add_argument("--place-bbox", help="place box 'MINLON,MINLAT,MAXLON,MAXLAT'")
        parser.add_argument("--place-type", default="", help="X place type: poi, neighborhood, city, admin, country")
        parser.add_argument("--place-name", default="", help="name of the attached place")

    def handle(self, *args, **options):
        lon = lat = None
        if options["lonlat"]:
            lon, lat = _floats(options["lonlat"], 2, "--lonlat", "1.444,43.604")
        bbox = (
            _floats(options["place_bbox"], 4, "--place-bbox", "1.44,43.60,1.45,43.61")
            if options["place_bbox"]
            else None
        )
        record = PostRecord(
            source="explain",
            external_id="explain",
            text=options["text"],
            posted_at=dt.datetime.now(dt.UTC),
            language=options["lang"],
            lon=lon,
            lat=lat,
            place_bbox=bbox,
            place_type=options["place_type"],
            place_name=options["place_name"],
        )
        gazetteer = get_gazetteer()
        location = Locator(gazetteer).locate(record)
        result = read_with_place(record, classify(record.text, record.language), location)
        self.stdout.write(
            _("streets indexed: %(streets)s (from %(segments)s segments)")
            % {"streets": len(gazetteer), "segments": gazetteer.fingerprint[0]}
        )
        self.stdout.write(_("location: %(method)s") % {"method": location.method})
        if location.found:
            self.stdout.write(
                _("  lon/lat: %(lon)s, %(lat)s  accuracy: %(accuracy)s m")
                % {"lon": f"{location.lon:.6f}", "lat": f"{location.lat:.6f}", "accuracy": f"{location.accuracy_m:.0f}"}
            )
        if location.matched_text:
            self.stdout.write(_("  matched: %(text)r") % {"text": location.matched_text})
        if location.note:
            self.stdout.write(_("  note: %(note)s") % {"note": location.note})
        verdict = _("relevant") if result.is_relevant else _("not relevant")
        self.stdout.write(
            _("relevance: %(relevance)s (%(verdict)s)") % {"relevance": f"{result.relevance:.2f}", "verdict": verdict}
        )
        self.stdout.write(
            _("category: %(category)s (score %(score)s)")
            % {"category": result.category.value, "score": f"{result.score:.2f}"}
        )
        self.stdout.write(
            _("affects: %(affects)s")
            % {"affects": ", ".join(f"{value.value} ({value.label})" for value in result.affects) or "-"}
        )
        follow_up = result.follow_up
        self.stdout.write(
            _("follow-up: %(kind)s") % {"kind": f"{follow_up.value} ({follow_up.label})" if follow_up else _("none")}
        )
        self.stdout.write(_("  evidence: %(evidence)s") % {"evidence": ", ".join(result.evidence) or "-"})


def _floats(value: str, count: int, option: str, example: str) -> tuple[float, ...]:
    try:
        numbers = tuple(float(part) for part in value.split(","))
    except ValueError:
        numbers = ()
    if len(numbers) != count:
        raise CommandError(
            _("%(option)s takes %(count)s comma-separated numbers, e.g. %(option)s %(example)s")
            % {"option": option, "count": count, "example": example}
        )
    return numbers
