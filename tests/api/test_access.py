"""Privacy of post authors, authentication of writes, throttling, schema and docs."""

from __future__ import annotations

import json

import pytest
from django.contrib.gis.geos import Point
from rest_framework.test import APIClient

from incidents.models import IncidentEvent
from incidents.publish.privacy import scrub_text
from tests.api.conftest import body, text
from tests.conftest import CAPITOLE, PERSONAL, PERSONAL_MARKS

pytestmark = pytest.mark.django_db

TEXT = (
    "@mairie_toulouse trottoir bloqué rue de Metz, voir https://t.co/abc123 — "
    "appelez-moi au 06 12 34 56 78 ou jeanne.dupont@example.fr (cc @voisin@mastodon.social)"
)


@pytest.fixture
def reported(make_incident, make_post):
    incident = make_incident()
    make_post(TEXT, incident=incident, location=Point(1.44399, 43.60447, srid=4326), location_method="gps", **PERSONAL)
    return incident


@pytest.mark.parametrize(
    ("raw", "scrubbed"),
    [
        ("merci @mairie_toulouse !", "merci @[user] !"),
        ("écrire à jean.dupont+x@example.fr", "écrire à [e-mail]"),
        ("photo https://t.co/xyz et www.exemple.fr/a", "photo [link] et [link]"),
        ("tel 06.12.34.56.78 ou +33 6 12 34 56 78", "tel [phone] ou [phone]"),
        ("cc @alice@mastodon.social", "cc @[user]"),
        ("3 nids de poule depuis 2014, rue 12", "3 nids de poule depuis 2014, rue 12"),
    ],
)
def test_scrub_text(raw, scrubbed):
    assert scrub_text(raw) == scrubbed


def test_anonymous_detail_carries_no_personal_data(client_anon, reported):
    response = client_anon.get(f"/api/incidents/{reported.pk}/")
    content = text(response)

    (post,) = json.loads(content)["properties"]["posts"]
    assert set(post) == {"source", "posted_at", "text", "language", "category"}
    assert post["text"].startswith("@[user] trottoir bloqué rue de Metz")
    for secret in [*PERSONAL_MARKS, "t.co", "06 12 34", "example.fr", "mairie_toulouse", "mastodon.social", "1.44399"]:
        assert secret not in content


def test_anonymous_lists_exports_and_open311_carry_no_personal_data(client_anon, reported):
    responses = [
        client_anon.get("/api/incidents/"),
        client_anon.get("/api/incidents/", {"format": "csv"}),
        client_anon.get("/ogc/collections/incidents/items"),
        client_anon.get(f"/open311/v2/requests/{reported.pk}.json"),
    ]
    for response in responses:
        assert response.status_code == 200
        content = text(response)
        for secret in [*PERSONAL_MARKS, "t.co", "06 12 34", "example.fr"]:
            assert secret not in content


def test_staff_see_everything(client_staff, reported, staff_user):
    (post,) = body(client_staff.get(f"/api/incidents/{reported.pk}/"))["properties"]["posts"]
    assert post["text"] == TEXT
    assert post["author_handle"] == PERSONAL["author_handle"]
    assert post["url"] == PERSONAL["url"]
    assert post["raw"] == PERSONAL["raw"]
    assert post["location"] == [1.44399, 43.60447]

    session = APIClient()
    session.force_login(staff_user)
    (post,) = body(session.get(f"/api/incidents/{reported.pk}/"))["properties"]["posts"]
    assert post["author_id"] == PERSONAL["author_id"]


def test_a_token_without_staff_rights_sees_public_data(plain_user, reported):
    from rest_framework.authtoken.models import Token

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=plain_user).key}")
    (post,) = body(client.get(f"/api/incidents/{reported.pk}/"))["properties"]["posts"]
    assert "author_handle" not in post


