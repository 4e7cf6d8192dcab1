"""Open311 GeoReport v2: discovery, services, requests, tokens, and posting with an API key."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.authtoken.models import Token

from incidents.categories import Category
from incidents.models import Post
from tests.api.conftest import body
from tests.conftest import CAPITOLE, paris

pytestmark = pytest.mark.django_db

REQUEST_KEYS = {
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
    "address", "address_id", "zipcode", "lat", "long", "media_url",
}  # fmt: skip


def test_discovery_and_services(client_anon):
    discovery = body(client_anon.get("/open311/v2/discovery.json"))
    assert discovery["endpoints"][0]["url"].endswith("/open311/v2/")
    assert discovery["endpoints"][0]["formats"] == ["application/json", "text/xml"]

    services = body(client_anon.get("/open311/v2/services.json"))
    assert [service["service_code"] for service in services] == Category.values
    assert services[0] == {
        "service_code": "works_obstruction", "service_name": "Works obstruction", "description": "Works obstruction",
        "metadata": False, "type": "realtime", "keywords": "works,obstruction", "group": "",
    }  # fmt: skip


def test_requests_map_incidents(client_anon, make_incident, make_segment, make_post):
    segment = make_segment("RUE DE METZ", commune="TOULOUSE")
    now = dt.datetime.now(dt.UTC)
    open_one = make_incident(category="lighting", segment=segment, first_post_at=now - dt.timedelta(days=2),
                             last_post_at=now - dt.timedelta(days=1))  # fmt: skip
    closed = make_incident(status="resolved", first_post_at=now - dt.timedelta(days=3),
                           last_post_at=now - dt.timedelta(days=3))  # fmt: skip
    make_incident(first_post_at=paris(2014, 9, 1))  # older than the default 90 days
    make_post("Lampadaire éteint, @voisin le signale aussi", incident=open_one, author_handle="jeanne")

    requests = body(client_anon.get("/open311/v2/requests.json"))
    assert [r["service_request_id"] for r in requests] == [str(open_one.pk), str(closed.pk)]
    first = requests[0]
    assert set(first) == REQUEST_KEYS
    assert first["status"] == "open"
    assert first["service_code"] == "lighting"
    assert first["address"] == "RUE DE METZ, TOULOUSE"
    assert (first["long"], first["lat"]) == (round(CAPITOLE.x, 6), round(CAPITOLE.y, 6))
    assert first["description"] == "Lampadaire éteint, @[user] le signale aussi"
    assert dt.datetime.fromisoformat(first["requested_datetime"]).utcoffset() is not None
    assert requests[1]["status"] == "closed"

    assert [r["service_request_id"] for r in body(client_anon.get("/open311/v2/requests.json?status=closed"))] == [
        str(closed.pk)
    ]
    assert body(client_anon.get("/open311/v2/requests.json?service_code=lighting"))[0]["service_code"] == "lighting"
    old = body(
        client_anon.get("/open311/v2/requests.json?start_date=2014-08-01T00:00:00Z&end_date=2014-10-01T00:00:00Z")
    )
    assert len(old) == 1
    page = client_anon.get("/open311/v2/requests.json?page=2&page_size=1")
    assert [r["service_request_id"] for r in body(page)] == [str(closed.pk)]
    assert page["X-Total-Count"] == "2"
    single = body(client_anon.get(f"/open311/v2/requests/{open_one.pk}.json"))
    assert [r["service_request_id"] for r in single] == [str(open_one.pk)]
    ids = body(client_anon.get(f"/open311/v2/requests.json?service_request_id={open_one.pk},{closed.pk}"))
    assert len(ids) == 2


@pytest.mark.parametrize(
    "query",
    ["start_date=yesterday", "end_date=2014-01-01T00:00:00", "status=pending", "service_code=unicorn", "page=0",
     "page_size=1001", "service_request_id=abc", "foo=1",
     "start_date=2015-01-01T00:00:00Z&end_date=2014-01-01T00:00:00Z"],
)  # fmt: skip
def test_bad_request_parameters(client_anon, query):
    response = client_anon.get(f"/open311/v2/requests.json?{query}")
    assert response.status_code == 400
    (error,) = body(response)
    assert error["code"] == 400
    assert error["description"]


def test_missing_request(client_anon):
    assert client_anon.get("/open311/v2/requests/999999.json").status_code == 404
    assert client_anon.get("/open311/v2/requests/abc.json").status_code == 404


class TestPost:
    FORM = {
        "service_code": "road_surface_pothole",
        "lat": "43.6045",
        "long": "1.4440",
        "description": "Nid de poule devant le 12",
        "email": "jeanne@example.fr",
        "first_name": "Jeanne",
    }

    def test_api_key_creates_an_open311_post_that_goes_through_the_pipeline(self, client_anon, plain_user):
        key = Token.objects.create(user=plain_user).key
        response = client_anon.post("/open311/v2/requests.json", {**self.FORM, "api_key": key})
        assert response.status_code == 201
        (answer,) = body(response)
        post = Post.objects.get(source="open311", external_id=answer["token"])
        assert post.text == "Nid de poule devant le 12"
        # The citizen's service code decides over the classifier.
        assert post.declared_category == post.category == "road_surface_pothole"
        assert post.category_score == 1
        assert post.state == "located"
        assert (round(post.location.x, 4), round(post.location.y, 4)) == (1.444, 43.6045)
        assert post.location_method == "gps"
        assert post.raw["email"] == "jeanne@example.fr"
        assert post.raw["submitted_by"] == "partner"
        # Grouped into an incident, which the token now names.
        assert post.incident is not None
        assert post.incident.category == "road_surface_pothole"
        token = body(client_anon.get(f"/open311/v2/tokens/{answer['token']}.json"))
        assert token == [{"token": answer["token"], "service_request_id": str(post.incident_id)}]

    def test_token_header_works_too(self, client_staff):
        assert client_staff.post("/open311/v2/requests.json", self.FORM, format="json").status_code == 201

    def test_without_or_with_a_bad_key(self, client_anon):
        missing = client_anon.post("/open311/v2/requests.json", self.FORM)
        assert missing.status_code == 401
        assert body(missing)[0]["code"] == 401
        assert client_anon.post("/open311/v2/requests.json", {**self.FORM, "api_key": "nope"}).status_code == 401
        assert not Post.objects.exists()

    @pytest.mark.parametrize(
        "change", [{"service_code": "nope"}, {"lat": "95"}, {"long": "abc"}, {"lat": ""}, {"media_url": "not a url"}]
    )
    def test_invalid_requests(self, client_staff, change):
        response = client_staff.post("/open311/v2/requests.json", {**self.FORM, **change})
        assert response.status_code == 400
        assert body(response)[0]["description"]
        assert not Post.objects.exists()
