"""
Bad input on the API writes (POST /api/posts/, Open311 POST requests.json, PATCH) and on
the read filters: a clear 4xx or a per-item rejection, never a 500, nothing valid lost.
"""

from __future__ import annotations

import json

import pytest

from incidents.models import Incident, Post
from incidents.services.areas import set_service_area_from_districts

pytestmark = pytest.mark.django_db

URL = "/api/posts/"
GOOD = {"text": "Énorme nid de poule rue de Metz", "posted_at": "2014-09-08T10:00:00+02:00"}
SCRIPT = '<script>alert("x")</script>'
IMG = "<img src=x onerror=alert(1)>"


def good(id: str, **fields) -> dict:
    return {"id": id, **GOOD, **fields}


def raw_post(client, url: str, data: bytes, content_type: str = "application/json"):
    return client.post(url, data=data, content_type=content_type)


def problem(response) -> str:
    """The error text of a 4xx answer, in whatever JSON shape the endpoint uses."""
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    return json.dumps(response.json(), ensure_ascii=False)


# --- Whole bodies that cannot be read: 400 (or 415), nothing stored ----------------------

DEEP = 100_000
UNREADABLE_BODIES = {
    "truncated-object": (b'{"id": "1", "text": "x"', "JSON parse error"),
    "truncated-array": (b'[{"id": "1", "text": "x", "posted_at": "2014-09-08T10:00:00Z"}, {"id"', "JSON parse error"),
    "trailing-comma": (b'{"id": "1",}', "JSON parse error"),
    "csv-sent-as-json": (b"id,text,posted_at\n1,x,2014-09-08T10:00:00Z\n", "JSON parse error"),
    "whitespace-only": (b"   \n", "JSON parse error"),
    "nan-literal": (b'{"id": "1", "text": "x", "posted_at": "2014-09-08T10:00:00Z", "lon": NaN, "lat": 1}', "NaN"),
    "infinity-literal": (b'{"id": "1", "text": "x", "posted_at": "2014-09-08T10:00:00Z", "lat": Infinity}', "Infinity"),
    "latin-1": ('{"id": "1", "text": "Trottoir défoncé", "posted_at": "2014-09-08"}'.encode("latin-1"), "not utf-8"),
    "invalid-utf-8": (b'{"id": "1", "text": "\xff\xfe\xc3\x28", "posted_at": "2014-09-08"}', "not utf-8"),
    "utf-16": ('{"id": "1", "text": "x", "posted_at": "2014-09-08"}'.encode("utf-16"), "not utf-8"),
    "deep-array": (b"[" * DEEP + b"]" * DEEP, "nested too deeply"),
    "deep-object": (b'{"a":' * DEEP + b"1" + b"}" * DEEP, "nested too deeply"),
}


@pytest.mark.parametrize(("data", "message"), list(UNREADABLE_BODIES.values()), ids=list(UNREADABLE_BODIES))
def test_posts_unreadable_bodies(feeder, data, message):
    response = raw_post(feeder, URL, data)
    assert response.status_code == 400
    assert message in problem(response)
    assert not Post.objects.exists()


@pytest.mark.parametrize(("data", "message"), list(UNREADABLE_BODIES.values()), ids=list(UNREADABLE_BODIES))
def test_open311_unreadable_bodies(anon, api_key, data, message):
    response = raw_post(anon, f"/open311/v2/requests.json?api_key={api_key}", data)
    assert response.status_code == 400
    (error,) = response.json()
    assert error["code"] == 400
    assert message in error["description"]
    assert not Post.objects.exists()


@pytest.mark.parametrize("data", [b"{", b"[" * DEEP + b"]" * DEEP, b'{"status": "\xff"}'], ids=["cut", "deep", "bytes"])
def test_patch_unreadable_bodies(staff, make_incident, data):
    incident = make_incident()
    response = staff.patch(f"/api/incidents/{incident.pk}/", data=data, content_type="application/json")
    assert response.status_code == 400
    incident.refresh_from_db()
    assert incident.status == "new"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"null", "Send a JSON object"),
        (b"42", "Send a JSON object"),
        (b'"a post"', "Send a JSON object"),
        (b"", "id is missing or empty"),  # no body at all: one empty post
    ],
    ids=["null", "number", "string", "empty-body"],
)
def test_posts_bodies_that_are_not_posts(feeder, data, message):
    response = raw_post(feeder, URL, data)
    assert response.status_code == 400
    assert message in problem(response)


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"<posts><post id='1'/></posts>", "application/xml"),
        (b"id,text,posted_at\n1,x,2014-09-08T10:00:00Z\n", "text/csv"),
        (b'{"id": "1"}', "text/plain"),
    ],
    ids=["xml", "csv", "text"],
)
def test_posts_other_media_types_are_415(feeder, data, content_type):
    response = raw_post(feeder, URL, data, content_type)
    assert response.status_code == 415
    assert "Unsupported media type" in problem(response)


