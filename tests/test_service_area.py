"""Posts outside the city's service area must be recognised; cities set their area with set_service_area."""

import io
import json
import sys

import pytest
from django.contrib.gis.geos import Point
from django.core.management.base import CommandError
from django.utils import translation

from incidents.models import ServiceArea
from incidents.pipeline.areas import is_in_service_area
from incidents.services.areas import set_service_area_from_districts, set_service_area_from_streets
from tests.conftest import CAPITOLE, offset
from tests.importing import collection, feature, run, write_json

pytestmark = pytest.mark.django_db

PARIS_NOTRE_DAME = Point(2.349902, 48.852968, srid=4326)


def test_without_any_area_nothing_is_out_of_area():
    assert is_in_service_area(PARIS_NOTRE_DAME)


def test_union_of_districts(make_district):
    make_district("3155502", "Arnaud Bernard", (1.43, 43.60, 1.445, 43.615))
    make_district("3155503", "Capitole", (1.445, 43.60, 1.46, 43.615))
    area = set_service_area_from_districts()
    assert area.source == "districts"
    assert is_in_service_area(Point(1.435, 43.605, srid=4326))
    assert is_in_service_area(Point(1.455, 43.605, srid=4326))
    assert not is_in_service_area(Point(1.47, 43.605, srid=4326))
    assert not is_in_service_area(PARIS_NOTRE_DAME)


def test_districts_area_is_replaced_not_duplicated(make_district):
    make_district("1", "A", (1.43, 43.60, 1.445, 43.615))
    set_service_area_from_districts()
    make_district("2", "B", (1.445, 43.60, 1.46, 43.615))
    set_service_area_from_districts()
    assert ServiceArea.objects.count() == 1
    assert is_in_service_area(Point(1.455, 43.605, srid=4326))


def test_no_districts_no_area():
    assert set_service_area_from_districts() is None
    assert not ServiceArea.objects.exists()


def test_extent_of_streets_buffered_in_metres(make_segment):
    make_segment(coords=[CAPITOLE.coords, offset(CAPITOLE, east_m=300).coords])
    set_service_area_from_streets(buffer_m=100)
    assert is_in_service_area(offset(CAPITOLE, east_m=150, north_m=90))
    assert not is_in_service_area(offset(CAPITOLE, east_m=150, north_m=400))
    assert not is_in_service_area(PARIS_NOTRE_DAME)


def test_any_of_several_areas_counts(make_district, make_segment):
    make_district("1", "A", (1.43, 43.60, 1.445, 43.615))
    set_service_area_from_districts()
    far_street = Point(1.6, 43.7, srid=4326)
    make_segment(coords=[far_street.coords, offset(far_street, east_m=50).coords])
    set_service_area_from_streets(buffer_m=50)
    assert is_in_service_area(far_street)
    assert is_in_service_area(Point(1.435, 43.605, srid=4326))
    assert not is_in_service_area(PARIS_NOTRE_DAME)


# --- manage.py set_service_area -------------------------------------------------------------


SQUARE = {
    "type": "Polygon",
    "coordinates": [[[1.43, 43.60], [1.445, 43.60], [1.445, 43.615], [1.43, 43.615], [1.43, 43.60]]],
}
FAR_SQUARE = {"type": "Polygon", "coordinates": [[[1.60, 43.70], [1.61, 43.70], [1.61, 43.71], [1.60, 43.70]]]}


def set_area(*args) -> str:
    return run("set_service_area", *args)


