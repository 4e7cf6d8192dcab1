"""Fixtures of the reliability tests: callers with and without rights, a small city, clean state."""

from __future__ import annotations

from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.gis.geos import MultiPolygon, Polygon
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from incidents.models import IncidentStatus
from incidents.publish.clusters import INDEX
from tests.conftest import CAPITOLE, offset, paris

# Examples run by tests/reliability/test_schemathesis.py, per (operation, caller, mode).
FUZZ_COUNTS = pytest.StashKey[Counter]()


def pytest_terminal_summary(terminalreporter, config):
    counts = config.stash.get(FUZZ_COUNTS, None)
    if counts:
        operations = {label for label, _caller, _mode in counts}
        terminalreporter.write_line(
            f"schemathesis: {sum(counts.values())} examples run against {len(operations)} operations "
            f"({len(counts)} operation x caller x mode runs)"
        )


@pytest.fixture
def small_city(db, make_segment, make_works_zone, make_incident, make_post, make_district):
    """A few rows of every published kind, so that ids, filters and joins have something to find."""
    make_district("01", "Capitole", (1.43, 43.59, 1.46, 43.62))
    segments = [make_segment(f"RUE {n}", [(offset(CAPITOLE, east_m=80 * n).x, CAPITOLE.y),
                                          (offset(CAPITOLE, east_m=80 * n + 60).x, CAPITOLE.y)])
                for n in range(3)]  # fmt: skip
    zone = make_works_zone(offset(CAPITOLE, north_m=20))
    make_works_zone(
        MultiPolygon(Polygon.from_bbox((1.444, 43.605, 1.445, 43.606)), srid=4326),
        starts_at=paris(2014, 8, 1),
        ends_at=None,
    )
    statuses = [status for status in IncidentStatus if status != IncidentStatus.DUPLICATE]
    incidents = []
    for n in range(12):
        incident = make_incident(
            offset(CAPITOLE, east_m=35 * n, north_m=10 * (n % 3)),
            category=["road_surface_pothole", "works_obstruction", "pedestrian_crossing_sidewalk"][n % 3],
            status=statuses[n % len(statuses)],
            segment=segments[n % 3],
            first_post_at=paris(2014, 9, 1 + n),
            last_post_at=paris(2014, 9, 2 + n),
        )
        make_post(f"Nid de poule @voisin rue {n}, photo https://example.org/{n}", incident=incident,
                  author_handle=f"user{n}", posted_at=paris(2014, 9, 1 + n))  # fmt: skip
        incidents.append(incident)
    make_incident(offset(CAPITOLE, north_m=-40), status=IncidentStatus.DUPLICATE, duplicate_of=incidents[0])
    INDEX.reset()
    return {"segments": segments, "zone": zone, "incidents": incidents}


@pytest.fixture
def staff_token(db) -> str:
    user = get_user_model().objects.create_user("fuzz-operator", "op@example.org", "pw-operator-1", is_staff=True)
    # An operator who also feeds posts, so that POST /api/posts/ is exercised beyond its 403.
    user.user_permissions.add(Permission.objects.get(codename="add_post", content_type__app_label="incidents"))
    return Token.objects.create(user=user).key


@pytest.fixture(autouse=True)
def _store_in_the_test_transaction(settings):
    # ingest_posts' second thread has its own connection, which would commit past the test's rollback.
    settings.INCIDENTS_INGEST_STORE_AHEAD = False


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture
def staff(staff_user) -> APIClient:
    return token_client(staff_user)


@pytest.fixture
def feeder(db) -> APIClient:
    """A token allowed to push posts (``incidents.add_post``), not staff."""
    user = get_user_model().objects.create_user("feeder")
    user.user_permissions.add(Permission.objects.get(codename="add_post", content_type__app_label="incidents"))
    return token_client(user)


@pytest.fixture
def api_key(plain_user) -> str:
    """An Open311 API key (a DRF token of a non-staff partner)."""
    return Token.objects.create(user=plain_user).key
