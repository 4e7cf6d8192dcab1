"""The subscriptions page of signed-in users, and the log-in page that leads there."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from incidents.models import Subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def planner_client(db) -> Client:
    get_user_model().objects.create_user("planner", "planner@example.org", "pw-planner-1")
    client = Client()
    assert client.post("/accounts/login/", {"username": "planner", "password": "pw-planner-1"}).status_code == 302
    return client


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/subscriptions/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/subscriptions/")
    assert "Log in" in client.get("/").content.decode()


def test_a_planner_logs_in_and_subscribes_to_a_works_site(planner_client, make_works_zone):
    zone = make_works_zone(title="Rue de Metz")
    page = planner_client.get(f"/subscriptions/?works_zone={zone.pk}").content.decode()
    assert f'name="works_zone" value="{zone.pk}"' in page
    assert 'value="works_zone" id="id_place_1" checked' in page.replace("required ", "")
    response = planner_client.post(
        "/subscriptions/",
        {"place": "works_zone", "works_zone": zone.pk, "categories": ["works_obstruction"], "email": "on",
         "email_mode": "daily", "webhook_url": "", "webhook_secret": ""},
    )  # fmt: skip
    assert response.status_code == 302
    subscription = Subscription.objects.get()
    assert (subscription.works_zone, subscription.categories, subscription.email_mode) == (
        zone, ["works_obstruction"], "daily",
    )  # fmt: skip
    listing = planner_client.get("/subscriptions/").content.decode()
    assert "Works: Rue de Metz" in listing
    assert "A daily digest" in listing

    planner_client.post(f"/subscriptions/{subscription.pk}/pause/")
    subscription.refresh_from_db()
    assert subscription.is_paused
    planner_client.post(f"/subscriptions/{subscription.pk}/resume/")
    subscription.refresh_from_db()
    assert not subscription.is_paused
    planner_client.post(f"/subscriptions/{subscription.pk}/delete/")
    assert not Subscription.objects.exists()


def test_errors_are_shown_and_nothing_saved(planner_client):
    response = planner_client.post("/subscriptions/", {"place": "district", "email_mode": "immediate"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Say which one." in html
    assert "Choose e-mail, a webhook, or both." not in html  # the form's own error comes first
    response = planner_client.post("/subscriptions/", {"place": "city", "email_mode": "immediate"})
    assert "Choose e-mail, a webhook, or both." in response.content.decode()
    assert not Subscription.objects.exists()


def test_nobody_touches_another_users_subscription(planner_client, plain_client):
    planner_client.post("/subscriptions/", {"place": "city", "email": "on", "email_mode": "immediate"})
    subscription = Subscription.objects.get()
    assert plain_client.post(f"/subscriptions/{subscription.pk}/delete/").status_code == 404
    assert "Subscription" not in plain_client.get("/subscriptions/").content.decode().split("<h2")[1]
    assert Subscription.objects.exists()


def test_page_in_french(planner_client):
    html = planner_client.get("/subscriptions/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Mes abonnements" in html
    assert "Toute la ville" in html