def test_a_utf8_byte_order_mark_is_accepted(feeder, anon, api_key):
    body = b"\xef\xbb\xbf" + json.dumps(good("bom")).encode()
    assert raw_post(feeder, URL, body).status_code == 201
    assert Post.objects.get(external_id="bom").text == GOOD["text"]
    request = {"service_code": "lighting", "lat": 43.6045, "long": 1.444, "description": "Lampadaire éteint"}
    body = b"\xef\xbb\xbf" + json.dumps(request).encode()
    assert raw_post(anon, f"/open311/v2/requests.json?api_key={api_key}", body).status_code == 201


# --- One bad item in a batch: the others are stored, the bad one is reported -------------

BAD_ITEMS = {
    # coordinates
    "lon-out-of-range": ({"lon": 181.0, "lat": 43.6}, "lon 181.0 is outside -180..180"),
    "lat-out-of-range": ({"lon": 1.44, "lat": 91}, "lat 91.0 is outside -90..90"),
    "lat-string": ({"lon": 1.44, "lat": "quarante-trois"}, "lat: 'quarante-trois' is not a number"),
    "lon-nan-string": ({"lon": "NaN", "lat": 43.6}, "lon: 'NaN' is not a finite number"),
    "lat-infinity-string": ({"lon": 1.44, "lat": "-Infinity"}, "lat: '-Infinity' is not a finite number"),
    "null-island": ({"lon": 0, "lat": 0}, "coordinates 0,0 are not a real position"),
    # Float noise around zeros (found by schemathesis; such points crashed a nearest-neighbour probe)
    "near-null-island": ({"lon": -1.2e-38, "lat": -4.1e-13}, "coordinates 0,0 are not a real position"),
    "only-lon": ({"lon": 1.44}, "give both lon and lat, or neither"),
    "lon-boolean": ({"lon": True, "lat": 43.6}, "lon: True is not a number"),
    "lon-list": ({"lon": [1.44], "lat": {"v": 43.6}}, "is not a number"),
    "bbox-nan": ({"place_bbox": [1.4, 43.5, "nan", 43.7]}, "place_bbox: 'nan' is not a finite number"),
    "bbox-reversed": ({"place_bbox": [1.5, 43.7, 1.4, 43.5]}, "is not a WGS84 box"),
    # dates
    "date-missing": ({"posted_at": None}, "posted_at is missing"),
    "date-unparseable": ({"posted_at": "demain matin"}, "posted_at: 'demain matin' is not a date-time"),
    "date-impossible": ({"posted_at": "2014-02-30T10:00:00Z"}, "is not a date-time"),
    "date-far-future": ({"posted_at": "2999-01-01T00:00:00Z"}, "is in the future"),
    "date-year-zero": ({"posted_at": "0000-01-01T00:00:00Z"}, "is not a date-time"),
    "date-no-utc-equivalent": ({"posted_at": "0001-01-01T00:00:00+14:00"}, "is out of range"),
    "date-epoch-overflow": ({"posted_at": 1e20}, "is not a plausible epoch time"),
    "date-boolean": ({"posted_at": True}, "posted_at: True is not a date-time"),
    # text and ids
    "text-empty": ({"text": "   "}, "text is missing or empty"),
    "text-object": ({"text": {"fr": "nid de poule"}}, "text: expected text, got dict"),
    "id-too-long": ({"id": "x" * 300}, "id is 300 characters long; at most 255"),
    "id-missing": ({"id": None}, "id is missing or empty"),
    "count-negative": ({"like_count": -3}, "like_count: -3 is not a count"),
    "source-sql": ({"source": "api'; DROP TABLE incidents_post;--"}, "is not a valid source name"),
}