class TestSetServiceAreaCommand:
    def test_from_districts(self, make_district):
        make_district("1", "A", (1.43, 43.60, 1.445, 43.615))
        out = set_area("--from", "districts")
        assert "service area city set from districts: 1 polygon(s), " in out
        assert "service areas now: city" in out
        area = ServiceArea.objects.get(name="city")
        assert area.source == "districts"
        assert is_in_service_area(Point(1.435, 43.605, srid=4326))
        assert not is_in_service_area(Point(1.447, 43.605, srid=4326))
        # A buffer grows it, in metres.
        set_area("--from", "districts", "--buffer", "300")
        assert is_in_service_area(Point(1.447, 43.605, srid=4326))

    def test_from_streets(self, make_segment):
        make_segment(coords=[CAPITOLE.coords, offset(CAPITOLE, east_m=300).coords])
        out = set_area("--from", "streets", "--buffer", "100")
        assert "service area streets set from streets: 1 polygon(s)" in out
        assert ServiceArea.objects.get().source == "streets"
        assert is_in_service_area(offset(CAPITOLE, east_m=150, north_m=90))
        assert not is_in_service_area(offset(CAPITOLE, east_m=150, north_m=400))

    def test_from_a_geojson_file_of_features_or_a_bare_polygon(self, tmp_path):
        features = write_json(
            tmp_path / "area.geojson", collection(feature({"nom": "A"}, SQUARE), feature({}, FAR_SQUARE))
        )
        out = set_area("--from", features, "--name", "metropole")
        assert "service area metropole set from " in out
        assert "2 polygon(s)" in out
        area = ServiceArea.objects.get(name="metropole")
        assert area.source == "manual"
        assert is_in_service_area(Point(1.435, 43.605, srid=4326))
        assert is_in_service_area(Point(1.605, 43.701, srid=4326))
        assert not is_in_service_area(PARIS_NOTRE_DAME)
        # Again from a bare geometry: the area of that name is replaced, not added.
        set_area("--from", write_json(tmp_path / "one.json", SQUARE), "--name", "metropole")
        assert ServiceArea.objects.count() == 1
        assert not is_in_service_area(Point(1.605, 43.701, srid=4326))

    def test_from_standard_input(self, monkeypatch):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(json.dumps(SQUARE).encode())))
        assert "service area city set from -: 1 polygon(s)" in set_area("--from", "-")
        assert is_in_service_area(Point(1.435, 43.605, srid=4326))

    def test_output_follows_the_language(self, make_district):
        make_district("1", "A", (1.43, 43.60, 1.445, 43.615))
        with translation.override("fr"):
            out = set_area("--from", "districts")
        assert "zone de service city définie depuis districts" in out

    @pytest.mark.parametrize(
        ("document", "message"),
        [
            (b"", r"the file is empty"),
            (b"{not json", r"area\.geojson: malformed JSON at line 1"),
            (json.dumps(collection(feature({}, {"type": "Point", "coordinates": [1.44, 43.6]}))).encode(),
             r"area\.geojson: features\[0\]: Point geometry where a polygon is expected; a service area is made of "
             r"polygons only"),
            (json.dumps(collection()).encode(), r"area\.geojson: no polygon; give a GeoJSON Polygon, MultiPolygon"),
            (b'{"hello": "world"}', r"neither GeoJSON"),
        ],
        ids=["empty", "malformed", "points", "no-features", "not-geojson"],
    )  # fmt: skip
    def test_bad_files_are_refused_and_change_nothing(self, tmp_path, make_district, document, message):
        make_district("1", "A", (1.43, 43.60, 1.445, 43.615))
        set_area("--from", "districts")
        before = ServiceArea.objects.get().geom
        path = tmp_path / "area.geojson"
        path.write_bytes(document)
        with pytest.raises(CommandError, match=message):
            set_area("--from", path)
        assert ServiceArea.objects.get().geom.equals(before)

    def test_nothing_loaded_and_bad_options(self, tmp_path):
        with pytest.raises(CommandError, match=r"no district is loaded: import them first"):
            set_area("--from", "districts")
        with pytest.raises(CommandError, match=r"no street is loaded: import them first"):
            set_area("--from", "streets")
        with pytest.raises(CommandError, match=r"nowhere\.geojson: no such file or folder"):
            set_area("--from", tmp_path / "nowhere.geojson")
        with pytest.raises(CommandError, match=r"--buffer takes metres, 0 or more"):
            set_area("--from", "districts", "--buffer", "-5")
        assert not ServiceArea.objects.exists()
