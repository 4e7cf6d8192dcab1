"""Clusters for the map (in-memory index, refreshed by change notes) and works impact."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import Point

from incidents.models import Incident, IncidentWorksZone
from incidents.publish.clusters import INDEX, mark_incidents_changed
from incidents.services.incidents import change_incident_status
from tests.api.conftest import body
from tests.conftest import CAPITOLE, offset, paris

pytestmark = pytest.mark.django_db

TOULOUSE = "1.40,43.58,1.48,43.63"


def clusters(client, **params):
    params.setdefault("bbox", TOULOUSE)
    response = client.get("/api/incidents/clusters/", params)
    assert response.status_code == 200, response.content
    return body(response)


@pytest.fixture
def square(make_incident):
    """Three incidents at the Capitole (within 30 m) and one 2 km east."""
    return [
        make_incident(location=CAPITOLE, category="lighting"),
        make_incident(location=offset(CAPITOLE, east_m=20), category="lighting", status="resolved"),
        make_incident(location=offset(CAPITOLE, north_m=25), category="vegetation", first_post_at=paris(2015, 3, 1)),
        make_incident(location=offset(CAPITOLE, east_m=2000), category="other"),
    ]


def test_low_zoom_groups_close_incidents_with_counts_and_breakdown(client_anon, square):
    collection = clusters(client_anon, zoom=13)
    assert collection["total"] == 4
    by_count = sorted(collection["features"], key=lambda f: f["properties"]["count"])
    single, group = by_count
    assert single["properties"] == {"cluster": False, "count": 1, "category": "other", "status": "new"}
    assert single["id"] == square[3].pk
    assert group["properties"]["cluster"] is True
    assert group["properties"]["count"] == 3
    assert group["properties"]["categories"] == {"lighting": 2, "vegetation": 1}
    # The cluster splits further in; it sits at the mean of its incidents.
    assert group["properties"]["expansion_zoom"] > 13
    lon, lat = group["geometry"]["coordinates"]
    assert abs(lon - CAPITOLE.x) < 0.0003
    assert abs(lat - CAPITOLE.y) < 0.0003


def test_zooming_to_the_expansion_zoom_splits_the_cluster(client_anon, square):
    group = max(clusters(client_anon, zoom=13)["features"], key=lambda f: f["properties"]["count"])
    deeper = clusters(client_anon, zoom=group["properties"]["expansion_zoom"])
    assert len(deeper["features"]) > 2


def around_capitole(metres: float = 60) -> str:
    south_west, north_east = offset(CAPITOLE, -metres, -metres), offset(CAPITOLE, metres, metres)
    return f"{south_west.x},{south_west.y},{north_east.x},{north_east.y}"


def test_high_zoom_answers_single_incidents(client_anon, square):
    features = clusters(client_anon, zoom=20, bbox=around_capitole())["features"]
    assert sorted(f["id"] for f in features) == sorted(i.pk for i in square[:3])
    assert all(f["properties"]["cluster"] is False for f in features)


def test_viewport_and_filters(client_anon, square, make_works_zone):
    IncidentWorksZone.objects.create(incident=square[0], works_zone=make_works_zone(), distance_m=1)
    mark_incidents_changed([square[0].pk])

    def total(**params):
        return clusters(client_anon, zoom=16, **params)["total"]

    assert total(bbox=f"{CAPITOLE.x - 0.001},{CAPITOLE.y - 0.001},{CAPITOLE.x + 0.001},{CAPITOLE.y + 0.001}") == 3
    assert total(category="lighting") == 2
    assert total(status="new,acknowledged") == 3
    assert total(datetime="2015-01-01T00:00:00Z/..") == 1
    assert total(datetime="2014-09-08T09:00:00+02:00") == 3
    assert total(near_works="true") == 1
    assert total(near_works="false") == 3


def test_index_follows_changes_recorded_by_services(client_anon, square, settings):
    settings.INCIDENTS_CLUSTER_CHECK_SECONDS = 0
    assert clusters(client_anon, zoom=13, status="new")["total"] == 3

    # The triage service records its change: the index picks it up on the next request.
    change_incident_status(square[0], "resolved")
    assert clusters(client_anon, zoom=13, status="new")["total"] == 2

    moved = square[3]
    Incident.objects.filter(pk=moved.pk).update(location=offset(CAPITOLE, east_m=5))
    added = Incident.objects.create(
        location=Point(1.45, 43.61, srid=4326), category="lighting", first_post_at=paris(2014, 9, 9),
        last_post_at=paris(2014, 9, 9), post_count=1,
    )  # fmt: skip
    deleted = square[2].pk
    square[2].delete()
    mark_incidents_changed([moved.pk, added.pk, deleted])

    singles = clusters(client_anon, zoom=20, bbox=around_capitole())["features"]
    assert sorted(f["id"] for f in singles) == sorted([square[0].pk, square[1].pk, moved.pk])
    assert clusters(client_anon, zoom=10)["total"] == 4
    assert len(INDEX.columns) == 4


def test_a_full_change_note_reloads_everything(client_anon, square, settings):
    settings.INCIDENTS_CLUSTER_CHECK_SECONDS = 0
    clusters(client_anon, zoom=13)
    Incident.objects.filter(pk=square[3].pk).delete()
    mark_incidents_changed(None)
    assert clusters(client_anon, zoom=13)["total"] == 3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"zoom": 12}, "bbox"),
        ({"bbox": TOULOUSE}, "zoom"),
        ({"bbox": TOULOUSE, "zoom": 23}, "zoom"),
        ({"bbox": TOULOUSE, "zoom": "x"}, "zoom"),
        ({"bbox": "1,2", "zoom": 3}, "bbox"),
        ({"bbox": TOULOUSE, "zoom": 3, "category": "nope"}, "category"),
        ({"bbox": TOULOUSE, "zoom": 3, "datetime": "soon"}, "datetime"),
        ({"bbox": TOULOUSE, "zoom": 3, "near_works": "2"}, "near_works"),
        ({"bbox": TOULOUSE, "zoom": 3, "limit": "5"}, "limit"),
        ({"bbox": "-180,-85,180,85", "zoom": 12}, "bbox"),
    ],
)
def test_bad_cluster_parameters_answer_400(client_anon, params, field):
    response = client_anon.get("/api/incidents/clusters/", params)
    assert response.status_code == 400
    assert body(response)[field]


def test_empty_viewport(client_anon, db):
    assert clusters(client_anon, zoom=5) == {"type": "FeatureCollection", "zoom": 5, "total": 0, "features": []}


class TestImpact:
    @pytest.fixture
    def zone(self, make_works_zone, make_segment, make_incident):
        """Works in September 2014 at the Capitole; incidents before, during, after and far away."""
        segment = make_segment("RUE DE METZ")
        zone = make_works_zone(CAPITOLE, starts_at=paris(2014, 9, 1), ends_at=paris(2014, 9, 30), title="Metz")
        near = offset(CAPITOLE, east_m=30)
        make_incident(location=near, first_post_at=paris(2014, 8, 20), segment=segment)  # before
        make_incident(location=near, first_post_at=paris(2014, 9, 5), segment=segment)  # during
        make_incident(location=near, first_post_at=paris(2014, 9, 6), category="lighting", segment=segment)
        make_incident(location=near, first_post_at=paris(2014, 9, 7))
        make_incident(location=near, first_post_at=paris(2014, 11, 1))  # after: not counted
        make_incident(location=offset(CAPITOLE, east_m=900), first_post_at=paris(2014, 9, 8))  # too far
        return zone, segment

    def test_zone_impact(self, client_anon, zone):
        works, segment = zone
        impact = body(client_anon.get(f"/api/works-zones/{works.pk}/impact/"))
        assert impact["before"]["total"] == 1
        assert impact["during"]["total"] == 3
        assert impact["during"]["by_category"] == {"lighting": 1, "works_obstruction": 2}
        assert impact["excess"] == 2
        assert impact["ratio"] == 3.0
        assert impact["top_segments"][0] == {"segment": segment.pk, "name": "RUE DE METZ", "before": 1, "during": 2}

        lit = body(client_anon.get(f"/api/works-zones/{works.pk}/impact/", {"category": "lighting"}))
        assert lit["during"]["total"] == 1
        wide = body(client_anon.get(f"/api/works-zones/{works.pk}/impact/", {"radius": 2000}))
        assert wide["during"]["total"] == 4

    def test_ranking(self, client_anon, zone, make_works_zone):
        works, _segment = zone
        quiet = make_works_zone(offset(CAPITOLE, north_m=3000), starts_at=paris(2014, 9, 1), ends_at=paris(2014, 9, 20))
        make_works_zone(starts_at=paris(2016, 1, 1), ends_at=paris(2016, 2, 1))  # outside the window

        ranking = body(client_anon.get("/api/works-impact/", {"datetime": "2014-09-01T00:00:00Z/2014-10-01T00:00:00Z"}))
        assert ranking["total"] == 2
        assert [f["id"] for f in ranking["features"]] == [works.pk, quiet.pk]
        first = ranking["features"][0]["properties"]
        assert (first["rank"], first["incidents_during"], first["incidents_before"], first["excess"]) == (1, 3, 1, 2)

        page = body(client_anon.get("/api/works-impact/", {"datetime": "2014-09-01T00:00:00Z/..", "limit": 1}))
        assert page["next"] is not None
        assert len(page["features"]) == 1

    @pytest.mark.parametrize(
        ("path", "params"),
        [
            ("/api/works-impact/", {"datetime": "x"}),
            ("/api/works-impact/", {"radius": "-1"}),
            ("/api/works-impact/", {"limit": "all"}),
            ("/api/works-impact/", {"bbox": "1,2,3"}),
            ("/api/works-zones/1/impact/", {"radius": "far"}),
            ("/api/works-zones/1/impact/", {"bogus": "1"}),
        ],
    )
    def test_bad_parameters(self, client_anon, path, params):
        assert client_anon.get(path, params).status_code == 400

    def test_missing_zone(self, client_anon, db):
        assert client_anon.get("/api/works-zones/424242/impact/").status_code == 404
