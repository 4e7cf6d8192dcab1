"""Shared pytest fixtures: real rows in the real PostGIS test database, never mocks."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import LineString, MultiLineString, MultiPolygon, Point, Polygon
from django.core.cache import cache
from django.test import Client
from django.utils import translation

from incidents.geo import LengthMetres
from incidents.locate.normalize import normalize_street_name
from incidents.models import District, Incident, Post, StreetSegment, WorksZone
from incidents.publish.clusters import INDEX
from incidents.services.works import refresh_impact_areas

PARIS = ZoneInfo("Europe/Paris")
ROOT = Path(__file__).resolve().parent.parent

DEFAULT = object()

# Distinctive values in every personal field of a post; none may reach an anonymous caller.
PERSONAL = {
    "author_handle": "zq_author_handle_7731",
    "author_id": "zq-author-id-88412",
    "url": "https://social.example/zq_status_55123",
    "external_id": "zq-ext-44120",
    "media_urls": ["https://media.example/zq_media_3321.jpg"],
    "raw": {"user": {"screen_name": "zq_raw_payload_9931", "email": "zq.rawmail.6621@example.org"}},
}
# What must not be found of them in an anonymous answer.
PERSONAL_MARKS = [
    "zq_author_handle_7731",
    "zq-author-id-88412",
    "zq_status_55123",
    "zq-ext-44120",
    "zq_media_3321",
    "zq_raw_payload_9931",
    "zq.rawmail.6621",
]

# Place du Capitole, Toulouse.
CAPITOLE = Point(1.443987, 43.604468, srid=4326)


def fresh_python(*argv: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    """Run ``python argv`` in the project, its settings read afresh from ``env`` alone.

    The test run's own DJANGO_*, DATABASE_URL and INCIDENTS_* variables are left out.
    """
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "INCIDENTS_"))}
    return subprocess.run(
        [sys.executable, *argv],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "cityincidents.settings", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def logged_in(user) -> Client:
    """A test client with a session for ``user``."""
    client = Client()
    client.force_login(user)
    return client


def paris(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    """An aware datetime in Toulouse's time zone."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=PARIS)


def offset(point: Point, east_m: float = 0.0, north_m: float = 0.0) -> Point:
    """``point`` moved by a few metres (small-distance approximation, fine below ~1 km)."""
    import math

    lat = point.y + north_m / 111_320.0
    lon = point.x + east_m / (111_320.0 * math.cos(math.radians(point.y)))
    return Point(lon, lat, srid=4326)


@pytest.fixture
def make_segment(db) -> Callable[..., StreetSegment]:
    counter = iter(range(1, 1_000_000))

    def make(
        name: str = "RUE DE METZ",
        coords: list[tuple[float, float]] | None = None,
        *,
        source: str = "test",
        source_id: str | None = None,
        commune: str = "TOULOUSE",
        street_id: str = "",
    ) -> StreetSegment:
        coords = coords or [(CAPITOLE.x, CAPITOLE.y), (offset(CAPITOLE, east_m=100).x, CAPITOLE.y)]
        geom = MultiLineString(LineString(coords, srid=4326), srid=4326)
        segment = StreetSegment.objects.create(
            source=source,
            source_id=source_id or str(next(counter)),
            name=name,
            name_normalized=normalize_street_name(name),
            street_id=street_id,
            commune=commune,
            geom=geom,
            length_m=0,
        )
        StreetSegment.objects.filter(pk=segment.pk).update(length_m=LengthMetres("geom"))
        segment.refresh_from_db()
        return segment

    return make


@pytest.fixture
def make_works_zone(db) -> Callable[..., WorksZone]:
    counter = iter(range(1, 1_000_000))

    def make(
        geom=None,
        *,
        starts_at: dt.datetime | None = None,
        ends_at: dt.datetime | object | None = DEFAULT,
        source: str = "test",
        source_id: str | None = None,
        buffer_m: float | None = None,
        **fields,
    ) -> WorksZone:
        zone = WorksZone.objects.create(
            source=source,
            source_id=source_id or str(next(counter)),
            geom=geom or CAPITOLE,
            impact_area=MultiPolygon(Polygon.from_bbox((0, 0, 0, 0)), srid=4326),
            starts_at=starts_at or paris(2014, 9, 1),
            ends_at=paris(2014, 9, 30) if ends_at is DEFAULT else ends_at,
            **fields,
        )
        refresh_impact_areas(WorksZone.objects.filter(pk=zone.pk), buffer_m)
        zone.refresh_from_db()
        return zone

    return make


@pytest.fixture
def make_post(db) -> Callable[..., Post]:
    counter = iter(range(1, 1_000_000))

    def make(text: str = "Trottoir bloqué rue de Metz", **fields) -> Post:
        fields.setdefault("source", "test")
        fields.setdefault("external_id", str(next(counter)))
        fields.setdefault("posted_at", paris(2014, 9, 8, 9))
        return Post.objects.create(text=text, **fields)

    return make


@pytest.fixture
def make_incident(db) -> Callable[..., Incident]:
    def make(location: Point = CAPITOLE, **fields) -> Incident:
        fields.setdefault("category", "works_obstruction")
        fields.setdefault("first_post_at", paris(2014, 9, 8, 9))
        fields.setdefault("last_post_at", fields["first_post_at"])
        fields.setdefault("post_count", 1)
        return Incident.objects.create(location=location, **fields)

    return make


@pytest.fixture
def make_district(db) -> Callable[..., District]:
    def make(code: str, name: str, bbox: tuple[float, float, float, float]) -> District:
        polygon = Polygon.from_bbox(bbox)
        return District.objects.create(code=code, name=name, geom=MultiPolygon(polygon, srid=4326))

    return make


@pytest.fixture
def staff_user(db):
    """An operator: staff, no other rights."""
    return get_user_model().objects.create_user("operator", "operator@example.org", "pw-operator-1", is_staff=True)


@pytest.fixture
def plain_user(db):
    return get_user_model().objects.create_user("partner", "partner@example.org", "pw-partner-1")


@pytest.fixture(autouse=True)
def _default_language():
    """Start every test in the default language: a request through LocaleMiddleware leaves its
    language active in the thread, which would make later tests depend on the order they run in."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fresh_api_state():
    """Each test starts with empty throttle counters and a cluster index that reloads from the database."""
    cache.clear()
    INDEX.reset()
    yield
    INDEX.reset()
