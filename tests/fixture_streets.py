"""The Toulouse street fixtures as gazetteer rows or StreetSegment rows (tests and bench scripts).

A deliberately small reader of the two Toulouse GeoJSON files (``street``, ``commune``,
``id_seg_ges``, MultiLineString): the real importer lives in the import stage; this only
gives the locator tests and evaluations real streets without depending on it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import shapely

from incidents.locate.gazetteer import StreetRow

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "toulouse"
STREET_FILES = ("sens-de-circulation.geojson", "zones-de-rencontre.geojson")


def iter_fixture_features(files: Iterable[str] = STREET_FILES) -> Iterator[tuple[str, str, str, dict]]:
    """``(source_id, name, commune, geometry)`` for every named segment of the fixture files."""
    for file_name in files:
        data = json.loads((FIXTURES / file_name).read_text(encoding="utf-8"))
        for number, feature in enumerate(data["features"]):
            properties = feature["properties"]
            name = (properties.get("street") or "").strip()
            if not name or not feature.get("geometry"):
                continue
            source_id = f"{file_name.split('.')[0]}:{properties.get('id_seg_ges') or number}:{number}"
            yield source_id, name, (properties.get("commune") or "").strip(), feature["geometry"]


def fixture_street_rows(files: Iterable[str] = STREET_FILES) -> list[StreetRow]:
    return [
        StreetRow(name, commune, shapely.geometry.shape(geometry))
        for _, name, commune, geometry in iter_fixture_features(files)
    ]


def load_fixture_streets(names: Iterable[str] | None = None, files: Iterable[str] = STREET_FILES) -> int:
    """Store fixture segments as StreetSegment rows (all, or those whose name is in ``names``)."""
    from django.contrib.gis.geos import GEOSGeometry

    from incidents.geo import LengthMetres
    from incidents.locate.normalize import normalize_street_name
    from incidents.models import StreetSegment

    wanted = set(names) if names is not None else None
    segments = []
    for source_id, name, commune, geometry in iter_fixture_features(files):
        if wanted is not None and name not in wanted:
            continue
        geom = GEOSGeometry(json.dumps(geometry), srid=4326)
        segments.append(
            StreetSegment(
                source="fixture",
                source_id=source_id,
                name=name,
                name_normalized=normalize_street_name(name),
                commune=commune,
                geom=geom,
                length_m=0,
            )
        )
    StreetSegment.objects.bulk_create(segments, batch_size=2_000)
    StreetSegment.objects.filter(source="fixture", length_m=0).update(length_m=LengthMetres("geom"))
    return len(segments)
