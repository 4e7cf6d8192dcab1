"""POST /api/posts/: token-authenticated, one post or a batch, an answer per item."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission, User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from incidents.models import Post
from tests.conftest import CAPITOLE
from tests.pipeline.conftest import SOURCES, post

pytestmark = pytest.mark.django_db

URL = "/api/posts/"
POTHOLE = "Énorme nid de poule sur la chaussée"


@pytest.fixture
def feeder() -> APIClient:
    user = User.objects.create_user("feeder")
    user.user_permissions.add(Permission.objects.get(codename="add_post", content_type__app_label="incidents"))
    token = Token.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_without_a_token_nothing_is_stored():
    response = APIClient().post(URL, post(POTHOLE, CAPITOLE), format="json")
    assert response.status_code == 401
    assert not Post.objects.exists()


def test_a_session_is_not_enough(django_user_model):
    admin = django_user_model.objects.create_superuser("admin", password="pw")
    client = APIClient()
    client.force_login(admin)
    assert client.post(URL, post(POTHOLE, CAPITOLE), format="json").status_code == 401


def test_a_token_without_the_permission_is_refused():
    user = User.objects.create_user("reader")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    response = client.post(URL, post(POTHOLE, CAPITOLE), format="json")
    assert response.status_code == 403
    assert "incidents.add_post" in response.json()["detail"]


def test_one_post_is_created_then_duplicate(feeder):
    response = feeder.post(URL, post(POTHOLE, CAPITOLE, id="a1"), format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["created"] == 1
    (item,) = body["items"]
    assert item["status"] == "created"
    assert item["external_id"] == "a1"
    assert item["source"] == "api"
    stored = Post.objects.get(pk=item["id"])
    assert stored.incident is not None  # processed at once without Celery

    again = feeder.post(URL, post(POTHOLE, CAPITOLE, id="a1"), format="json")
    assert again.status_code == 200
    assert again.json()["items"][0] == {**item, "status": "duplicate"}


def test_a_batch_answers_per_item(feeder):
    batch = [
        post(POTHOLE, CAPITOLE, id="b1"),
        {"id": "b2", "text": "x", "posted_at": "demain"},
        post("", id="b3", repost_of="b1"),
    ]
    response = feeder.post(URL, batch, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["created"], body["rejected"], body["repost"]) == (1, 1, 1)
    assert [item["status"] for item in body["items"]] == ["created", "rejected", "repost"]
    assert [item["index"] for item in body["items"]] == [0, 1, 2]
    assert body["items"][1]["reason"].startswith("posted_at: 'demain' is not a date-time")
    assert Post.objects.get(external_id="b1").repost_count == 1


def test_a_single_rejected_post_is_a_bad_request(feeder):
    response = feeder.post(URL, {"id": "c1", "text": "", "posted_at": "2014-09-08T10:00:00Z"}, format="json")
    assert response.status_code == 400
    assert response.json()["items"][0]["reason"] == "text is missing or empty"


def test_x_responses_can_be_pushed_as_they_come(feeder):
    response = json.loads((SOURCES / "x_search_response.json").read_text())
    answer = feeder.post(f"{URL}?input=x", response, format="json")
    assert answer.status_code == 201
    body = answer.json()
    assert (body["created"], body["repost"], body["rejected"]) == (4, 1, 2)
    assert {item["position"] for item in body["items"]} >= {"data[0]", "data[6]"}
    assert Post.objects.filter(source="x").count() == 4


def test_mastodon_statuses_with_a_source_name(feeder):
    statuses = json.loads((SOURCES / "mastodon_statuses.json").read_text())
    answer = feeder.post(f"{URL}?input=mastodon&source=piaille", statuses, format="json")
    assert answer.json()["created"] == 3
    assert set(Post.objects.values_list("source", flat=True)) == {"piaille"}


@pytest.mark.parametrize(
    ("body", "query", "message"),
    [
        ("not a list", "", "Send a JSON object (one post) or an array of posts."),
        ([], "?input=rss", "Use one of: posts, x, mastodon."),
    ],
)
def test_unusable_requests(feeder, body, query, message):
    response = feeder.post(URL + query, body, format="json")
    assert response.status_code == 400
    assert message in json.dumps(response.json(), ensure_ascii=False)


def test_too_large_a_batch(feeder, settings):
    settings.INCIDENTS_API_MAX_BATCH = 2
    response = feeder.post(URL, [post(POTHOLE, id=str(n)) for n in range(3)], format="json")
    assert response.status_code == 400
    assert "At most 2 posts per request" in response.json()["detail"]
    assert not Post.objects.exists()


def test_malformed_json(feeder):
    response = feeder.post(URL, data="{oops", content_type="application/json")
    assert response.status_code == 400
