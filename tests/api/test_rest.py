"""The REST API: GeoJSON collections, filters, paging, formats and conditional requests."""

from __future__ import annotations

import csv
import io
import itertools

import pytest
from django.contrib.gis.geos import LineString, Point, Polygon

from incidents.models import IncidentWorksZone
from tests.api.conftest import body, text
from tests.conftest import CAPITOLE, offset, paris

pytestmark = pytest.mark.django_db


def ids(response) -> list[int]:
    return [feature["id"] for feature in body(response)["features"]]


def test_incident_list_is_a_geojson_feature_collection(client_anon, make_incident, make_segment):
    segment = make_segment("RUE DE METZ")
    incident = make_incident(location=Point(1.4439871234, 43.6044689876, srid=4326), segment=segment)

    response = client_anon.get("/api/incidents/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    collection = body(response)
    assert collection["type"] == "FeatureCollection"
    assert "crs" not in collection
    assert collection["total"] == 1
    assert collection["next"] is None
    assert collection["previous"] is None
    (feature,) = collection["features"]
    assert feature["id"] == incident.pk
    assert feature["type"] == "Feature"
    # lon/lat order, 6 decimals.
    assert feature["geometry"] == {"type": "Point", "coordinates": [1.443987, 43.604469]}
    properties = feature["properties"]
    assert properties["category"] == "works_obstruction"
    assert properties["status"] == "new"
    assert properties["segment"] == segment.pk
    assert properties["segment_name"] == "RUE DE METZ"
    assert properties["near_works"] is False
    assert properties["first_post_at"].startswith("2014-09-08T07:00:00")


def test_detail_and_missing_ids(client_anon, make_incident):
    incident = make_incident()
    response = client_anon.get(f"/api/incidents/{incident.pk}/")
    assert response.status_code == 200
    assert body(response)["id"] == incident.pk
    assert body(response)["properties"]["posts"] == []
    assert client_anon.get(f"/api/incidents/{incident.pk + 1000}/").status_code == 404
    # Ids no bigint can hold are a 404, not a database error.
    assert client_anon.get("/api/incidents/99999999999999999999999/").status_code == 404


def test_works_zone_polygons_follow_the_right_hand_rule(client_anon, make_works_zone):
    # Exterior ring drawn clockwise: the API must answer it counter-clockwise (RFC 7946 §3.1.6).
    clockwise = Polygon(((1.44, 43.60), (1.44, 43.61), (1.45, 43.61), (1.45, 43.60), (1.44, 43.60)), srid=4326)
    zone = make_works_zone(clockwise, title="Réfection")

    feature = body(client_anon.get(f"/api/works-zones/{zone.pk}/"))

    ring = feature["geometry"]["coordinates"][0]
    signed_area = sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in itertools.pairwise(ring))
    assert signed_area > 0  # counter-clockwise
    assert feature["properties"]["title"] == "Réfection"
    assert feature["properties"]["status"] == "ended"


def test_street_segments_list_and_name_filter(client_anon, make_segment):
    metz = make_segment("RUE DE METZ")
    make_segment("ALLEE JEAN JAURES", coords=[(1.45, 43.61), (1.451, 43.61)])

    response = client_anon.get("/api/street-segments/", {"name": "metz"})

    assert ids(response) == [metz.pk]
    assert body(response)["features"][0]["geometry"]["type"] == "MultiLineString"


