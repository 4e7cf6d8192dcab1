"""Schemathesis against our own OpenAPI schema: no 500s, every response valid against the schema.

Every operation of ``/api/schema/`` (REST, OGC API – Features, Open311; schemathesis
leaves the schema endpoint itself out) gets generated requests, valid and invalid, anonymously and with a staff token,
through the real WSGI application and the real PostGIS test database. The suite runs a
bounded number of examples; ``scripts/fuzz-api.sh`` runs many more
(``FUZZ_MAX_EXAMPLES``).
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import checks
from schemathesis.generation import GenerationMode

from tests.conftest import paris
from tests.reliability.conftest import FUZZ_COUNTS

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "12"))
# The suite replays the same examples every run; scripts/fuzz-api.sh draws new ones (FUZZ_RANDOM=1).
RANDOM = os.environ.get("FUZZ_RANDOM") == "1"
# Examples run per (operation, caller, mode), printed in pytest's terminal summary.
RUN: Counter = Counter()

# The schema as the application serves it (drf-spectacular needs no database for it).
SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
OPERATIONS = {result.ok().label: result.ok() for result in SCHEMA.get_all_operations()}
# A request valid against the schema may still be refused with a 400 for what a schema
# cannot say (bbox minimum before maximum, start before end): not a failure.
SEMANTIC = [checks.positive_data_acceptance]
# POST /api/posts/ answers a batch item by item (200/201 with each item's status, the
# invalid ones "rejected" with their reason), by design: an invalid item is not a 4xx.
PARTIAL = {"POST /api/posts/"}
FUZZ = settings(
    max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=not RANDOM
)


@pytest.fixture
def api(small_city, settings):
    settings.INCIDENTS_API_ANON_RATE = None  # throttling is tested elsewhere; here it would only answer 429
    # The WSGI handler closes the connection around each request, which would end the test's
    # transaction: keep it open, as Django's own test client does.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture(scope="module", autouse=True)
def _report_examples(request):
    """Hand the counts to the terminal summary (tests/reliability/conftest.py prints them)."""
    request.config.stash[FUZZ_COUNTS] = RUN


def test_the_schema_covers_every_api():
    prefixes = {label.split(" ", 1)[1].split("/")[1] for label in OPERATIONS}
    assert prefixes == {"api", "ogc", "open311"}
    assert len(OPERATIONS) >= 20


def fuzz(operation, caller: str, mode: GenerationMode, token: str) -> None:
    """Run generated requests against one operation; raise schemathesis' failure group if any check fails."""
    # The staff token is set on every request, even where a negative case made up another:
    # the authentication checks belong to the anonymous runs.
    excluded = SEMANTIC + ([checks.ignored_auth] if caller == "staff" else [])
    if operation.label in PARTIAL:
        excluded.append(checks.negative_data_rejection)

    @FUZZ
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        case.headers = dict(case.headers or {})
        if caller == "staff":
            case.headers["Authorization"] = f"Token {token}"
        else:
            case.headers.pop("Authorization", None)  # anonymous means no token at all, not a random one
        RUN[(operation.label, caller, mode)] += 1
        case.call_and_validate(excluded_checks=excluded)

    try:
        check()
    except Unsatisfiable:
        if mode != GenerationMode.NEGATIVE:
            raise
        # Free-form path parameters only: no request can be made invalid against the schema.


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
@pytest.mark.parametrize("caller", ["anonymous", "staff"])
def test_api_conforms_to_its_schema(api, staff_token, caller, mode):
    """Every operation, one after the other on the same rows; all failures are reported together."""
    failures = {}
    for label, operation in sorted(OPERATIONS.items()):
        if mode == GenerationMode.NEGATIVE and not (operation.query or operation.path_parameters or operation.body):
            continue  # nothing to make invalid: the operation takes no parameters
        try:
            fuzz(operation, caller, mode, staff_token)
        except (Exception, BaseExceptionGroup) as error:  # schemathesis' FailureGroup, anything the app raised
            failures[label] = error
    assert not failures, "\n\n".join(f"{label}:\n{error}" for label, error in failures.items())


@pytest.mark.django_db
def test_an_api_key_with_a_nul_character_is_refused_not_a_server_error(client):
    """Found by schemathesis: the key went to PostgreSQL, which cannot store NUL, and the answer was a 500."""
    response = client.post(
        "/open311/v2/requests.json",
        {"api_key": "abc\x00def", "service_code": "other", "lat": 43.6, "long": 1.44, "description": "Trou"},
    )
    assert response.status_code == 401
    assert response.json() == [{"code": 401, "description": "This API key is not valid."}]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/triage/metrics/", "/api/incidents/", "/ogc/collections/incidents/items"])
def test_an_offset_beyond_postgresqls_range_is_the_same_instant_in_utc(client, url, make_incident):
    """Found by schemathesis: RFC 3339 allows offsets up to 23:59, PostgreSQL only up to 15:59 (a 500)."""
    make_incident(first_post_at=paris(2014, 9, 8, 9), last_post_at=paris(2014, 9, 8, 9))
    response = client.get(url, {"datetime": "2014-09-08T00:00:00+19:13/2014-09-09T00:00:00-19:59"})
    assert response.status_code == 200, response.content[:300]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["works_zone", "segment", "district"])
def test_an_id_beyond_the_documented_maximum_is_a_400(client, name):
    """Found by schemathesis: ids above 2**63 - 1 (the schema's maximum) were answered with an empty 200."""
    response = client.get("/api/incidents/", {name: str(2**63)})
    assert response.status_code == 400
    assert name in response.json()


@pytest.mark.django_db
def test_a_day_before_standard_time_is_given_as_rfc_3339(client):
    """Found by schemathesis: year 6 in Paris local time has the offset +00:09:21, which RFC 3339 cannot write."""
    body = client.get("/api/triage/metrics/", {"datetime": "0006-09-01"}).json()
    assert (body["from"], body["to"]) == ("0006-08-31T23:50:39+00:00", "0006-09-01T23:50:38.999999+00:00")
    body = client.get("/api/triage/metrics/", {"datetime": "2014-09-08"}).json()
    assert body["from"] == "2014-09-08T00:00:00+02:00"  # modern days keep the city's offset


@pytest.mark.django_db
@pytest.mark.parametrize("body", [b"0", b"null", b'"a post"'])
def test_a_posts_body_that_is_no_post_is_a_documented_400(body, staff_token, client):
    """Found by schemathesis: the 400 was a JSON list, the schema says an object."""
    response = client.post(
        "/api/posts/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {staff_token}"
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "Send a JSON object (one post) or an array of posts."}