class TestStatusChange:
    def test_anonymous_and_non_staff_cannot_patch(self, client_anon, plain_user, make_incident):
        incident = make_incident()
        assert client_anon.patch(f"/api/incidents/{incident.pk}/", {"status": "acknowledged"}).status_code == 401
        client = APIClient()
        client.force_authenticate(plain_user)
        assert client.patch(f"/api/incidents/{incident.pk}/", {"status": "acknowledged"}).status_code == 403
        incident.refresh_from_db()
        assert incident.status == "new"

    def test_staff_token_changes_status_through_the_service(self, client_staff, staff_user, make_incident):
        incident = make_incident()
        response = client_staff.patch(
            f"/api/incidents/{incident.pk}/", {"status": "dispatched", "note": "équipe voirie"}, format="json"
        )
        assert response.status_code == 200
        assert body(response)["properties"]["status"] == "dispatched"
        event = IncidentEvent.objects.get(incident=incident)
        assert (event.from_status, event.to_status, event.actor, event.note) == (
            "new",
            "dispatched",
            staff_user,
            "équipe voirie",
        )

    def test_invalid_transitions_and_bodies_answer_400(self, client_staff, make_incident):
        incident = make_incident(status="resolved")
        response = client_staff.patch(f"/api/incidents/{incident.pk}/", {"status": "dispatched"}, format="json")
        assert response.status_code == 400
        assert body(response)["status"]
        assert client_staff.patch(f"/api/incidents/{incident.pk}/", {"status": "nope"}).status_code == 400
        assert client_staff.patch(f"/api/incidents/{incident.pk}/", {}).status_code == 400
        duplicate = client_staff.patch(
            f"/api/incidents/{incident.pk}/", {"status": "acknowledged", "duplicate_of": 999999}, format="json"
        )
        assert duplicate.status_code == 400
        assert client_staff.patch("/api/incidents/999999/", {"status": "acknowledged"}).status_code == 404

    def test_duplicate_needs_its_original(self, client_staff, make_incident):
        original, copy = make_incident(), make_incident()
        response = client_staff.patch(
            f"/api/incidents/{copy.pk}/", {"status": "duplicate", "duplicate_of": original.pk}, format="json"
        )
        assert response.status_code == 200
        assert body(response)["properties"]["duplicate_of"] == original.pk

    def test_put_and_delete_are_not_allowed(self, client_staff, make_incident):
        incident = make_incident()
        assert client_staff.put(f"/api/incidents/{incident.pk}/", {"status": "new"}).status_code == 405
        assert client_staff.delete(f"/api/incidents/{incident.pk}/").status_code == 405
        assert client_staff.post("/api/works-zones/", {}).status_code == 405


def test_anonymous_reads_are_throttled_with_retry_after(client_anon, client_staff, settings):
    settings.INCIDENTS_API_ANON_RATE = "3/min"
    statuses = [client_anon.get("/api/incidents/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    throttled = client_anon.get("/ogc/collections")
    assert throttled.status_code == 429
    assert 0 < int(throttled["Retry-After"]) <= 60
    # Authenticated callers are not limited by the anonymous rate.
    assert all(client_staff.get("/api/incidents/").status_code == 200 for _ in range(5))


def test_schema_describes_geojson_bodies(client_anon):
    response = client_anon.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.0")
    content = schema["paths"]["/api/incidents/"]["get"]["responses"]["200"]["content"]
    assert content["application/geo+json"]["schema"] == {"$ref": "#/components/schemas/IncidentFeatureCollection"}
    feature = schema["components"]["schemas"]["IncidentFeature"]
    assert feature["properties"]["geometry"] == {"$ref": "#/components/schemas/GeoJSONPoint"}
    assert "category" in feature["properties"]["properties"]["required"]
    for path in ["/api/incidents/clusters/", "/api/works-impact/", "/api/works-zones/{id}/impact/",
                 "/ogc/collections/{collection_id}/items", "/open311/v2/requests.{output}"]:  # fmt: skip
        assert path in schema["paths"]
    parameters = {p["name"] for p in schema["paths"]["/api/incidents/"]["get"]["parameters"]}
    assert {"bbox", "datetime", "category", "status", "near", "radius", "ordering", "limit", "offset"} <= parameters


def test_swagger_ui_is_served_without_internet(client_anon):
    page = client_anon.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui" in html
    # Assets come from drf-spectacular-sidecar under our static URL, never a CDN.
    assert "cdn." not in html
    assert "unpkg" not in html
    assert "/static/drf_spectacular_sidecar/" in html


def test_anonymous_incident_list_on_a_real_point(client_anon, make_incident):
    make_incident(location=CAPITOLE)
    assert body(client_anon.get("/api/incidents/"))["total"] == 1
