"""The admin needs staff and shows stored payloads inert; production settings pass `check --deploy`."""

from __future__ import annotations

import subprocess

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from incidents.models import Post
from tests.conftest import fresh_python, logged_in

SCRIPT = '<script>alert("zq-xss")</script>'
IMG = "<img src=x onerror=\"alert('zq-img')\">"


@pytest.fixture
def hostile_post(make_post, make_incident):
    incident = make_incident()
    return make_post(
        f"Nid de poule {SCRIPT} {IMG}",
        incident=incident,
        author_handle=IMG,
        url="https://x.example/" + SCRIPT,
        raw={"text": SCRIPT, "user": IMG},
    )


@pytest.mark.django_db
class TestAdminNeedsStaff:
    URLS = ["/admin/", "/admin/incidents/post/", "/admin/incidents/incident/", "/admin/authtoken/tokenproxy/"]

    @pytest.mark.parametrize("url", URLS)
    def test_anonymous_callers_are_sent_to_the_login(self, url):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")

    @pytest.mark.parametrize("url", URLS)
    def test_a_logged_in_non_staff_user_is_sent_to_the_login(self, url, plain_user):
        response = logged_in(plain_user).get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")

    def test_staff_without_permissions_see_no_model(self, staff_user):
        assert logged_in(staff_user).get("/admin/incidents/post/").status_code == 403

    def test_a_superuser_gets_in(self):
        admin = get_user_model().objects.create_superuser("root", "root@example.org", "pw-root-1")
        assert logged_in(admin).get("/admin/incidents/post/").status_code == 200


@pytest.mark.django_db
def test_the_admin_escapes_stored_payloads(hostile_post):
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "pw-root-1")
    client = logged_in(admin)
    pages = [
        client.get(f"/admin/incidents/post/{hostile_post.pk}/change/"),
        client.get("/admin/incidents/post/"),
        client.get(f"/admin/incidents/incident/{hostile_post.incident_id}/change/"),
    ]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        assert SCRIPT not in html
        assert "<img src=x onerror" not in html
    change = pages[0].content.decode()
    assert "&lt;script&gt;alert(" in change  # shown, escaped
    # Stored verbatim.
    assert Post.objects.get(pk=hostile_post.pk).author_handle == IMG


@pytest.mark.django_db
def test_the_api_serves_stored_payloads_as_json_not_html(hostile_post, staff):
    response = staff.get(f"/api/incidents/{hostile_post.incident_id}/")
    assert response["Content-Type"].startswith("application/geo+json")
    assert response["X-Content-Type-Options"] == "nosniff"
    (post,) = response.json()["properties"]["posts"]
    assert post["text"] == f"Nid de poule {SCRIPT} {IMG}"  # verbatim: JSON is data, not markup
    assert post["author_handle"] == IMG


# --- Production settings -------------------------------------------------------------------

PRODUCTION = {
    "DJANGO_SECRET_KEY": "k7#Qm2v!x9Lp4Zr8Tn6Wb3Yc5Hd1Jf0Gs-Ua_Ve=Ri+Oe*Pw&Ky$Xt",
    "DJANGO_ALLOWED_HOSTS": "incidents.example.org",
    "DJANGO_HSTS_SECONDS": "31536000",
    "DJANGO_HSTS_INCLUDE_SUBDOMAINS": "1",
    "DJANGO_HSTS_PRELOAD": "1",
    "DJANGO_SECURE_SSL_REDIRECT": "1",
    "DJANGO_BEHIND_PROXY": "1",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return fresh_python("manage.py", *args, **env)


def test_check_deploy_passes_with_the_production_variables():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    # Only what settings.py silences, with its written reason (GDAL, see SILENCED_SYSTEM_CHECKS).
    assert "(1 silenced)" in result.stdout


def test_production_defaults_are_safe():
    script = (
        "from django.conf import settings as s; "
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_CONTENT_TYPE_NOSNIFF, "
        "s.X_FRAME_OPTIONS, s.SECURE_HSTS_SECONDS, s.SILENCED_SYSTEM_CHECKS)"
    )
    result = fresh_python(
        "-c",
        f"import django; django.setup(); {script}",
        timeout=60,
        DJANGO_SECRET_KEY=PRODUCTION["DJANGO_SECRET_KEY"],
        DJANGO_ALLOWED_HOSTS="incidents.example.org",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True", "True", "DENY", "0", "['gis.W001']"]


def test_check_deploy_names_what_is_left_to_set():
    # Without the HTTPS variables, the deploy check says what to turn on (HSTS is opt-in: a setting).
    env = {k: PRODUCTION[k] for k in ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS")}
    result = manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "security.W004" in output  # SECURE_HSTS_SECONDS
    assert "security.W008" in output  # SECURE_SSL_REDIRECT


def test_production_without_its_secrets_says_how_to_fix_it():
    result = manage("check", DJANGO_ALLOWED_HOSTS="incidents.example.org")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set. Set it to a long random string" in result.stderr
    result = manage("check", DJANGO_SECRET_KEY=PRODUCTION["DJANGO_SECRET_KEY"])
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS is not set" in result.stderr
