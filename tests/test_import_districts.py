"""import_districts: district polygons keyed on their code."""

import pytest

from incidents.models import District
from tests.importing import TOULOUSE, run

pytestmark = pytest.mark.django_db


def test_insee_grands_quartiers_need_no_map():
    out = run("import_districts", TOULOUSE / "toulouse_grands_quartiers_insee2019.geojson")
    assert "districts: 60 read, 60 created" in out
    arnaud_bernard = District.objects.get(code="3155502")
    assert arnaud_bernard.name == "Arnaud Bernard"
    assert arnaud_bernard.geom.geom_type == "MultiPolygon"
    again = run("import_districts", TOULOUSE / "toulouse_grands_quartiers_insee2019.geojson")
    assert "0 created, 0 updated, 60 unchanged" in again
