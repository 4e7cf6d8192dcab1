"""Toulouse Métropole roadworks (``chantiers-en-cours``), in its two published shapes.

* **2014 daily snapshots**: a list of rows with a point (``X_WGS84``/``Y_WGS84``),
  dates as ``YYYYMMDD``, and ``date``, the time of the snapshot. Rows have no permit
  number: their ``id`` is a site code shared by every works at the same point. A zone
  is one row identity inside a site, ``<site id>:<hash of voie + nature>``; it
  repeats across snapshots and becomes one zone with first/last seen times. Each
  snapshot is a full one: a zone missing from a later snapshot is withdrawn as of it.
* **the current API** (Opendatasoft v2.1 ``results``): ``numero`` (the permit number,
  our source id), ``geo_shape`` (usually a line), ISO dates, ``entreprise``,
  ``commentaire``. The answer is a full snapshot only when it holds all
  ``total_count`` records and a snapshot time is given (``--as-of``).

Dates: the dataset's fields are calendar dates in Toulouse. The API serves them as
UTC midnight (``2026-08-03T00:00:00+00:00``): they are read as the local day, and an
end date means the end of that local day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from incidents.importers.fields import FieldMap
from incidents.importers.geojson import (
    Feature,
    all_properties,
    build_works,
    iter_features,
    note_partial,
    parse_features,
)
from incidents.importers.records import ParsedFile, Progress, WorksRecord, no_progress
from incidents.importers.values import text
from incidents.inputs import InputFile

PRESET = {
    "id": ("numero",),
    "reference": ("numero",),
    "title": ("libelle",),
    "description": ("commentaire",),
    "nature": ("nature",),
    "road": ("voie",),
    "commune": ("commune",),
    "declarant": ("declarant",),
    "contractor": ("entreprise",),
    "start": ("datedebut",),
    "end": ("datefin",),
    "impact": ("circulation",),
    "seen": ("date",),
    "lon": ("X_WGS84",),
    "lat": ("Y_WGS84",),
}
DEFAULT_SOURCE = "toulouse"


def detect(input_file: InputFile) -> bool:
    """True for JSON records with the chantiers-en-cours attributes."""
    if not input_file.looks_like_json:
        return False
    keys = all_properties(iter_features(input_file.json(), input_file.name).features)
    return "datedebut" in keys and bool({"circulation", "X_WGS84", "numero"} & keys)


def site_zone_id(feature: Feature) -> str | None:
    """The zone id of a 2014 row: its site code plus a digest of what and where; None for API rows."""
    props = feature.properties
    site = props.get("id")
    if props.get("numero") or site in (None, ""):
        return None
    identity = "|".join([text(props.get("voie")), text(props.get("nature"))])
    digest = hashlib.sha1(identity.encode(), usedforsecurity=False).hexdigest()[:12]
    return f"{site!r}:{digest}" if isinstance(site, float) else f"{text(site)}:{digest}"


def parse(
    input_file: InputFile,
    overrides: Mapping[str, str],
    progress: Progress = no_progress,
    as_of: dt.datetime | None = None,
    **_options: Any,
) -> ParsedFile[WorksRecord]:
    fields = FieldMap(PRESET, overrides)
    parsed: ParsedFile[WorksRecord] = ParsedFile(default_source=DEFAULT_SOURCE)

    def build(feature: Feature) -> WorksRecord:
        zone_id = None if "id" in (overrides or {}) else site_zone_id(feature)
        return build_works(feature, fields, source_id=zone_id, seen_at=as_of, utc_midnight_is_a_day=True)

    features = parse_features(input_file, build, parsed, progress, fields)
    stamps = sorted({record.seen_at for record in parsed.records if record.seen_at is not None})
    stamped_in_file = any(fields.get(f.properties, "seen") for f in features.features)
    partial = note_partial(parsed, features, input_file.name)
    if not partial and (stamped_in_file or as_of is not None):
        # Daily exports are full snapshots of the works in progress.
        parsed.snapshots.extend(stamps)
    if not stamps:
        parsed.notes.append(
            _(
                "%(name)s: no snapshot time; give --as-of to record when it was taken "
                "and withdraw zones missing from it."
            )
            % {"name": input_file.name}
        )
    return parsed