class TestFilters:
    def test_bbox(self, client_anon, make_incident):
        inside = make_incident(location=CAPITOLE)
        make_incident(location=offset(CAPITOLE, east_m=2000))
        response = client_anon.get("/api/incidents/", {"bbox": "1.443,43.604,1.445,43.605"})
        assert ids(response) == [inside.pk]

    def test_datetime_instant_and_intervals(self, client_anon, make_incident):
        september = make_incident(first_post_at=paris(2014, 9, 8), last_post_at=paris(2014, 9, 20))
        october = make_incident(first_post_at=paris(2014, 10, 8))

        def query(value):
            return sorted(ids(client_anon.get("/api/incidents/", {"datetime": value})))

        assert query("2014-09-15T12:00:00+02:00") == [september.pk]
        assert query("2014-10-01T00:00:00Z/..") == [october.pk]
        assert query("../2014-09-09T00:00:00Z") == [september.pk]
        assert query("2014-09-19T00:00:00Z/2014-10-09T00:00:00Z") == sorted([september.pk, october.pk])
        assert query("2014-10-08") == [october.pk]

    def test_category_status_segment_works_zone_near_works(
        self, client_anon, make_incident, make_segment, make_works_zone
    ):
        segment = make_segment()
        zone = make_works_zone()
        lit = make_incident(category="lighting", segment=segment)
        resolved = make_incident(category="vegetation", status="resolved")
        IncidentWorksZone.objects.create(incident=resolved, works_zone=zone, distance_m=3)

        assert ids(client_anon.get("/api/incidents/", {"category": "lighting,graffiti_vandalism"})) == [lit.pk]
        assert ids(client_anon.get("/api/incidents/", {"status": "resolved"})) == [resolved.pk]
        assert ids(client_anon.get("/api/incidents/", {"segment": segment.pk})) == [lit.pk]
        assert ids(client_anon.get("/api/incidents/", {"works_zone": zone.pk})) == [resolved.pk]
        assert ids(client_anon.get("/api/incidents/", {"near_works": "true"})) == [resolved.pk]
        assert ids(client_anon.get("/api/incidents/", {"near_works": "false"})) == [lit.pk]

    def test_near_orders_by_distance(self, client_anon, make_incident):
        far = make_incident(location=offset(CAPITOLE, east_m=80))
        near = make_incident(location=offset(CAPITOLE, north_m=20))
        make_incident(location=offset(CAPITOLE, east_m=500))
        response = client_anon.get("/api/incidents/", {"near": f"{CAPITOLE.x},{CAPITOLE.y}", "radius": "100"})
        assert ids(response) == [near.pk, far.pk]

    def test_ordering(self, client_anon, make_incident):
        low = make_incident(priority=1)
        high = make_incident(priority=5)
        assert ids(client_anon.get("/api/incidents/", {"ordering": "-priority"})) == [high.pk, low.pk]
        assert ids(client_anon.get("/api/incidents/", {"ordering": "priority,id"})) == [low.pk, high.pk]

    def test_works_active_on_and_status(self, client_anon, make_works_zone):
        september = make_works_zone(starts_at=paris(2014, 9, 1), ends_at=paris(2014, 9, 30))
        make_works_zone(starts_at=paris(2015, 1, 1), ends_at=paris(2015, 1, 31))
        assert ids(client_anon.get("/api/works-zones/", {"active_on": "2014-09-15"})) == [september.pk]
        assert ids(client_anon.get("/api/works-zones/", {"datetime": "2014-09-29T00:00:00Z"})) == [september.pk]
        assert len(ids(client_anon.get("/api/works-zones/", {"status": "ended"}))) == 2
        assert ids(client_anon.get("/api/works-zones/", {"status": "planned"})) == []

    @pytest.mark.parametrize(
        ("path", "params", "field"),
        [
            ("/api/incidents/", {"bbox": "1,2,3"}, "bbox"),
            ("/api/incidents/", {"bbox": "a,b,c,d"}, "bbox"),
            ("/api/incidents/", {"bbox": "2,2,1,1"}, "bbox"),
            ("/api/incidents/", {"bbox": "0,0,200,1"}, "bbox"),
            ("/api/incidents/", {"bbox": "nan,0,1,1"}, "bbox"),
            ("/api/incidents/", {"datetime": "yesterday"}, "datetime"),
            ("/api/incidents/", {"datetime": "2014-09-08T10:00:00"}, "datetime"),
            ("/api/incidents/", {"datetime": "../.."}, "datetime"),
            ("/api/incidents/", {"datetime": "2015-01-01T00:00:00Z/2014-01-01T00:00:00Z"}, "datetime"),
            ("/api/incidents/", {"category": "unicorns"}, "category"),
            ("/api/incidents/", {"status": "done"}, "status"),
            ("/api/incidents/", {"near": "1.44,43.6"}, "near"),
            ("/api/incidents/", {"near": "1.44", "radius": "10"}, "near"),
            ("/api/incidents/", {"near": "1.44,43.6", "radius": "-5"}, "radius"),
            ("/api/incidents/", {"near": "1.44,43.6", "radius": "1e9"}, "radius"),
            ("/api/incidents/", {"works_zone": "x"}, "works_zone"),
            ("/api/incidents/", {"segment": "1.5"}, "segment"),
            ("/api/incidents/", {"near_works": "maybe"}, "near_works"),
            ("/api/incidents/", {"ordering": "author_handle"}, "ordering"),
            ("/api/incidents/", {"catgory": "lighting"}, "catgory"),
            ("/api/incidents/", {"category": ""}, "category"),
            ("/api/incidents/", {"limit": "0"}, "limit"),
            ("/api/incidents/", {"limit": "1001"}, "limit"),
            ("/api/incidents/", {"offset": "-1"}, "offset"),
            ("/api/incidents/", {"format": "xml"}, "format"),
            ("/api/works-zones/", {"active_on": "2014-13-45"}, "active_on"),
            ("/api/works-zones/", {"status": "new"}, "status"),
            ("/api/street-segments/", {"category": "lighting"}, "category"),
        ],
    )
    def test_bad_values_answer_400_with_a_message(self, client_anon, path, params, field):
        response = client_anon.get(path, params)
        assert response.status_code == 400
        messages = body(response)[field]
        assert messages
        assert all(isinstance(message, str) and message for message in messages)


