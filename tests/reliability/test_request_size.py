"""INCIDENTS_MAX_REQUEST_BYTES: oversized bodies answer 413 (JSON) before anything parses them."""

from __future__ import annotations

import io
import json

import pytest
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse
from django.test import override_settings

from incidents.middleware import RequestSizeLimitMiddleware
from incidents.models import Post

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
LIMIT = 5 * MB
POST = {"id": "s1", "text": "Énorme nid de poule rue de Metz", "posted_at": "2014-09-08T10:00:00+02:00"}
OPEN311 = {"service_code": "pothole", "lat": 43.6045, "long": 1.4440, "description": "Nid de poule"}


class CountingStream(io.RawIOBase):
    """A request body that remembers how many bytes were read from it."""

    def __init__(self, data: bytes):
        self.data = io.BytesIO(data)
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self.data.read(size)
        self.read_bytes += len(chunk)
        return chunk


def fifty_mb_json() -> bytes:
    """A real 50 MB JSON array of posts (valid JSON: only its size is wrong)."""
    one = json.dumps(POST).encode()
    count = 50 * MB // (len(one) + 1) + 1
    body = b"[" + b",".join([one] * count) + b"]"
    assert len(body) >= 50 * MB
    return body


# What a WSGI server that de-chunks a body says of it: no Content-Length, the stream terminated.
CHUNKED = {"CONTENT_LENGTH": "", "HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True}


def post_body(feeder, body: io.RawIOBase | io.BytesIO, **environ):
    """POST ``body`` to the push API as the WSGI input itself, its length headers given by ``environ``."""
    return feeder.post("/api/posts/", data=b"x", content_type="application/json", **{"wsgi.input": body, **environ})


@pytest.fixture(scope="module")
def big() -> bytes:
    return fifty_mb_json()


def assert_413(response, *, open311: bool = False) -> dict | list:
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    message = body[0]["description"] if open311 else body["detail"]
    assert f"larger than {LIMIT} bytes" in message
    if open311:
        assert body[0]["code"] == 413
    else:
        assert body["max_bytes"] == LIMIT
    return body


def test_the_default_limit_is_a_few_megabytes(settings):
    assert settings.INCIDENTS_MAX_REQUEST_BYTES == LIMIT
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == LIMIT


def test_fifty_megabytes_of_posts_are_refused_by_their_length_unread(feeder, big):
    stream = CountingStream(big)
    assert_413(post_body(feeder, stream, CONTENT_LENGTH=str(len(big))))
    assert stream.read_bytes == 0
    assert not Post.objects.exists()


def test_fifty_megabytes_through_the_test_client(feeder, big):
    # The test client sends the real body with its real Content-Length.
    assert_413(feeder.post("/api/posts/", data=big, content_type="application/json"))
    assert not Post.objects.exists()


def test_open311_json_and_form_posts_over_the_limit(anon, api_key, big):
    assert_413(anon.post(f"/open311/v2/requests.json?api_key={api_key}", data=big, content_type="application/json"),
               open311=True)  # fmt: skip
    form = f"api_key={api_key}&service_code=pothole&lat=43.6&long=1.44&description=".encode() + b"a" * (50 * MB)
    assert_413(
        anon.post("/open311/v2/requests.json", data=form, content_type="application/x-www-form-urlencoded"),
        open311=True,
    )
    assert not Post.objects.exists()


def test_a_chunked_body_without_length_is_cut_at_the_limit(feeder, big):
    stream = CountingStream(big)
    assert_413(post_body(feeder, stream, **CHUNKED))
    assert stream.read_bytes == LIMIT + 1
    assert not Post.objects.exists()


def test_a_chunked_body_within_the_limit_is_ingested(feeder):
    response = post_body(feeder, io.BytesIO(json.dumps([POST]).encode()), **CHUNKED)
    assert response.status_code == 201, response.content
    assert Post.objects.get().external_id == "s1"


def test_an_asgi_body_without_length(big):
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/posts/",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")],
    }
    seen = []

    def view(request):
        seen.append(request.body)
        return HttpResponse(status=204)

    middleware = RequestSizeLimitMiddleware(view)
    assert_413(middleware(ASGIRequest(scope, CountingStream(big))))
    assert seen == []
    small = json.dumps(POST).encode()
    assert middleware(ASGIRequest(scope, io.BytesIO(small))).status_code == 204
    assert seen == [small]


def test_a_body_just_within_the_limit_reaches_the_view(feeder):
    padding = " " * (LIMIT - len(json.dumps([POST])) - 2)
    body = ("[" + json.dumps(POST) + padding + "]").encode()
    assert len(body) <= LIMIT
    response = feeder.post("/api/posts/", data=body, content_type="application/json")
    assert response.status_code == 201


@override_settings(INCIDENTS_MAX_REQUEST_BYTES=1000)
def test_the_limit_follows_the_setting(feeder):
    response = feeder.post("/api/posts/", data=[POST] * 20, format="json")
    assert response.status_code == 413
    assert json.loads(response.content)["max_bytes"] == 1000


@override_settings(INCIDENTS_MAX_REQUEST_BYTES=100)
def test_reads_are_never_limited(anon):
    assert anon.get("/api/incidents/").status_code == 200


def test_the_413_carries_no_hop_by_hop_header(feeder):
    # WSGI servers own hop-by-hop headers: wsgiref (runserver) fails on an app that sets one.
    from wsgiref.util import is_hop_by_hop

    response = feeder.post("/api/posts/", data=b"x" * (LIMIT + 1), content_type="application/json")
    assert response.status_code == 413
    assert not [name for name, _value in response.items() if is_hop_by_hop(name)]