@pytest.mark.parametrize(("fields", "reason"), list(BAD_ITEMS.values()), ids=list(BAD_ITEMS))
def test_posts_batch_with_one_bad_item(feeder, fields, reason):
    bad = {**good("bad"), **fields}
    response = feeder.post(URL, [good("before"), bad, good("after")], format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["created"], body["rejected"]) == (2, 1)
    statuses = [item["status"] for item in body["items"]]
    assert statuses == ["created", "rejected", "created"]
    assert reason in body["items"][1]["reason"]
    assert set(Post.objects.values_list("external_id", flat=True)) == {"before", "after"}


def test_a_lone_surrogate_escape_is_dropped(feeder):
    # Valid JSON ("\\ud83d" escaped), but not storable as UTF-8: the half character goes, the post stays.
    body = json.dumps([good("half", text="nid \ud83d de poule")], ensure_ascii=True).encode()
    assert raw_post(feeder, URL, body).status_code == 201
    assert Post.objects.get(external_id="half").text == "nid  de poule"


def test_a_batch_item_that_is_not_an_object(feeder):
    response = feeder.post(URL, [good("a"), 42, None, good("b")], format="json")
    body = response.json()
    assert [item["status"] for item in body["items"]] == ["created", "rejected", "rejected", "created"]
    assert body["items"][1]["reason"] == "expected an object with the post columns, got int"
    assert Post.objects.count() == 2


ODD_BUT_VALID = {
    "naive-date": (
        {"posted_at": "2014-09-08T10:00:00"},
        lambda p: p.posted_at.isoformat() == "2014-09-08T08:00:00+00:00",
    ),
    "text-10k": ({"text": "Nid de poule " + "é" * 10_000}, lambda p: len(p.text) == 10_013),
    "emoji-rtl": (
        {"text": "حفرة في الطريق 🚧🕳️ rue de Metz ‏שלום"},
        lambda p: p.text == "حفرة في الطريق 🚧🕳️ rue de Metz ‏שלום",
    ),
    "nul-and-controls": ({"text": "nid\x00 de\x07 poule"}, lambda p: p.text == "nid de poule"),
    "script-payload": ({"text": f"Nid de poule {SCRIPT} {IMG}"}, lambda p: p.text == f"Nid de poule {SCRIPT} {IMG}"),
    "numeric-id": ({"id": 12.0}, lambda p: p.external_id == "12"),
    "decimal-comma-string": ({"lon": "1,444", "lat": "43,6045"}, None),
}


@pytest.mark.parametrize(("fields", "check"), list(ODD_BUT_VALID.values()), ids=list(ODD_BUT_VALID))
def test_posts_odd_but_valid_items_are_stored_verbatim(feeder, fields, check):
    response = feeder.post(URL, [{**good("odd"), **fields}], format="json")
    item = response.json()["items"][0]
    if check is None:
        # JSON carries numbers: a decimal comma in a JSON string is refused, saying which field.
        assert item["status"] == "rejected"
        assert item["reason"] == "lon: '1,444' is not a number"
        return
    assert response.status_code == 201, item
    assert check(Post.objects.get(pk=item["id"]))


def test_swapped_coordinates_are_stored_out_of_area_and_join_no_incident(feeder, make_district):
    make_district("31555", "Toulouse", (1.35, 43.53, 1.52, 43.67))
    set_service_area_from_districts()
    response = feeder.post(URL, [good("swapped", lon=43.6045, lat=1.444), good("right", lon=1.444, lat=43.6045)],
                           format="json")  # fmt: skip
    assert response.status_code == 201
    swapped = Post.objects.get(external_id="swapped")
    assert (swapped.state, swapped.incident_id) == ("out_of_area", None)
    assert Post.objects.get(external_id="right").state != "out_of_area"


def test_script_payloads_are_inert_in_the_api(feeder, anon):
    feeder.post(URL, [good("xss", text=f"Nid de poule {SCRIPT} {IMG}", lon=1.444, lat=43.6045)], format="json")
    incident = Incident.objects.get()
    response = anon.get(f"/api/incidents/{incident.pk}/")
    assert response["Content-Type"] == "application/geo+json"
    assert response["X-Content-Type-Options"] == "nosniff"
    (post,) = json.loads(response.content)["properties"]["posts"]
    assert post["text"] == f"Nid de poule {SCRIPT} {IMG}"  # data, as posted; never rendered as HTML here
    # The HTML list of incidents shows the text escaped.
    html = anon.get("/list/", {"as_of": "2014-09-08"}).content.decode()
    assert "&lt;script&gt;alert(" in html
    assert SCRIPT not in html
    assert "<img src=x" not in html


