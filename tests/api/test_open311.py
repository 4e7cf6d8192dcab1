"""Open311 GeoReport v2: discovery, services, requests, tokens, and posting with an API key."""

from __future__ import annotations

import datetime as dt
from xml.etree import ElementTree

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


# --- XML, lists, definitions, errors, paging ----------------------------------------------------


def xml(response) -> ElementTree.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    return ElementTree.fromstring(response.content)


def test_every_resource_answers_xml_too(client_anon, make_incident):
    now = dt.datetime.now(dt.UTC)
    incident = make_incident(category="lighting", first_post_at=now - dt.timedelta(days=1), last_post_at=now)
    discovery = xml(client_anon.get("/open311/v2/discovery.xml"))
    assert [f.text for f in discovery.find("endpoints/endpoint/formats")] == ["application/json", "text/xml"]
    services = xml(client_anon.get("/open311/v2/services.xml"))
    assert services.tag == "services"
    assert [s.findtext("service_code") for s in services] == Category.values
    assert services.find("service/metadata").text == "false"
    definition = xml(client_anon.get("/open311/v2/services/lighting.xml"))
    assert definition.tag == "service_definition"
    assert definition.findtext("service_code") == "lighting"
    assert body(client_anon.get("/open311/v2/services/lighting.json")) == {"service_code": "lighting", "attributes": []}
    requests = xml(client_anon.get("/open311/v2/requests.xml"))
    assert requests.tag == "service_requests"
    (request,) = requests
    assert request.tag == "request"
    assert request.findtext("service_request_id") == str(incident.pk)
    assert request.findtext("status") == "open"
    assert request.find("zipcode").text is None
    single = xml(client_anon.get(f"/open311/v2/requests/{incident.pk}.xml"))
    assert single.findtext("request/service_code") == "lighting"


def test_status_takes_a_list(client_anon, make_incident):
    now = dt.datetime.now(dt.UTC)
    open_one = make_incident(first_post_at=now - dt.timedelta(days=1))
    closed = make_incident(status="resolved", first_post_at=now - dt.timedelta(days=2))
    both = body(client_anon.get("/open311/v2/requests.json", {"status": "open,closed"}))
    assert [r["service_request_id"] for r in both] == [str(open_one.pk), str(closed.pk)]
    only_closed = body(client_anon.get("/open311/v2/requests.json", {"status": "closed"}))
    assert [r["service_request_id"] for r in only_closed] == [str(closed.pk)]
    assert client_anon.get("/open311/v2/requests.json", {"status": "open,pending"}).status_code == 400


def test_more_than_a_page_is_announced_in_a_link_header(client_anon, make_incident):
    now = dt.datetime.now(dt.UTC)
    for day in range(3):
        make_incident(first_post_at=now - dt.timedelta(days=day + 1))
    first = client_anon.get("/open311/v2/requests.json", {"page_size": 2})
    assert len(body(first)) == 2
    assert first["X-Total-Count"] == "3"
    next_url = first["Link"].split(";")[0].strip("<>")
    assert 'rel="next"' in first["Link"]
    second = client_anon.get(next_url)
    assert len(body(second)) == 1
    assert 'rel="prev"' in second["Link"]
    assert "next" not in second["Link"]
    # Without paging parameters, the specification's 1,000 requests answer at once.
    assert "Link" not in client_anon.get("/open311/v2/requests.json")


@pytest.mark.parametrize(
    ("path", "status"),
    [("/open311/v2/requests.xml?status=pending", 400), ("/open311/v2/requests/999999.xml", 404),
     ("/open311/v2/services/unicorn.xml", 404), ("/open311/v2/nothing.xml", 404), ("/open311/v2/requests.csv", 404),
     ("/open311/v2/requests/", 404)],
)  # fmt: skip
def test_errors_are_georeport_error_lists_in_both_formats(client_anon, path, status):
    response = client_anon.get(path)
    assert response.status_code == status
    if path.endswith(".xml") or ".xml?" in path:
        errors = xml(response)
        assert errors.tag == "errors"
        assert errors.findtext("error/code") == str(status)
        assert errors.findtext("error/description")
    else:
        (error,) = body(response)
        assert error["code"] == status
        assert error["description"]


def test_post_answers_xml(client_staff):
    response = client_staff.post("/open311/v2/requests.xml", TestPost.FORM)
    assert response.status_code == 201
    answer = xml(response)
    assert answer.tag == "service_requests"
    assert len(answer.findtext("request/token")) == 32
    missing = xml(client_staff.post("/open311/v2/requests.xml", {**TestPost.FORM, "lat": "95"}))
    assert missing.findtext("error/code") == "400"


@pytest.mark.django_db(transaction=True)
def test_the_georeport_client_reads_json_and_xml(live_server, make_incident, make_segment):
    from georeport import GeoReport

    now = dt.datetime.now(dt.UTC)
    segment = make_segment("RUE DE METZ")
    incidents = [
        make_incident(category="lighting", segment=segment, first_post_at=now - dt.timedelta(days=day + 1))
        for day in range(3)
    ]
    for output in ("json", "xml"):
        client = GeoReport(f"{live_server.url}/open311/v2", output_format=output)
        services = client.get_service_list()
        assert [s["service_code"] for s in services] == Category.values
        assert client.get_service_definition("lighting")["service_code"] == "lighting"
        requests = client.get_service_requests(status="open,closed", service_code="lighting,road_surface_pothole")
        assert [r["service_request_id"] for r in requests] == [str(i.pk) for i in incidents]
        single = client.get_service_request(str(incidents[0].pk))
        assert single["address"] == "RUE DE METZ, TOULOUSE"
        assert float(single["lat"]) == round(CAPITOLE.y, 6)
