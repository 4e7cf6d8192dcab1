"""manage.py load_demo loads the Toulouse demo from fixtures/ and is idempotent."""

import pytest
from django.contrib.gis.geos import Point

from incidents.demo import DEMO_STEPS
from incidents.models import District, Incident, Post, ServiceArea, StreetSegment, WorksZone
from incidents.pipeline.areas import is_in_service_area
from tests.conftest import CAPITOLE, paris
from tests.importing import run

pytestmark = pytest.mark.django_db


# A field that moves whenever the row is written again.
CHANGE_MARK = {District: "name", Post: "processed_at"}


def snapshot() -> dict:
    return {
        model.__name__: sorted(model.objects.values_list("id", CHANGE_MARK.get(model, "updated_at")))
        for model in (StreetSegment, WorksZone, District, ServiceArea, Post, Incident)
    }


def test_load_demo_then_again_changes_nothing():
    out = run("load_demo")
    assert [step.label for step in DEMO_STEPS] == ["districts", "streets", "service area", "works", "posts"]
    assert "districts: 60 read, 60 created" in out
    assert "streets (source toulouse): 3,785 read, 3,310 created" in out
    assert "works (source toulouse): 2,676 read, 478 created" in out
    assert "works (source toulouse): 3 read, 3 created" in out
    assert District.objects.count() == 60
    assert StreetSegment.objects.count() == 3310
    assert WorksZone.objects.count() == 481
    # The service area: the city's districts plus the streets' surroundings (Blagnac, Colomiers...).
    assert set(ServiceArea.objects.values_list("name", flat=True)) == {"city", "streets"}
    assert is_in_service_area(CAPITOLE)
    assert is_in_service_area(Point(1.3379, 43.6152, srid=4326))  # Colomiers, outside Toulouse's districts
    assert not is_in_service_area(Point(2.3499, 48.8530, srid=4326))
    # Works active on the demo's day, some of them on the pavement.
    assert WorksZone.objects.active_on(paris(2014, 9, 8).date()).affecting_pedestrians().count() > 100

    # The generated posts, through the pipeline: the founding story is the first incident by priority.
    assert Post.objects.filter(state="located").count() > 300
    top = Incident.objects.by_priority().first()
    assert top.segment.name == "RUE DE LA BALANCE"
    assert top.post_count >= 5
    assert top.works_zones.filter(impact_pedestrian=True).exists()

    before = snapshot()
    again = run("load_demo")
    assert "3,310 unchanged" in again
    assert "478 unchanged" in again
    assert "[3/5] service area" in again
    assert "0 posts created" in again
    assert "unchanged" in again.split("service area")[1].splitlines()[0]
    assert snapshot() == before
