"""OGC API – Features: a real client (OWSLib) against a live server, and OGC's published schemas."""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import jsonschema
import pytest
import requests
import yaml
from django.contrib.gis.geos import LineString
from owslib.ogcapi.features import Features

from tests.api.conftest import body
from tests.conftest import CAPITOLE, offset, paris

OGC_SCHEMAS = Path(__file__).resolve().parent.parent / "data" / "ogcapi-features-1-oas30-schemas.yaml"


def _json_schema(node):
    """OpenAPI 3.0 schema → JSON Schema: ``nullable: true`` becomes an explicit null alternative."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        if isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        else:
            node = {"anyOf": [node, {"type": "null"}]}
    return node


@functools.cache
def ogc_document() -> dict:
    return _json_schema(yaml.safe_load(OGC_SCHEMAS.read_text()))


def assert_valid(instance, component: str) -> None:
    """Validate ``instance`` against OGC's schema ``component``, with its references."""
    schema = copy.deepcopy(ogc_document())
    schema["$ref"] = f"#/components/schemas/{component}"
    jsonschema.Draft7Validator(schema).validate(instance)


@pytest.fixture
def data(make_incident, make_works_zone, make_segment):
    incidents = [
        make_incident(location=offset(CAPITOLE, east_m=10 * i), first_post_at=paris(2014, 9, 1 + i)) for i in range(5)
    ]
    zone = make_works_zone(LineString((1.44, 43.60), (1.45, 43.61), srid=4326), title="<b>Tranchée</b>")
    segment = make_segment()
    return incidents, zone, segment


@pytest.fixture
def ogc(live_server, data, transactional_db) -> Features:
    return Features(f"{live_server.url}/ogc/")


def test_owslib_reads_landing_conformance_and_collections(ogc, live_server):
    assert_valid(ogc.response, "landingPage")
    rels = {link["rel"] for link in ogc.links}
    assert {"self", "alternate", "service-desc", "service-doc", "conformance", "data"} <= rels

    conformance = ogc.conformance()
    assert_valid(conformance, "confClasses")
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conformance["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conformance["conformsTo"]

    assert sorted(ogc.feature_collections()) == [
        "incidents", "street-segments", "works-impact-areas", "works-lines", "works-points", "works-polygons",
    ]  # fmt: skip
    collections = ogc.collections()
    assert_valid(collections, "collections")
    incidents = ogc.collection("incidents")
    assert_valid(incidents, "collection")
    west, south, east, north = incidents["extent"]["spatial"]["bbox"][0]
    assert west <= CAPITOLE.x <= east
    assert south <= CAPITOLE.y <= north
    assert incidents["extent"]["temporal"]["interval"][0][0].startswith("2014-09-01")

    # The service description is our OpenAPI document, with the OGC paths in it.
    assert "/ogc/collections/{collection_id}/items" in ogc.api()["paths"]


def test_owslib_pages_through_items(ogc, data):
    incidents, _zone, _segment = data
    page = ogc.collection_items("incidents", limit=2)
    assert_valid(page, "featureCollectionGeoJSON")
    assert page["numberMatched"] == 5
    assert page["numberReturned"] == 2
    assert page["timeStamp"].endswith("Z")
    assert ogc.response_headers["Content-Type"] == "application/geo+json"

    seen = [feature["id"] for feature in page["features"]]
    while next_link := next((link["href"] for link in page["links"] if link["rel"] == "next"), None):
        page = requests.get(next_link, timeout=10).json()
        assert_valid(page, "featureCollectionGeoJSON")
        seen += [feature["id"] for feature in page["features"]]
    assert sorted(seen) == sorted(incident.pk for incident in incidents)


def test_owslib_bbox_datetime_and_single_items(ogc, data):
    incidents, zone, segment = data
    near = offset(CAPITOLE, east_m=15)
    inside = ogc.collection_items("incidents", bbox=[CAPITOLE.x - 0.0001, CAPITOLE.y - 0.0001, near.x, near.y])
    assert sorted(f["id"] for f in inside["features"]) == sorted([incidents[0].pk, incidents[1].pk])

    september_3 = ogc.collection_items("incidents", datetime_="2014-09-03T10:00:00Z")
    assert [f["id"] for f in september_3["features"]] == [incidents[2].pk]
    later = ogc.collection_items("incidents", datetime_="2014-09-04T00:00:00Z/..")
    assert later["numberMatched"] == 2

    item = ogc.collection_item("works-lines", str(zone.pk))
    assert_valid(item, "featureGeoJSON")
    assert item["geometry"] == {"type": "MultiLineString", "coordinates": [[[1.44, 43.6], [1.45, 43.61]]]}
    assert {link["rel"] for link in item["links"]} >= {"self", "alternate", "collection"}
    street = ogc.collection_item("street-segments", str(segment.pk))
    assert_valid(street, "featureGeoJSON")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/ogc/collections/incidents/items?foo=bar", 400),
        ("/ogc/collections/incidents/items?bbox=1,2,3", 400),
        ("/ogc/collections/incidents/items?limit=0", 400),
        ("/ogc/collections/incidents/items?limit=10001", 400),
        ("/ogc/collections/incidents/items?datetime=tomorrow", 400),
        ("/ogc/collections/incidents/items?f=xml", 400),
        ("/ogc/collections/incidents/items?limit=10000", 200),
        ("/ogc/collections/incidents/items?bbox=1.4,43.5,0,1.5,43.7,10", 200),
        ("/ogc/collections/unknown", 404),
        ("/ogc/collections/unknown/items", 404),
        ("/ogc/collections/incidents/items/123456789", 404),
        ("/ogc/collections/incidents/items/abc", 404),
        ("/ogc/conformance?service=WFS", 400),
    ],
)
def test_errors(client_anon, path, status):
    response = client_anon.get(path)
    assert response.status_code == status
    if status != 200:
        assert_valid(body(response), "exception")


