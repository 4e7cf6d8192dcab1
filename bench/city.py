"""
Load the Toulouse fixtures (streets, 2014 works, districts) for benchmarks and evaluations.

A small stand-in for the importers (``incidents/importers/``), which are written
separately: once they are merged, benchmarks and evaluations can call them instead.
Rows are created with plain bulk inserts; metric columns are computed in PostGIS.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Point, Polygon
from django.db import connection, transaction

from incidents.geo import LengthMetres
from incidents.locate.normalize import normalize_street_name
from incidents.models import District, StreetSegment, WorksZone
from incidents.services.areas import set_service_area_from_streets
from incidents.services.works import refresh_impact_areas

ROOT = Path(__file__).resolve().parent.parent
TOULOUSE = ROOT / "fixtures" / "toulouse"
PARIS = ZoneInfo("Europe/Paris")
STREET_FILES = ("sens-de-circulation.geojson", "zones-de-rencontre.geojson")


@transaction.atomic
def load_streets() -> int:
    segments = []
    for file_name in STREET_FILES:
        for index, feature in enumerate(json.loads((TOULOUSE / file_name).read_text())["features"]):
            props = feature["properties"]
            segments.append(
                StreetSegment(
                    source="toulouse",
                    source_id=f"{file_name.split('.')[0]}:{props.get('id_seg_obs') or index}:{index}",
                    name=props["street"].strip(),
                    name_normalized=normalize_street_name(props["street"]),
                    street_id=str(props.get("codsti") or ""),
                    commune=props["commune"].upper(),
                    insee_code=str(props.get("code_insee") or "")[:5],
                    geom=GEOSGeometry(json.dumps(feature["geometry"]), srid=4326),
                    length_m=0,
                    properties=props,
                )
            )
    StreetSegment.objects.bulk_create(segments, batch_size=1000)
    StreetSegment.objects.update(length_m=LengthMetres("geom"))
    set_service_area_from_streets()
    return len(segments)


@transaction.atomic
def load_works() -> int:
    rows = json.loads((TOULOUSE / "chantiers-en-cours_2014_daily_snapshots.json").read_text())
    seen: dict[str, dict] = {}
    snapshots: dict[str, list[dt.datetime]] = {}
    for row in rows:
        key = repr(row["id"])
        seen.setdefault(key, row)
        snapshots.setdefault(key, []).append(dt.datetime.fromisoformat(row["date"]).replace(tzinfo=PARIS))
    zones = []
    for key, row in seen.items():
        starts = dt.datetime.strptime(row["datedebut"], "%Y%m%d").replace(tzinfo=PARIS)
        ends = dt.datetime.strptime(row["datefin"], "%Y%m%d").replace(hour=23, minute=59, tzinfo=PARIS)
        circulation = row.get("circulation") or ""
        zones.append(
            WorksZone(
                source="toulouse-2014",
                source_id=key,
                title=row.get("libelle", "")[:500],
                nature=row.get("nature", "")[:500],
                road_names=[part.split("(")[0].strip() for part in row.get("voie", "").split("|") if part.strip()],
                declarant=row.get("declarant", ""),
                contractor=row.get("entreprise", ""),
                starts_at=starts,
                ends_at=max(ends, starts),
                geom=Point(row["X_WGS84"], row["Y_WGS84"], srid=4326),
                impact_area=MultiPolygon(Polygon.from_bbox((0, 0, 0, 0)), srid=4326),
                impact_pedestrian="trottoir" in circulation.lower(),
                impact_closure="barrée" in circulation.lower(),
                impact_vehicle="file" in circulation.lower() or "alternat" in circulation.lower(),
                impact_cycle="cyclable" in circulation.lower(),
                impact_text=circulation,
                first_seen_at=min(snapshots[key]),
                last_seen_at=max(snapshots[key]),
            )
        )
    WorksZone.objects.bulk_create(zones, batch_size=1000)
    refresh_impact_areas()
    return len(zones)


@transaction.atomic
def load_districts() -> int:
    features = json.loads((TOULOUSE / "toulouse_grands_quartiers_insee2019.geojson").read_text())["features"]
    districts = []
    for feature in features:
        geometry = GEOSGeometry(json.dumps(feature["geometry"]), srid=4326)
        if geometry.geom_type == "Polygon":
            geometry = MultiPolygon(geometry, srid=4326)
        props = feature["properties"]
        districts.append(District(code=props["grd_quart"], name=props["lib_grd_quart"], geom=geometry))
    District.objects.bulk_create(districts)
    return len(districts)


def load_toulouse() -> dict[str, int]:
    """Load streets (and their service area), works and districts; return the counts."""
    return {"streets": load_streets(), "works": load_works(), "districts": load_districts()}


@contextmanager
def scratch_database(name: str, keep: bool = False) -> Iterator[None]:
    """Create the database ``name`` with the migrations, use it, then drop it (unless ``keep``)."""
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    old_name = connection.settings_dict["NAME"]
    print(f"creating the database {name} ...", flush=True)
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield
    finally:
        connection.close()
        if not keep:
            connection.creation.destroy_test_db(old_name, verbosity=0)
