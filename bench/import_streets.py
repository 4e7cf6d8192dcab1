"""Benchmark: import 100k generated street segments, next to a naive per-row ORM baseline.

    DJANGO_DEBUG=1 .venv/bin/python bench/import_streets.py [--count 100000] [--baseline 2000]

Generates a GeoJSON FeatureCollection of ``--count`` segments (5 vertices each, on a
grid over Toulouse), imports it with ``import_streets`` (COPY + set-based upsert), then
imports it again (the no-op path). The baseline writes ``--baseline`` segments the way a
naive importer would, one ``update_or_create`` and one length update per row; its rate
is measured in the same run and extrapolated to ``--count``. Rows are written under the
sources ``bench`` and ``bench-orm`` of the configured database and deleted afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityincidents.settings")

import django

django.setup()

from django.contrib.gis.geos import LineString, MultiLineString  # noqa: E402

from incidents.geo import LengthMetres  # noqa: E402
from incidents.importers import import_streets  # noqa: E402
from incidents.inputs import InputFile  # noqa: E402
from incidents.locate.normalize import normalize_street_name  # noqa: E402
from incidents.models import StreetSegment  # noqa: E402

STREET_TYPES = ["RUE", "AV", "BD", "ALL", "IMP", "PL", "CHE"]


def generate(count: int) -> list[dict]:
    """``count`` segments of 5 vertices, about 80 m long, on a grid around the Capitole."""
    side = int(count**0.5) + 1
    features = []
    for index in range(count):
        row, col = divmod(index, side)
        lon, lat = 1.30 + col * 0.0009, 43.50 + row * 0.0007
        coords = [[lon + step * 0.0002, lat + (step % 2) * 0.00005] for step in range(5)]
        name = f"{STREET_TYPES[index % len(STREET_TYPES)]} DU GENERATEUR {index // 7}"
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "MultiLineString", "coordinates": [coords]},
                "properties": {"id": index, "name": name, "commune": "TOULOUSE", "insee": "31555"},
            }
        )
    return features


def naive_orm(features: list[dict]) -> float:
    """Seconds to write ``features`` one row at a time through the ORM."""
    started = time.perf_counter()
    for f in features:
        props = f["properties"]
        geom = MultiLineString(*[LineString(part, srid=4326) for part in f["geometry"]["coordinates"]], srid=4326)
        segment, _ = StreetSegment.objects.update_or_create(
            source="bench-orm",
            source_id=str(props["id"]),
            defaults={
                "name": props["name"],
                "name_normalized": normalize_street_name(props["name"]),
                "commune": props["commune"],
                "insee_code": props["insee"],
                "geom": geom,
                "length_m": 0,
                "properties": props,
            },
        )
        StreetSegment.objects.filter(pk=segment.pk).update(length_m=LengthMetres("geom"))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=2_000)
    args = parser.parse_args()

    StreetSegment.objects.filter(source__in=["bench", "bench-orm"]).delete()
    features = generate(args.count)
    data = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    print(f"generated {args.count:,} segments ({len(data) / 1e6:.1f} MB of GeoJSON)")
    try:
        first = import_streets([InputFile("bench.geojson", data)], format="geojson", source="bench")
        print(f"bulk import:    {first.seconds:6.2f} s  {first.rate:9,.0f} segments/s  ({first.summary()})")
        again = import_streets([InputFile("bench.geojson", data)], format="geojson", source="bench")
        print(f"bulk re-import: {again.seconds:6.2f} s  {again.rate:9,.0f} segments/s  ({again.unchanged:,} unchanged)")

        subset = features[: args.baseline]
        seconds = naive_orm(subset)
        rate = len(subset) / seconds
        extrapolated = args.count / rate
        print(
            f"naive ORM:      {seconds:6.2f} s  {rate:9,.0f} segments/s  for {len(subset):,} rows "
            f"(extrapolated to {args.count:,}: {extrapolated:,.0f} s)"
        )
        print(f"ratio: bulk import is {first.rate / rate:,.0f}x the per-row ORM rate (same run, same database)")
    finally:
        StreetSegment.objects.filter(source__in=["bench", "bench-orm"]).delete()


if __name__ == "__main__":
    main()
