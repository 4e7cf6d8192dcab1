"""/api/subscriptions/: each user's own subscriptions, through the same service as the page."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from incidents.models import Subscription
from tests.api.conftest import body

pytestmark = pytest.mark.django_db

AREA = {"type": "Polygon", "coordinates": [[[1.44, 43.60], [1.45, 43.60], [1.45, 43.61], [1.44, 43.61], [1.44, 43.60]]]}


def client_of(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def owner(db):
    return get_user_model().objects.create_user("planner", "planner@example.org", "pw-planner-1")


@pytest.fixture
def other(db):
    return get_user_model().objects.create_user("someone", "someone@example.org", "pw-someone-1")


def test_create_read_change_delete_own_subscription(owner, make_works_zone, make_district):
    api = client_of(owner)
    zone = make_works_zone()
    response = api.post(
        "/api/subscriptions/",
        {"works_zone": zone.pk, "categories": ["lighting"], "email": True, "webhook_url": "https://hooks.example/x"},
        format="json",
    )
    assert response.status_code == 201, response.content
    created = body(response)
    assert created["works_zone"] == zone.pk
    assert created["district"] is None
    assert created["area"] is None
    assert created["categories"] == ["lighting"]
    assert len(created["webhook_secret"]) == 64  # made for the owner
    assert created["paused"] is False

    district = make_district("3155501", "Capitole", (1.43, 43.60, 1.45, 43.61))
    changed = body(api.patch(f"/api/subscriptions/{created['id']}/",
                             {"works_zone": None, "district": district.pk}, format="json"))  # fmt: skip
    assert (changed["works_zone"], changed["district"]) == (None, district.pk)
    assert changed["webhook_url"] == "https://hooks.example/x"

    drawn = body(api.patch(f"/api/subscriptions/{created['id']}/", {"district": None, "area": AREA}, format="json"))
    assert drawn["area"]["type"] == "Polygon"
    paused = body(api.patch(f"/api/subscriptions/{created['id']}/", {"paused": True}, format="json"))
    assert paused["paused"] is True
    assert body(api.get("/api/subscriptions/"))[0]["id"] == created["id"]
    assert api.delete(f"/api/subscriptions/{created['id']}/").status_code == 204
    assert not Subscription.objects.exists()


def test_owner_only(owner, other):
    mine = body(client_of(owner).post("/api/subscriptions/", {"email": True}, format="json"))
    theirs = client_of(other)
    assert body(theirs.get("/api/subscriptions/")) == []
    assert theirs.get(f"/api/subscriptions/{mine['id']}/").status_code == 404
    assert theirs.patch(f"/api/subscriptions/{mine['id']}/", {"email": False}, format="json").status_code == 404
    assert theirs.delete(f"/api/subscriptions/{mine['id']}/").status_code == 404
    assert APIClient().get("/api/subscriptions/").status_code == 401
    assert APIClient().post("/api/subscriptions/", {"email": True}, format="json").status_code == 401
    assert Subscription.objects.get().owner == owner


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": False}, "non_field_errors"),  # nowhere to deliver
        ({"categories": ["nonsense"]}, "categories"),
        ({"area": {"type": "Point", "coordinates": [1.44, 43.6]}}, "area"),
        ({"works_zone": 424242}, "works_zone"),
        ({"webhook_url": "ftp://hooks.example/x"}, "webhook_url"),
        ({"district": None, "works_zone": None, "area": AREA, "email_mode": "hourly"}, "email_mode"),
    ],
)
def test_bad_subscriptions_answer_400_naming_the_field(owner, payload, field):
    response = client_of(owner).post("/api/subscriptions/", payload, format="json")
    assert response.status_code == 400
    assert field in body(response)


def test_two_places_at_once_are_refused(owner, make_works_zone, make_district):
    zone = make_works_zone()
    district = make_district("3155501", "Capitole", (1.43, 43.60, 1.45, 43.61))
    response = client_of(owner).post(
        "/api/subscriptions/", {"works_zone": zone.pk, "district": district.pk}, format="json"
    )
    assert response.status_code == 400
    assert "one place" in response.content.decode()


def test_an_owner_without_e_mail_address_needs_a_webhook(db):
    user = get_user_model().objects.create_user("nomail", "", "pw-nomail-1")
    response = client_of(user).post("/api/subscriptions/", {"email": True}, format="json")
    assert response.status_code == 400
    assert "email" in body(response)
