"""The demo as a new user gets it, served live, for the GIS clients (GDAL, QGIS) to open."""

from __future__ import annotations

import shutil

import pytest
import requests
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.core.management import call_command

from incidents.models import WorksZone
from incidents.publish.layers import COLLECTIONS
from incidents.services.works import refresh_impact_areas
from tests.conftest import paris


@pytest.fixture
def demo(live_server, transactional_db) -> dict[str, int]:
    """``load_demo``, plus one works zone announced as an area (the demo has none), so that every
    collection has features; returns each collection's ``numberMatched``."""
    call_command("load_demo", verbosity=0)
    zone = WorksZone.objects.create(
        source="test",
        source_id="area-1",
        title="Réfection de la place",
        geom=Polygon.from_bbox((1.4425, 43.6040, 1.4450, 43.6050)),  # around the Capitole
        impact_area=MultiPolygon(Polygon.from_bbox((0, 0, 0, 0)), srid=4326),
        starts_at=paris(2014, 9, 1),
        ends_at=paris(2014, 9, 30),
    )
    refresh_impact_areas(WorksZone.objects.filter(pk=zone.pk), None)
    counts = {}
    for name in COLLECTIONS:
        page = requests.get(f"{live_server.url}/ogc/collections/{name}/items", params={"limit": 1}, timeout=60).json()
        counts[name] = page["numberMatched"]
    assert all(counts.values()), counts
    return counts


def need(program: str) -> str:
    """The path of ``program``; scripts/setup.sh --dev installs it, so a missing one fails the test."""
    path = shutil.which(program)
    assert path, f"{program} is missing: run scripts/setup.sh --dev"
    return path