# --- Open311 POST -----------------------------------------------------------------------

REQUEST = {"service_code": "road_surface_pothole", "lat": 43.6045, "long": 1.444, "description": "Nid de poule"}
BAD_REQUESTS = {
    "lat-out-of-range": ({"lat": 91}, "lat:"),
    "long-out-of-range": ({"long": -181}, "long:"),
    "lat-string": ({"lat": "quarante-trois"}, "lat: A valid number is required."),
    "lat-nan": ({"lat": "NaN"}, "lat:"),
    "long-infinity": ({"long": "Infinity"}, "long:"),
    "null-island": ({"lat": 0, "long": 0}, "lat: lat 0, long 0 is not a real position"),
    "near-null-island": ({"lat": 3e-9, "long": -1e-12}, "lat: lat 0, long 0 is not a real position"),
    "lat-missing": ({"lat": None}, "lat:"),
    "service-code-sql": ({"service_code": "' OR 1=1--"}, "service_code:"),
    "service-code-missing": ({"service_code": ""}, "service_code:"),
    "description-10k": ({"description": "x" * 10_000}, "description: Ensure this field has no more than 4000"),
    "description-nul": ({"description": "a\x00b"}, "description: Null characters are not allowed."),
    "email-invalid": ({"email": "not-an-e-mail"}, "email:"),
    "media-url-javascript": ({"media_url": "javascript:alert(1)"}, "media_url:"),
}


@pytest.mark.parametrize("encoding", ["json", "form"])
@pytest.mark.parametrize(("change", "message"), list(BAD_REQUESTS.values()), ids=list(BAD_REQUESTS))
def test_open311_bad_requests(anon, api_key, change, message, encoding):
    data = {key: value for key, value in {**REQUEST, **change}.items() if value is not None}
    url = f"/open311/v2/requests.json?api_key={api_key}"
    response = anon.post(url, data, format="json") if encoding == "json" else anon.post(url, data)
    assert response.status_code == 400
    descriptions = " ".join(error["description"] for error in response.json())
    assert message in descriptions
    assert not Post.objects.exists()


def test_open311_swapped_coordinates_inside_a_service_area(anon, api_key, make_district):
    make_district("31555", "Toulouse", (1.35, 43.53, 1.52, 43.67))
    set_service_area_from_districts()
    url = f"/open311/v2/requests.json?api_key={api_key}"
    response = anon.post(url, {**REQUEST, "lat": 1.444, "long": 43.6045}, format="json")
    assert response.status_code == 400
    assert "look swapped" in response.json()[0]["description"]
    assert anon.post(url, REQUEST, format="json").status_code == 201


