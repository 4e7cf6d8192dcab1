"""Posts outside the city's service area must be recognised."""

import pytest
from django.contrib.gis.geos import Point

from incidents.models import ServiceArea
from incidents.pipeline.areas import is_in_service_area
from incidents.services.areas import set_service_area_from_districts, set_service_area_from_streets
from tests.conftest import CAPITOLE, offset

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
