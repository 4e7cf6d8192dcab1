"""What an incident says of itself beyond its point: who it harms, how far its point is known, what it repeats."""

from __future__ import annotations

import pytest

from incidents.locate.locator import GPS_ACCURACY_M
from incidents.models import IncidentStatus
from incidents.services.incidents import change_incident_status
from tests.api.conftest import body
from tests.conftest import CAPITOLE, offset, paris
from tests.pipeline.conftest import post

pytestmark = pytest.mark.django_db


@pytest.fixture
def boulevard(make_segment):
    """A 2 km boulevard in two segments, and a short street beside it."""
    west = make_segment("BD DE STRASBOURG", [CAPITOLE.coords, offset(CAPITOLE, east_m=1000).coords])
    east = make_segment("BD DE STRASBOURG", [offset(CAPITOLE, east_m=1000).coords, offset(CAPITOLE, 2000).coords])
    other = make_segment("RUE DE METZ", [offset(CAPITOLE, north_m=300).coords, offset(CAPITOLE, 100, 300).coords])
    return west, east, other


def test_an_incident_publishes_who_it_harms_its_scope_and_accuracy(client_anon, push, boulevard):
    push(post("Trottoir défoncé boulevard de Strasbourg, impossible avec un fauteuil roulant", None, id="vague"))
    push(post("Lampadaire en panne", offset(CAPITOLE, north_m=300), id="precise"))
    features = {f["id"]: f["properties"] for f in body(client_anon.get("/api/incidents/"))["features"]}
    by_scope = {props["scope"]: props for props in features.values()}
    street = by_scope["street"]
    assert street["segment_name"] == "BD DE STRASBOURG"
    assert street["location_accuracy_m"] > 500
    assert street["affects"] == ["pedestrians", "reduced_mobility"]
    assert by_scope["point"]["location_accuracy_m"] == GPS_ACCURACY_M
    assert by_scope["point"]["affects"] == []
    assert all(props["recurrence_of"] is None for props in features.values())


def test_the_affects_filter_keeps_incidents_harming_any_of_the_codes(client_anon, push):
    push(
        post("Piste cyclable bloquée par des voitures garées, les vélos sur la route", CAPITOLE, id="bikes"),
        post("Lampadaire en panne", offset(CAPITOLE, east_m=500), id="light"),
        post("Trottoir défoncé devant l'arrêt de bus, impossible en fauteuil roulant", offset(CAPITOLE, 900), id="bus"),
    )
    ids = lambda url: {f["properties"]["category"] for f in body(client_anon.get(url))["features"]}  # noqa: E731
    assert ids("/api/incidents/?affects=cyclists") == {"traffic_parking"}
    assert len(ids("/api/incidents/?affects=cyclists,reduced_mobility")) == 2
    assert client_anon.get("/api/incidents/?affects=horses").status_code == 400
    # The OGC API (CQL2 array functions) and the map's clusters filter the same way.
    cql2 = "A_OVERLAPS(affects, ('cyclists'))"
    ogc = body(client_anon.get("/ogc/collections/incidents/items", {"filter": cql2, "f": "json"}))
    assert ogc["numberMatched"] == 1
    both = "A_CONTAINS(affects, ('pedestrians', 'reduced_mobility'))"
    assert (
        body(client_anon.get("/ogc/collections/incidents/items", {"filter": both, "f": "json"}))["numberMatched"] == 1
    )
    wrong = body(client_anon.get("/ogc/collections/incidents/items", {"filter": "A_OVERLAPS(category, ('x'))"}))
    assert "array property" in wrong["description"]
    clusters = body(client_anon.get("/api/incidents/clusters/?bbox=1.40,43.58,1.50,43.63&zoom=12&affects=cyclists"))
    assert sum(f["properties"]["count"] for f in clusters["features"]) == 1


def test_street_of_gives_the_segments_of_one_street(client_anon, boulevard):
    west, east, _other = boulevard
    segments = body(client_anon.get(f"/api/street-segments/?street_of={west.pk}"))["features"]
    assert {f["id"] for f in segments} == {west.pk, east.pk}
    # What the map asks for a street-level incident: the stretch within its accuracy.
    near = body(client_anon.get(f"/api/street-segments/?street_of={west.pk}&near=1.443987,43.604468&radius=200"))
    assert {f["id"] for f in near["features"]} == {west.pk}


def test_a_recurrence_links_to_the_resolved_incident(client_anon, push):
    push(post("Énorme nid de poule sur la chaussée", CAPITOLE, paris(2014, 9, 8), id="first"))
    first = body(client_anon.get("/api/incidents/"))["features"][0]["id"]
    from incidents.models import Incident

    change_incident_status(Incident.objects.get(pk=first), IncidentStatus.RESOLVED, note="Rebouché")
    push(post("Énorme nid de poule sur la chaussée", CAPITOLE, paris(2014, 9, 25), id="again"))
    features = body(client_anon.get("/api/incidents/?ordering=id"))["features"]
    assert [f["properties"]["recurrence_of"] for f in features] == [None, first]


def test_works_impact_sets_who_people_say_is_harmed_beside_what_the_works_announced(client_anon, push, make_works_zone):
    zone = make_works_zone(CAPITOLE, starts_at=paris(2014, 9, 1), ends_at=paris(2014, 9, 30), impact_pedestrian=True)
    push(post("Chantier : trottoir fermé, avec la poussette on passe sur la route", CAPITOLE, paris(2014, 9, 8)))
    impact = body(client_anon.get(f"/api/works-zones/{zone.pk}/impact/"))
    assert impact["announced"] == {
        "pedestrians": True,
        "cyclists": False,
        "motor_vehicles": False,
        "parking": False,
        "closure": False,
    }
    assert impact["during"]["by_affects"] == {"pedestrians": 1, "reduced_mobility": 1}
    assert impact["before"]["by_affects"] == {}