def test_open311_form_in_latin_1_is_stored_without_error(anon, api_key):
    body = f"api_key={api_key}&service_code=lighting&lat=43.6045&long=1.444&description=Lampadaire cass\xe9"
    response = anon.post("/open311/v2/requests.json", data=body.encode("latin-1"),
                         content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert response.status_code == 201
    # Form bodies that are not UTF-8 are read as Latin-1 (Django's QueryDict fallback).
    assert Post.objects.get(source="open311").text == "Lampadaire cassé"


def test_open311_text_payloads_stored_verbatim(anon, api_key):
    text = f"حفرة 🚧 {SCRIPT} {IMG}"
    response = anon.post(f"/open311/v2/requests.json?api_key={api_key}", {**REQUEST, "description": text},
                         format="json")  # fmt: skip
    assert response.status_code == 201
    assert Post.objects.get(source="open311").text == text


# --- Read filters: SQL-looking and hostile values ------------------------------------------

HOSTILE_FILTERS = [
    ("/api/incidents/", {"category": "' OR 1=1--"}),
    ("/api/incidents/", {"status": "new' OR '1'='1"}),
    ("/api/incidents/", {"bbox": "1,2,3,4);DROP TABLE incidents_incident;--"}),
    ("/api/incidents/", {"bbox": "1e400,43,2,44"}),
    ("/api/incidents/", {"bbox": "1.4,43.5,1.5,43.7 OR 1=1"}),
    ("/api/incidents/", {"ordering": "id;DROP TABLE incidents_incident"}),
    ("/api/incidents/", {"ordering": "(SELECT 1)"}),
    ("/api/incidents/", {"near": "1.44,43.6", "radius": "1 OR 1=1"}),
    ("/api/incidents/", {"near": "1.44,43.6'--", "radius": "10"}),
    ("/api/incidents/", {"datetime": "2014-09-08' OR '1'='1"}),
    ("/api/incidents/", {"datetime": "9999-12-31T23:59:59-14:00"}),
    ("/api/incidents/", {"limit": "1;DROP TABLE incidents_incident"}),
    ("/api/incidents/", {"offset": "1e9999"}),
    ("/api/incidents/", {"segment": "1 OR 1=1"}),
    ("/api/incidents/", {"category": "lighting\x00"}),
    ("/api/incidents/", {"format": "csv' OR 1=1"}),
    ("/api/works-zones/", {"active_on": "2014-09-01' OR 1=1--"}),
    ("/api/street-segments/", {"bbox": "NaN,NaN,NaN,NaN"}),
    ("/api/incidents/clusters/", {"bbox": "1.3,43.5,1.6,43.7", "zoom": "12;DROP"}),
    ("/api/incidents/clusters/", {"bbox": "1.3,43.5,1.6,43.7", "zoom": "99"}),
    ("/api/works-impact/", {"datetime": "' OR 1=1--"}),
    ("/api/triage/metrics/", {"category": "' OR 1=1--"}),
    ("/ogc/collections/incidents/items", {"bbox": "1,2,3,4) OR (1=1"}),
    ("/ogc/collections/incidents/items", {"datetime": "' OR 1=1--"}),
    ("/ogc/collections/incidents/items", {"limit": "-1"}),
    ("/open311/v2/requests.json", {"service_code": "' OR 1=1--"}),
    ("/open311/v2/requests.json", {"service_request_id": "1 OR 1=1"}),
    ("/open311/v2/requests.json", {"start_date": "'; DROP TABLE incidents_post;--"}),
]


@pytest.mark.parametrize(("path", "params"), HOSTILE_FILTERS, ids=[f"{p} {q}" for p, q in HOSTILE_FILTERS])
def test_hostile_filter_values_answer_400(anon, make_incident, path, params, settings):
    settings.INCIDENTS_API_ANON_RATE = None
    make_incident()
    response = anon.get(path, params)
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].split(";")[0] in ("application/json", "application/geo+json")
    assert json.loads(response.content)
    # The tables are still there and untouched.
    assert Incident.objects.count() == 1


@pytest.mark.parametrize(
    "params",
    [{"works_zone": str(2**63 - 1)}, {"segment": str(2**63 - 1)}],
    ids=["zone", "segment"],
)
def test_ids_beyond_any_row_answer_empty(anon, make_incident, params):
    # Larger than the documented maximum (2**63 - 1) is a 400: tests/reliability/test_schemathesis.py.
    make_incident()
    response = anon.get("/api/incidents/", params)
    assert response.status_code == 200
    assert json.loads(response.content)["total"] == 0


@pytest.mark.parametrize(
    "path",
    [
        "/api/incidents/1%20OR%201=1/",
        "/api/incidents/-1/",
        "/api/incidents/99999999999999999999999/",
        "/ogc/collections/incidents'%20OR%201=1--/items",
        "/ogc/collections/incidents/items/1;DROP",
        "/open311/v2/requests/1%20OR%201=1.json",
        "/open311/v2/tokens/%00.json",
        "/api/works-zones/1'--/impact/",
    ],
)
def test_hostile_ids_answer_404(anon, make_incident, path):
    make_incident()
    response = anon.get(path)
    assert response.status_code == 404
    assert Incident.objects.count() == 1


@pytest.mark.parametrize(
    ("path", "params"),
    [("/", {"category": "' OR 1=1--"}), ("/list/", {"bbox": "1,2,3,4);DROP"}), ("/list/", {"page": "-1 OR 1"}),
     ("/map/streets/", {"bbox": "' OR 1=1", "zoom": "x"}), ("/", {"as_of": "2014-13-45"})],
)  # fmt: skip
def test_hostile_values_on_the_web_pages_never_500(anon, path, params):
    response = anon.get(path, params)
    assert response.status_code in (200, 400)