def test_paging_with_links_and_total(client_anon, make_incident):
    created = [make_incident(last_post_at=paris(2014, 9, 8 + day)) for day in range(5)]
    newest_first = [incident.pk for incident in reversed(created)]

    first = body(client_anon.get("/api/incidents/", {"limit": 2}))
    assert first["total"] == 5
    assert [f["id"] for f in first["features"]] == newest_first[:2]
    assert first["previous"] is None
    second = body(client_anon.get(first["next"]))
    assert [f["id"] for f in second["features"]] == newest_first[2:4]
    assert "offset" not in second["previous"]  # back to the first page
    last = body(client_anon.get(second["next"]))
    assert [f["id"] for f in last["features"]] == newest_first[4:]
    assert last["next"] is None


def test_full_export_streams_every_feature(client_anon, make_incident, settings):
    settings.INCIDENTS_API_MAX_PAGE_SIZE = 2
    for _ in range(5):
        make_incident()
    response = client_anon.get("/api/incidents/", {"limit": "all"})
    assert response.streaming
    assert len(body(response)["features"]) == 5


def test_csv_with_lon_lat_and_wkt(client_anon, make_incident, make_segment):
    incident = make_incident(location=Point(1.4439871234, 43.6044689876, srid=4326), category="lighting")
    make_segment(coords=[(1.44, 43.60), (1.45, 43.61)])

    response = client_anon.get("/api/incidents/", {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert response["X-Total-Count"] == "1"
    rows = list(csv.DictReader(io.StringIO(text(response))))
    assert rows[0]["id"] == str(incident.pk)
    assert rows[0]["category"] == "lighting"
    assert (rows[0]["lon"], rows[0]["lat"]) == ("1.443987", "43.604469")
    assert rows[0]["wkt"] == "POINT(1.443987 43.604469)"

    segments = list(csv.DictReader(io.StringIO(text(client_anon.get("/api/street-segments/?format=csv")))))
    assert segments[0]["wkt"] == "MULTILINESTRING((1.44 43.6,1.45 43.61))"
    assert "lon" not in segments[0]


def test_csv_paging_links_go_in_the_link_header(client_anon, make_incident):
    for _ in range(3):
        make_incident()
    response = client_anon.get("/api/incidents/", {"format": "csv", "limit": 2})
    assert 'rel="next"' in response["Link"]
    assert "offset=2" in response["Link"]
    assert len(list(csv.DictReader(io.StringIO(text(response))))) == 2


def test_etag_and_last_modified_make_polling_cheap(client_anon, make_incident):
    incident = make_incident()
    first = client_anon.get("/api/incidents/")
    etag, last_modified = first["ETag"], first["Last-Modified"]
    assert etag
    assert last_modified

    assert client_anon.get("/api/incidents/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client_anon.get("/api/incidents/", HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304

    make_incident(location=offset(CAPITOLE, east_m=10))
    changed = client_anon.get("/api/incidents/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert incident.pk in ids(changed)


def test_cors_is_open_for_reads_only(client_anon):
    response = client_anon.get("/api/incidents/", HTTP_ORIGIN="https://example.org")
    assert response["Access-Control-Allow-Origin"] == "*"
    preflight = client_anon.options(
        "/api/incidents/1/", HTTP_ORIGIN="https://example.org", HTTP_ACCESS_CONTROL_REQUEST_METHOD="PATCH"
    )
    assert "PATCH" not in preflight.get("Access-Control-Allow-Methods", "")


def test_linestring_works_zone_and_bbox_intersection(client_anon, make_works_zone):
    # A line crossing the box without any vertex inside is selected (geometry intersection).
    crossing = make_works_zone(LineString((1.40, 43.60), (1.50, 43.60), srid=4326))
    make_works_zone(LineString((1.40, 43.70), (1.50, 43.70), srid=4326))
    assert ids(client_anon.get("/api/works-zones/", {"bbox": "1.44,43.59,1.45,43.61"})) == [crossing.pk]


def test_few_matches_are_sorted_after_filtering_with_the_same_order(make_incident):
    """The planner hint (COALESCE-wrapped sort keys) changes the plan, never the order."""
    import time

    from incidents.models import Incident
    from incidents.publish import features
    from incidents.publish.filters import filter_bbox
    from incidents.publish.layers import INCIDENTS

    created = [make_incident(last_post_at=paris(2014, 9, 8 + day % 3), priority=day) for day in range(6)]
    queryset = filter_bbox(INCIDENTS.queryset(), INCIDENTS, (1.4, 43.5, 1.5, 43.7)).order_by("-last_post_at", "pk")
    features._TABLE_ROWS[Incident._meta.db_table] = (1_000_000.0, time.monotonic())
    try:
        hinted = features.sort_after_filtering(queryset, total=len(created), wanted=4)
        assert "COALESCE" in str(hinted.query)
        assert list(hinted.values_list("pk", flat=True)[:4]) == list(queryset.values_list("pk", flat=True)[:4])
        # Most of the table matching: the index order is kept.
        assert features.sort_after_filtering(queryset, total=900_000, wanted=4) is queryset
    finally:
        features._TABLE_ROWS.clear()


@pytest.mark.parametrize(
    "path",
    [
        "/api/street-segments/?name=a%00b",
        "/api/incidents/?category=%00",
        "/api/incidents/?datetime=0001-01-01T00:00:00%2B14:00",
        "/api/incidents/?datetime=9999-12-31T23:59:59-14:00",
        "/ogc/collections/incidents/items?datetime=0001-01-01T00:00:00%2B14:00",
        "/ogc/collections/incidents/items?bbox=%00",
        "/open311/v2/requests.json?start_date=9999-12-31T23:59:59-14:00",
        "/api/incidents/clusters/?bbox=1,43,2,44&zoom=5&datetime=0001-01-01T00:00:00%2B14:00",
    ],
)
def test_hostile_values_are_client_errors_not_server_errors(client_anon, path):
    assert client_anon.get(path).status_code == 400


def test_hostile_token_is_a_404(client_anon):
    assert client_anon.get("/open311/v2/tokens/a%00b.json").status_code == 404


@pytest.mark.parametrize("path", ["/api/incidents/abc/", "/api/works-zones/%20x/", "/api/street-segments/-1/"])
def test_malformed_ids_are_json_404s(client_anon, path):
    response = client_anon.get(path)
    assert response.status_code == 404
    assert body(response)["detail"]