@pytest.mark.django_db
def test_html_pages_escape_what_they_show(client_anon, make_works_zone):
    zone = make_works_zone(title="<script>alert(1)</script>")
    for path in ["/ogc/", "/ogc/conformance", "/ogc/collections", "/ogc/collections/works-points",
                 "/ogc/collections/works-points/items", f"/ogc/collections/works-points/items/{zone.pk}",
                 "/ogc/collections/works-points/queryables", "/ogc/collections/works-points/tiles",
                 "/ogc/collections/works-points/tiles/WebMercatorQuad", "/ogc/tileMatrixSets"]:  # fmt: skip
        response = client_anon.get(path, {"f": "html"})
        assert response.status_code == 200, path
        assert response["Content-Type"].startswith("text/html")
        assert "<script>alert" not in response.content.decode()
    browser = client_anon.get("/ogc/collections", HTTP_ACCEPT="text/html,application/xhtml+xml")
    assert browser["Content-Type"].startswith("text/html")
    assert "&lt;script&gt;" in client_anon.get("/ogc/collections/works-points/items", {"f": "html"}).content.decode()


def test_owslib_reads_queryables_filters_and_other_crs(ogc, data):
    incidents, zone, _segment = data
    queryables = ogc.collection_queryables("incidents")
    assert {"geometry", "category", "status", "first_post_at"} <= set(queryables["properties"])
    before = ogc.collection_items("incidents", filter="first_post_at < TIMESTAMP('2014-09-03T00:00:00Z')")
    assert sorted(f["id"] for f in before["features"]) == sorted(i.pk for i in incidents[:2])
    lambert = ogc.collection_items("works-lines", crs="http://www.opengis.net/def/crs/EPSG/0/2154")
    (line,) = lambert["features"]
    assert line["id"] == zone.pk
    x, y = line["geometry"]["coordinates"][0][0]
    assert 570_000 < x < 580_000
    assert 6_270_000 < y < 6_290_000
    assert ogc.response_headers["Content-Crs"] == "<http://www.opengis.net/def/crs/EPSG/0/2154>"
