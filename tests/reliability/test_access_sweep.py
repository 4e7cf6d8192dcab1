"""
Every URL, found through the URL resolver (a new endpoint cannot be forgotten), answered to
anonymous callers: no personal data of posts in any of them, no anonymous write, no 500.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.contrib.gis.geos import Point
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from incidents.models import Incident, IncidentEvent, Post, StreetSegment, WorksZone
from tests.conftest import CAPITOLE, PERSONAL, PERSONAL_MARKS, offset

pytestmark = pytest.mark.django_db

PUBLIC_MARKER = "Lampadaire zqpublicmarker éteint"
TEXT = (
    f"{PUBLIC_MARKER} rue de Metz @zq_mention_4410 écrivez à zq.mail.5512@example.org "
    "ou au +33 6 71 82 93 04, photo https://zq-link.example/p/1"
)
OPEN311 = {
    "author_handle": "zq.o311mail.8890@example.org",
    "author_id": "zq-o311-device-1177",
    "raw": {"first_name": "Zqfirstname", "last_name": "Zqlastname", "phone": "05 61 99 88 77"},
}
SECRETS = [
    *PERSONAL_MARKS,
    "zq_mention_4410",
    "zq.mail.5512",
    "71 82 93 04",
    "zq-link",
    "zq.o311mail.8890",
    "zq-o311-device-1177",
    "Zqfirstname",
    "Zqlastname",
    "99 88 77",
    # The exact post location (the incident's own point is public; the post's is not).
    "1.444913",
]


@dataclass
class World:
    incident: Incident
    zone: WorksZone
    segment: StreetSegment
    post: Post
    token_post: Post


@pytest.fixture
def world(make_incident, make_post, make_segment, make_works_zone, staff_user) -> World:
    segment = make_segment()
    zone = make_works_zone()
    incident = make_incident(segment=segment)
    post_location = Point(1.444913, 43.604468, srid=4326)
    post = make_post(TEXT, incident=incident, location=post_location, location_method="gps", **PERSONAL)
    token_post = make_post(
        "Nid de poule zqpublicmarker signalé par Open311",
        source="open311",
        external_id="0123456789abcdef0123456789abcdef",
        incident=incident,
        location=offset(CAPITOLE, east_m=3),
        location_method="gps",
        **OPEN311,
    )
    IncidentEvent.objects.create(incident=incident, from_status="new", to_status="acknowledged", actor=staff_user)
    return World(incident, zone, segment, post, token_post)


@dataclass(frozen=True)
class Route:
    name: str
    params: tuple[str, ...]


def routes(patterns=None, namespace: str = "", params: tuple[str, ...] = ()) -> Iterator[Route]:
    """Every named route of the project, with the parameters its URL takes."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        groups = tuple(pattern.pattern.regex.groupindex)
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from routes(pattern.url_patterns, inner, params + groups)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield Route(namespace + pattern.name, params + groups)


def values(route: Route, world: World, name: str) -> list[str]:
    """Values to try for one URL parameter; an unknown parameter fails the test (add it here)."""
    pk = {
        "incident": world.incident.pk,
        "works-zone": world.zone.pk,
        "works-": world.zone.pk,
        "street-segment": world.segment.pk,
        "web:triage": world.incident.pk,
        "web:works": world.zone.pk,
        "web:feed-works": world.zone.pk,
    }
    by_name = {
        "pk": [next((str(v) for k, v in pk.items() if route.name.startswith(k)), str(world.incident.pk))],
        "format": ["json", "geojson", "csv", "api"],
        "collection_id": ["incidents", "works-points", "works-impact-areas", "street-segments"],
        "feature_id": [str(world.incident.pk), str(world.zone.pk), str(world.segment.pk)],
        "request_id": [str(world.incident.pk)],
        "output": ["json", "xml"],
        "service_code": ["lighting"],
        "tile_matrix_set_id": ["WebMercatorQuad"],
        # The z12 tile over the Capitole, and the whole world.
        "tile_matrix": ["12", "0"],
        "tile_row": ["1495", "0"],
        "tile_col": ["2064", "0"],
        "token": [world.token_post.external_id],
        # Admin pages: anonymous callers are sent to the login page whatever the object.
        "object_id": [str(world.post.pk)],
        "id": ["1"],
        "content_type_id": ["1"],
        "app_label": ["incidents"],
        "url": ["nowhere/"],
    }
    assert name in by_name, f"{route.name} takes a parameter {name!r}: give it values in values()"
    return by_name[name]


# Query strings that make an endpoint answer with data rather than a 400 for a required parameter.
QUERIES: dict[str, list[dict]] = {
    "incident-list": [{}, {"format": "csv", "limit": "all"}, {"format": "csv"}],
    "incident-detail": [{}, {"format": "csv"}],
    "incident-clusters": [{"bbox": "1.3,43.5,1.6,43.7", "zoom": "12"}, {"bbox": "1.44,43.60,1.45,43.61", "zoom": "19"}],
    "works-impact": [{"datetime": "2014-08-01T00:00:00Z/2014-10-31T00:00:00Z"}],
    "triage-metrics": [{}, {"datetime": "2014-01-01T00:00:00Z/2014-12-31T00:00:00Z"}],
    "open311-requests": [{"start_date": "2014-01-01T00:00:00Z", "end_date": "2014-12-31T00:00:00Z"}],
    "ogc-items": [{}, {"f": "html"}],
    "ogc-item": [{}, {"f": "html"}],
    "ogc-collection": [{}, {"f": "html"}],
    "web:map": [{}, {"incident": "{incident}"}],
    "web:list": [{}],
    "web:streets": [{"bbox": "1.44,43.60,1.45,43.61", "zoom": "17"}],
}


