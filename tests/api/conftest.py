"""Fixtures of the API tests: clients (anonymous, token, staff session), a clean throttle and index."""

from __future__ import annotations

import json

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.pipeline.conftest import push  # noqa: F401 (the fixture: posts through the real pipeline)


@pytest.fixture
def client_anon() -> APIClient:
    return APIClient()


@pytest.fixture
def staff_token(staff_user) -> str:
    return Token.objects.create(user=staff_user).key


@pytest.fixture
def client_staff(staff_token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {staff_token}")
    return client


def body(response) -> dict | list:
    """The JSON body of a response, streamed or not."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return json.loads(content)


def text(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode()
