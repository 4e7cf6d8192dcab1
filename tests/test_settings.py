"""Settings come from the environment; production refuses to start without its secrets."""

import subprocess

import pytest

from tests.conftest import fresh_python


def load_settings(**env: str) -> subprocess.CompletedProcess:
    return fresh_python("-c", "from django.conf import settings; settings.DATABASES; print('ok')", timeout=60, **env)


def test_production_without_secret_key_refuses_to_start():
    result = load_settings(DJANGO_ALLOWED_HOSTS="incidents.example.org")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_production_without_allowed_hosts_refuses_to_start():
    result = load_settings(DJANGO_SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS is not set" in result.stderr


def test_production_with_its_secrets_starts():
    result = load_settings(DJANGO_SECRET_KEY="x" * 50, DJANGO_ALLOWED_HOSTS="incidents.example.org")
    assert result.returncode == 0, result.stderr


def test_development_runs_without_secrets():
    assert load_settings(DJANGO_DEBUG="1").returncode == 0


@pytest.mark.parametrize("url", ["postgres://u@localhost/db", "sqlite:///tmp/x.db"])
def test_database_url_must_be_postgis(url):
    result = load_settings(DJANGO_DEBUG="1", DATABASE_URL=url)
    assert result.returncode != 0
    assert "postgis://" in result.stderr


def test_bad_boolean_is_reported():
    result = load_settings(DJANGO_DEBUG="maybe")
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be a boolean" in result.stderr