def urls(world: World) -> Iterator[tuple[Route, str, dict]]:
    for route in routes():
        choices = [values(route, world, name) for name in route.params]
        for combination in itertools.product(*choices):
            kwargs = dict(zip(route.params, combination, strict=True))
            try:
                url = reverse(route.name, kwargs=kwargs)
            except NoReverseMatch:  # a combination this route does not take (e.g. an id for a format)
                continue
            for query in QUERIES.get(route.name, [{}]):
                yield route, url, {k: v.format(incident=world.incident.pk) for k, v in query.items()}


def content(response) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode("utf-8", errors="replace")


def test_no_url_shows_personal_data_to_anonymous_callers(anon, world, settings):
    settings.INCIDENTS_API_ANON_RATE = None
    fetched, with_data = [], set()
    for route, url, query in urls(world):
        response = anon.get(url, query)
        body = content(response)
        assert response.status_code < 500, f"{url} {query}: {response.status_code}"
        leaked = [secret for secret in SECRETS if secret in body and secret not in url]
        assert not leaked, f"{url} {query} shows {leaked} to anonymous callers"
        fetched.append(url)
        if "zqpublicmarker" in body:
            with_data.add(route.name)
    # The sweep did reach the data: these answers carry the posts' (scrubbed) text.
    assert {"incident-detail", "open311-request", "open311-requests", "web:list"} <= with_data, with_data
    assert len(fetched) > 60


def test_the_sweep_covers_every_published_family(world):
    names = {route.name for route in routes()}
    for name in ["incident-list", "incident-detail", "incident-clusters", "works-impact", "works-zone-impact",
                 "ogc-items", "ogc-item", "open311-requests", "open311-request", "open311-token", "api-schema",
                 "web:map", "web:list", "web:triage-incident", "web:works", "web:works-export", "web:feed-incidents",
                 "web:feed-works"]:  # fmt: skip
        assert name in names


def test_staff_see_the_personal_fields(staff, world):
    detail = content(staff.get(f"/api/incidents/{world.incident.pk}/"))
    for value in ["zq_author_handle_7731", "zq-author-id-88412", "zq_status_55123", "zq_raw_payload_9931",
                  "zq_mention_4410", "zq.mail.5512", "71 82 93 04", "zq.o311mail.8890", "Zqfirstname"]:  # fmt: skip
        assert value in detail
    requests = content(staff.get(f"/open311/v2/requests/{world.incident.pk}.json"))
    assert "zq_mention_4410" in requests  # the first post's text, unscrubbed


@pytest.mark.parametrize(
    "url", ["/api/incidents.json", "/api/incidents/1.csv", "/api/works-zones.geojson", "/api.json"]
)
def test_format_suffix_urls_are_not_routes(anon, url):
    # They used to reach views that take no `format` argument: a 500. The format is `?format=`.
    assert anon.get(url, follow=True).status_code == 404


def test_a_non_staff_token_sees_only_public_data(plain_user, world):
    from tests.reliability.conftest import token_client

    detail = content(token_client(plain_user).get(f"/api/incidents/{world.incident.pk}/"))
    assert "zqpublicmarker" in detail
    assert not [secret for secret in SECRETS if secret in detail]


# --- Writes -----------------------------------------------------------------------------

# Anonymous writes that legitimately answer without changing anything: the language switch
# sets a cookie, the admin login form is shown again with its error.
HARMLESS_WRITES = {"set_language", "admin:login", "admin:logout", "web:login"}


def row_counts() -> dict[str, int]:
    from django.apps import apps

    return {model._meta.label: model.objects.count() for model in apps.get_app_config("incidents").get_models()}


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_no_url_accepts_an_anonymous_write(anon, world, method, settings):
    settings.INCIDENTS_API_ANON_RATE = None
    before = row_counts()
    statuses = {}
    for route, url, _query in urls(world):
        if route.name in HARMLESS_WRITES:
            continue
        response = getattr(anon, method)(url, {"status": "rejected", "text": "x"}, format="json")
        statuses[url] = response.status_code
        assert not 200 <= response.status_code < 300, f"anonymous {method.upper()} {url}: {response.status_code}"
        assert response.status_code < 500, f"anonymous {method.upper()} {url}: {response.status_code}"
    assert row_counts() == before
    world.incident.refresh_from_db()
    assert world.incident.status == "new"
    assert statuses[f"/api/incidents/{world.incident.pk}/"] in (401, 403, 405)


def test_only_staff_patch_incidents(anon, plain_user, staff, world):
    from tests.reliability.conftest import token_client

    url = f"/api/incidents/{world.incident.pk}/"
    change = {"status": "acknowledged"}
    assert anon.patch(url, change, format="json").status_code == 401
    assert token_client(plain_user).patch(url, change, format="json").status_code == 403
    world.incident.refresh_from_db()
    assert world.incident.status == "new"
    assert staff.patch(url, change, format="json").status_code == 200
    world.incident.refresh_from_db()
    assert world.incident.status == "acknowledged"


def test_every_api_url_throttles_anonymous_callers(anon, world, settings):
    settings.INCIDENTS_API_ANON_RATE = "2/min"
    checked = 0
    for route, url, query in urls(world):
        # Writes for signed-in callers only: an anonymous call is refused before anything is read.
        if (
            not re.match(r"^/(api|ogc|open311)/", url)
            or route.name == "post-ingest"
            or route.name.startswith("subscription-")
        ):
            continue
        from django.core.cache import cache

        cache.clear()
        statuses = [anon.get(url, query).status_code for _ in range(3)]
        assert statuses[2] == 429, f"{url} {query}: {statuses}"
        checked += 1
    assert checked > 30
