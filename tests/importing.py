"""Helpers for the importer tests: run a command, write small input files."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
TOULOUSE = FIXTURES / "toulouse"
WZDX = FIXTURES / "wzdx"
SENS = TOULOUSE / "sens-de-circulation.geojson"
ZONES = TOULOUSE / "zones-de-rencontre.geojson"
OSM = TOULOUSE / "osm_busca_extract.osm"
WORKS_2014 = TOULOUSE / "chantiers-en-cours_2014_daily_snapshots.json"
WORKS_2026 = TOULOUSE / "chantiers-en-cours_2026_sample.json"


def run(*args: Any) -> str:
    """Run a management command; return what it printed on stdout."""
    out = StringIO()
    call_command(*[str(a) for a in args], stdout=out, stderr=StringIO())
    return out.getvalue()


def write_json(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def feature(props: dict, geometry: dict | None, **extra: Any) -> dict:
    return {"type": "Feature", "properties": props, "geometry": geometry, **extra}


def collection(*features: dict) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def line(*coords: tuple[float, float]) -> dict:
    return {"type": "LineString", "coordinates": [list(c) for c in coords]}
