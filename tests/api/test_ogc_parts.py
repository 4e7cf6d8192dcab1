"""OGC API beyond Part 1: CRS (Part 2), queryables and CQL2 filters (Part 3), vector tiles, links and errors."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import jsonschema
import pytest
from django.contrib.gis.geos import LineString, MultiPolygon, Point, Polygon

from incidents.models import IncidentWorksZone
from incidents.publish.tiles import tile_bounds
from tests.api.conftest import body
from tests.api.test_ogc import assert_valid
from tests.conftest import CAPITOLE, offset, paris

pytestmark = pytest.mark.django_db

ITEMS = "/ogc/collections/incidents/items"
UTC_10_SEPT = dt.datetime(2014, 9, 10, tzinfo=dt.UTC)
LAMBERT93 = "http://www.opengis.net/def/crs/EPSG/0/2154"
WGS84_LATLON = "http://www.opengis.net/def/crs/EPSG/0/4326"


def ids(response) -> list[int]:
    assert response.status_code == 200, body(response)
    return sorted(feature["id"] for feature in body(response)["features"])


@pytest.fixture
def incidents(make_incident, make_segment, make_works_zone):
    """Incidents of several categories, statuses, days and places, some near works."""
    metz = make_segment("RUE DE METZ")
    alsace = make_segment("RUE D'ALSACE-LORRAINE")
    zone = make_works_zone(CAPITOLE)
    rows = []
    for number in range(12):
        incident = make_incident(
            location=offset(CAPITOLE, east_m=60 * number, north_m=25 * (number % 3)),
            category=["lighting", "road_surface_pothole", "works_obstruction"][number % 3],
            status=["new", "acknowledged", "resolved", "new"][number % 4],
            first_post_at=paris(2014, 9, 1 + number),
            last_post_at=paris(2014, 9, 2 + number),
            post_count=1 + number % 5,
            priority=number / 2,
            segment=metz if number % 2 else alsace,
        )
        if number % 4 == 0:
            IncidentWorksZone.objects.create(incident=incident, works_zone=zone, distance_m=5)
        rows.append(incident)
    return rows


# --- Part 3: a CQL2 filter returns the features of the REST filter it mirrors -------------


@pytest.mark.parametrize(
    ("cql2", "rest"),
    [
        ("category = 'lighting'", {"category": "lighting"}),
        ("category IN ('lighting','works_obstruction') AND status <> 'resolved'",
         {"category": "lighting,works_obstruction", "status": "new,acknowledged"}),
        ("status = 'new' OR status = 'acknowledged'", {"status": "new,acknowledged"}),
        ("S_INTERSECTS(geometry, BBOX(1.4435,43.604,1.449,43.6049))", {"bbox": "1.4435,43.604,1.449,43.6049"}),
        ("S_INTERSECTS(geometry, POLYGON((1.4435 43.604, 1.449 43.604, 1.449 43.6049, 1.4435 43.6049, 1.4435 43.604)))",
         {"bbox": "1.4435,43.604,1.449,43.6049"}),
        ("T_INTERSECTS(INTERVAL(first_post_at, last_post_at), INTERVAL('2014-09-04T00:00:00Z','2014-09-06T00:00:00Z'))",
         {"datetime": "2014-09-04T00:00:00Z/2014-09-06T00:00:00Z"}),
        ("T_INTERSECTS(INTERVAL(first_post_at, last_post_at), INTERVAL('2014-09-08', '..'))",
         {"datetime": "2014-09-08/.."}),
        ("near_works = TRUE", {"near_works": "true"}),
        ("NOT near_works AND segment_name LIKE 'RUE DE M%'", {"near_works": "false", "segment": "{metz}"}),
    ],
)  # fmt: skip
def test_cql2_filter_returns_what_the_rest_filter_returns(client_anon, incidents, cql2, rest):
    metz = next(i.segment_id for i in incidents if i.segment.name == "RUE DE METZ")
    rest = {name: value.format(metz=metz) for name, value in rest.items()}
    expected = ids(client_anon.get("/api/incidents/", {**rest, "limit": 1000}))
    assert expected, "the mirrored REST filter must select something"
    assert len(expected) < len(incidents)
    assert ids(client_anon.get(ITEMS, {"filter": cql2, "limit": 1000})) == expected
    assert ids(client_anon.get(ITEMS, {"filter": cql2, "filter-lang": "cql2-text", "limit": 1000})) == expected


@pytest.mark.parametrize(
    ("cql2", "expected"),
    [
        ("post_count BETWEEN 2 AND 3", lambda i: 2 <= i.post_count <= 3),
        ("NOT (post_count BETWEEN 2 AND 3)", lambda i: not 2 <= i.post_count <= 3),
        ("priority >= 2.5 AND priority < 4", lambda i: 2.5 <= i.priority < 4),
        ("T_AFTER(first_post_at, TIMESTAMP('2014-09-10T00:00:00Z'))", lambda i: i.first_post_at > UTC_10_SEPT),
        ("T_BEFORE(last_post_at, DATE('2014-09-05'))", lambda i: i.last_post_at < paris(2014, 9, 5, 0)),
        ("duplicate_of IS NULL AND segment IS NOT NULL", lambda i: True),
        ("district IS NULL", lambda i: True),
        ('"category" = \'lighting\'', lambda i: i.category == "lighting"),
        ("id = {first}", lambda i: i.pk == i.first),
        ("category LIKE '%pothole'", lambda i: i.category == "road_surface_pothole"),
        ("category NOT IN ('lighting')", lambda i: i.category != "lighting"),
    ],
)  # fmt: skip
def test_cql2_operators(client_anon, incidents, cql2, expected):
    first = incidents[0].pk
    for incident in incidents:
        incident.first = first
    wanted = sorted(incident.pk for incident in incidents if expected(incident))
    assert ids(client_anon.get(ITEMS, {"filter": cql2.format(first=first), "limit": 100})) == wanted


@pytest.mark.parametrize(
    ("cql2", "message"),
    [
        ("colour = 'red'", "Unknown property 'colour'"),
        ("category = 3", "Cannot compare category (string) with 3"),
        ("first_post_at > '2014-09-01'", "TIMESTAMP("),
        ("S_WITHIN(geometry, POINT(1.44 43.6))", "S_WITHIN is not supported"),
        ("S_INTERSECTS(geometry, POLYGON((0 0, 1 1, 1 0, 0 1, 0 0)))", "not a valid geometry"),
        ("S_INTERSECTS(geometry, POINT(1.44))", "not a WKT geometry"),
        ("category = 'lighting' AND", "expected a property"),
        ("category = 'x'; DROP TABLE incidents_incident", "Unexpected character ';'"),
        ("category = 'x' OR 1", "expected a comparison"),
        ("(" * 60 + "near_works" + ")" * 60, "nested too deeply"),
        ("TIMESTAMP('tomorrow') = first_post_at", "not an RFC 3339 date-time"),
        ("S_INTERSECTS(geometry, BBOX(1.4, 43.5, 1.5))", "BBOX takes four numbers"),
    ],
)
def test_cql2_errors_are_400_with_a_message(client_anon, incidents, cql2, message):
    response = client_anon.get(ITEMS, {"filter": cql2})
    assert response.status_code == 400
    assert_valid(body(response), "exception")
    assert message in body(response)["description"]


def test_cql2_literals_never_reach_sql_as_text(client_anon, incidents):
    hostile = "category = 'x'' OR ''1''=''1'"
    assert ids(client_anon.get(ITEMS, {"filter": hostile})) == []
    assert client_anon.get(ITEMS, {"filter": "category = 'lighting'", "filter-lang": "cql2-json"}).status_code == 400


def test_queryables_are_a_json_schema_of_the_published_properties(client_anon):
    response = client_anon.get("/ogc/collections/incidents/queryables")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/schema+json"
    schema = body(response)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["geometry"]["format"] == "geometry-point"
    assert schema["properties"]["category"]["type"] == "string"
    assert "lighting" in schema["properties"]["category"]["enum"]
    assert schema["properties"]["segment"]["type"] == ["integer", "null"]
    assert schema["properties"]["first_post_at"]["format"] == "date-time"
    works = body(client_anon.get("/ogc/collections/works-lines/queryables"))
    assert works["properties"]["geometry"]["format"] == "geometry-multilinestring"
    conformance = body(client_anon.get("/ogc/conformance"))["conformsTo"]
    for part in ["ogcapi-features-3/1.0/conf/filter", "ogcapi-features-3/1.0/conf/queryables",
                 "cql2/1.0/conf/cql2-text",
                 "ogcapi-features-2/1.0/conf/crs", "ogcapi-tiles-1/1.0/conf/mvt"]:  # fmt: skip
        assert f"http://www.opengis.net/spec/{part}" in conformance


# --- Part 2: CRS ----------------------------------------------------------------------------


def test_lambert93_output_lands_on_toulouse(client_anon, make_incident):
    incident = make_incident()
    response = client_anon.get(ITEMS, {"crs": LAMBERT93})
    assert response.status_code == 200
    assert response["Content-Crs"] == f"<{LAMBERT93}>"
    (feature,) = body(response)["features"]
    x, y = feature["geometry"]["coordinates"]
    # The Capitole in Lambert-93: about 574.5 km east, 6,279.8 km north.
    assert 570_000 < x < 580_000
    assert 6_275_000 < y < 6_285_000
    item = client_anon.get(f"{ITEMS}/{incident.pk}", {"crs": "EPSG:2154"})
    assert item["Content-Crs"] == f"<{LAMBERT93}>"
    assert body(item)["geometry"]["coordinates"] == [x, y]
    # EPSG:4326 is latitude first; CRS84 (the default) longitude first.
    latlon = body(client_anon.get(ITEMS, {"crs": WGS84_LATLON}))["features"][0]["geometry"]["coordinates"]
    assert latlon == [round(CAPITOLE.y, 6), round(CAPITOLE.x, 6)]
    assert client_anon.get(ITEMS)["Content-Crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    mercator = body(client_anon.get(ITEMS, {"crs": "http://www.opengis.net/def/crs/EPSG/0/3857"}))
    assert mercator["features"][0]["geometry"]["coordinates"][0] == pytest.approx(160_745, abs=50)


def test_bbox_crs_selects_the_same_features(client_anon, make_incident):
    near = make_incident()
    make_incident(location=offset(CAPITOLE, east_m=2000))
    lambert = body(client_anon.get(ITEMS, {"crs": LAMBERT93}))
    (x, y) = next(f["geometry"]["coordinates"] for f in lambert["features"] if f["id"] == near.pk)
    box = f"{x - 100},{y - 100},{x + 100},{y + 100}"
    assert ids(client_anon.get(ITEMS, {"bbox": box, "bbox-crs": LAMBERT93})) == [near.pk]
    latlon = f"{CAPITOLE.y - 0.001},{CAPITOLE.x - 0.001},{CAPITOLE.y + 0.001},{CAPITOLE.x + 0.001}"
    assert ids(client_anon.get(ITEMS, {"bbox": latlon, "bbox-crs": WGS84_LATLON})) == [near.pk]
    corners = [(x - 100, y - 100), (x + 100, y - 100), (x + 100, y + 100), (x - 100, y + 100), (x - 100, y - 100)]
    polygon = "POLYGON((" + ",".join(f"{a} {b}" for a, b in corners) + "))"
    assert ids(client_anon.get(ITEMS, {"filter": f"S_INTERSECTS(geometry,{polygon})", "filter-crs": "EPSG:2154"})) == [
        near.pk
    ]


@pytest.mark.parametrize(
    "query",
    [{"crs": "EPSG:27572"}, {"crs": "http://www.opengis.net/def/crs/EPSG/0/999999"}, {"bbox-crs": "EPSG:1"},
     {"bbox": "570000,6270000,580000", "bbox-crs": "EPSG:2154"}, {"filter-crs": "nonsense", "filter": "id = 1"}],
)  # fmt: skip
def test_unsupported_crs_is_a_400(client_anon, query):
    response = client_anon.get(ITEMS, query)
    assert response.status_code == 400
    assert_valid(body(response), "exception")


def test_collections_list_their_crs(client_anon, settings):
    from incidents.publish import crs

    settings.INCIDENTS_OGC_EXTRA_CRS = ["EPSG:25831"]
    crs.supported.cache_clear()
    try:
        collection = body(client_anon.get("/ogc/collections/incidents"))
        assert collection["storageCrs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
        assert collection["crs"][:4] == [
            "http://www.opengis.net/def/crs/OGC/1.3/CRS84", WGS84_LATLON, LAMBERT93,
            "http://www.opengis.net/def/crs/EPSG/0/3857",
        ]  # fmt: skip
        assert "http://www.opengis.net/def/crs/EPSG/0/25831" in collection["crs"]
        assert client_anon.get(ITEMS, {"crs": "EPSG:25831"}).status_code == 200
    finally:
        crs.supported.cache_clear()


# --- Works zones: one geometry type per layer -----------------------------------------------


def test_works_zones_are_split_by_geometry_type_in_ogc_and_rest(client_anon, make_works_zone):
    point = make_works_zone(CAPITOLE, road_names=["RUE DE METZ", "RUE D'ALSACE-LORRAINE"])
    line = make_works_zone(LineString((1.44, 43.60), (1.45, 43.61), srid=4326))
    area = make_works_zone(Polygon.from_bbox((1.44, 43.60, 1.441, 43.601)))
    multi = make_works_zone(MultiPolygon(Polygon.from_bbox((1.45, 43.60, 1.451, 43.601)), srid=4326))
    expected = {
        "works-points": ([point.pk], "MultiPoint"),
        "works-lines": ([line.pk], "MultiLineString"),
        "works-polygons": (sorted([area.pk, multi.pk]), "MultiPolygon"),
        "works-impact-areas": (sorted([point.pk, line.pk, area.pk, multi.pk]), "MultiPolygon"),
    }
    for name, (wanted, kind) in expected.items():
        for url in (f"/ogc/collections/{name}/items", f"/api/{name}/"):
            collection = body(client_anon.get(url))
            assert sorted(f["id"] for f in collection["features"]) == wanted, url
            assert {f["geometry"]["type"] for f in collection["features"]} == {kind}, url
        assert body(client_anon.get(f"/ogc/collections/{name}/queryables"))["properties"]["geometry"]["format"] == (
            f"geometry-{kind.lower()}"
        )
    # The mixed layer stays in the REST API (the map and the impact pages use it), not in OGC.
    assert len(body(client_anon.get("/api/works-zones/"))["features"]) == 4
    assert client_anon.get("/ogc/collections/works-zones").status_code == 404
    # GIS layers hold no lists (Shapefile cannot): the street names are one text there.
    (gis,) = body(client_anon.get("/ogc/collections/works-points/items"))["features"]
    assert gis["properties"]["road_names"] == "RUE DE METZ; RUE D'ALSACE-LORRAINE"
    rest = body(client_anon.get(f"/api/works-zones/{point.pk}/"))
    assert rest["properties"]["road_names"] == ["RUE DE METZ", "RUE D'ALSACE-LORRAINE"]
    # Filters work on the split layers as on the works zones.
    assert ids(client_anon.get("/api/works-lines/", {"bbox": "1.449,43.609,1.451,43.611"})) == [line.pk]


# --- Links -----------------------------------------------------------------------------------


def test_items_link_has_no_query_and_self_keeps_the_query(client_anon, make_incident):
    incident = make_incident()
    collection = body(client_anon.get("/ogc/collections/incidents"))
    items = next(link for link in collection["links"] if link["rel"] == "items" and "geo+json" in link["type"])
    assert "?" not in items["href"]
    assert client_anon.get(f"{items['href']}/{incident.pk}").status_code == 200
    page = body(client_anon.get(ITEMS, {"bbox": "1.4,43.5,1.5,43.7", "limit": 5, "crs": LAMBERT93}))
    self_link = next(link["href"] for link in page["links"] if link["rel"] == "self")
    for part in ["bbox=1.4%2C43.5%2C1.5%2C43.7", "limit=5", "crs=http", "f=json"]:
        assert part in self_link
    landing = body(client_anon.get("/ogc/"))
    service_desc = next(link for link in landing["links"] if link["rel"] == "service-desc")
    response = client_anon.get(service_desc["href"])
    assert response["Content-Type"] == service_desc["type"] == "application/vnd.oai.openapi+json;version=3.0"


# --- Vector tiles ----------------------------------------------------------------------------

TILE = "/ogc/collections/{collection}/tiles/WebMercatorQuad/12/1495/2064"


def decode_tile(content: bytes, tmp_path: Path, z: int = 12, x: int = 2064, y: int = 1495) -> str:
    """``ogrinfo`` on a tile (GDAL's MVT driver), georeferenced by its z/x/y."""
    path = tmp_path / "tile.mvt"
    path.write_bytes(content)
    result = subprocess.run(
        ["ogrinfo", "-ro", "-al", "-oo", f"Z={z}", "-oo", f"X={x}", "-oo", f"Y={y}", f"MVT:{path}"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "ERROR" not in result.stderr, result.stderr
    return result.stdout


def test_a_z12_tile_over_toulouse_decodes_with_gdal(client_anon, incidents, tmp_path):
    response = client_anon.get(TILE.format(collection="incidents"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    decoded = decode_tile(response.content, tmp_path)
    assert "Layer name: incidents" in decoded
    # Incidents sharing a cell of 4×4 pixels are one feature; its count says how many.
    counts = [int(n) for n in re.findall(r"^  count \(Integer(?:64)?\) = (\d+)$", decoded, re.M)]
    assert sum(counts) == len(incidents)
    assert 1 < len(counts) < len(incidents)
    assert "category (String) = lighting" in decoded
    assert "first_post_at (String) = 2014-09-01T10:00:00Z" in decoded
    # Points are placed in Web Mercator, on the Capitole.
    assert "POINT (160" in decoded


def test_tiles_are_validated_by_etag_and_empty_away_from_the_data(client_anon, incidents, make_incident):
    url = TILE.format(collection="incidents")
    first = client_anon.get(url)
    etag = first["ETag"]
    assert client_anon.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    make_incident(location=offset(CAPITOLE, east_m=30))
    changed = client_anon.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    far = client_anon.get("/ogc/collections/incidents/tiles/WebMercatorQuad/12/0/0")
    assert far.status_code == 200
    assert far.content == b""


def test_every_collection_has_tiles(client_anon, make_works_zone, make_segment, tmp_path):
    make_works_zone(CAPITOLE)
    make_works_zone(LineString((1.44, 43.60), (1.45, 43.61), srid=4326))
    make_segment()
    for collection, kind in [("works-points", "Point"), ("works-lines", "Line String"),
                             ("works-impact-areas", "Polygon"), ("street-segments", "Line String")]:  # fmt: skip
        response = client_anon.get(TILE.format(collection=collection))
        assert response.status_code == 200, collection
        decoded = decode_tile(response.content, tmp_path)
        assert f"Layer name: {collection}" in decoded
        assert f"Geometry: {kind}" in decoded or f"Geometry: Multi {kind}" in decoded


def test_tileset_and_tile_matrix_set_metadata(client_anon):
    tilesets = body(client_anon.get("/ogc/collections/incidents/tiles"))
    (tileset,) = tilesets["tilesets"]
    assert tileset["dataType"] == "vector"
    assert tileset["tileMatrixSetURI"] == "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
    metadata = body(client_anon.get("/ogc/collections/incidents/tiles/WebMercatorQuad"))
    template = next(link for link in metadata["links"] if link["rel"] == "item")
    assert template["href"].endswith(
        "/ogc/collections/incidents/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}"
    )
    assert template["type"] == "application/vnd.mapbox-vector-tile"
    assert metadata["layers"][0]["geometryDimension"] == 0
    tms = body(client_anon.get("/ogc/tileMatrixSets/WebMercatorQuad"))
    assert tms["crs"] == "http://www.opengis.net/def/crs/EPSG/0/3857"
    assert tms["tileMatrices"][12]["matrixWidth"] == 4096
    assert tms["tileMatrices"][0]["scaleDenominator"] == pytest.approx(559082264.03, rel=1e-9)
    collection = body(client_anon.get("/ogc/collections/incidents"))
    assert any(link["rel"].endswith("tilesets-vector") for link in collection["links"])


@pytest.mark.parametrize(
    "path",
    ["/ogc/collections/incidents/tiles/WebMercatorQuad/12/4096/0",
     "/ogc/collections/incidents/tiles/WebMercatorQuad/23/0/0", "/ogc/collections/incidents/tiles/WorldCRS84Quad/1/0/0",
     "/ogc/collections/incidents/tiles/WebMercatorQuad/a/0/0", "/ogc/collections/nope/tiles/WebMercatorQuad/0/0/0",
     "/ogc/tileMatrixSets/Nope"],
)  # fmt: skip
def test_tiles_that_do_not_exist_are_ogc_404s(client_anon, path):
    response = client_anon.get(path)
    assert response.status_code == 404
    assert_valid(body(response), "exception")


# --- Errors and language ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "key"),
    [("/api/nothing-here/", "detail"), ("/api/incidents/1/nothing/", "detail"), ("/ogc/nothing", "code"),
     ("/ogc/collections/incidents/items/1/more", "code")],
)  # fmt: skip
def test_unknown_urls_under_the_apis_are_json_404s(client_anon, path, key):
    response = client_anon.get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert key in body(response)


def test_rest_errors_are_labelled_json_whatever_the_format(client_anon):
    for query in ({"bbox": "nope"}, {"bbox": "nope", "format": "csv"}, {"bbox": "nope", "format": "geojson"}):
        response = client_anon.get("/api/incidents/", query)
        assert response.status_code == 400
        assert response["Content-Type"] == "application/json; charset=utf-8"
        assert "bbox" in body(response)


def test_the_language_follows_accept_language(client_anon):
    french = client_anon.get("/ogc/collections", HTTP_ACCEPT_LANGUAGE="fr")
    titles = {c["id"]: c["title"] for c in body(french)["collections"]}
    assert titles["street-segments"] == "Tronçons de rue"
    assert titles["works-points"] == "Chantiers : points"
    english = body(client_anon.get("/ogc/collections", HTTP_ACCEPT_LANGUAGE="en"))["collections"]
    assert {c["id"]: c["title"] for c in english}["street-segments"] == "Street segments"
    error = body(client_anon.get(ITEMS, {"filter": "colour = 1"}, HTTP_ACCEPT_LANGUAGE="fr"))
    assert "Propriété inconnue" in error["description"]
    queryables = body(client_anon.get("/ogc/collections/incidents/queryables", HTTP_ACCEPT_LANGUAGE="fr"))
    assert queryables["properties"]["post_count"]["title"] == "Nombre de publications à son sujet."
    assert body(client_anon.get("/api/nothing/", HTTP_ACCEPT_LANGUAGE="fr"))["detail"].startswith("Rien ici")
    services = body(client_anon.get("/open311/v2/services.json", HTTP_ACCEPT_LANGUAGE="en"))
    assert services[0]["service_name"] == "Works obstruction"
    # The OpenAPI document is written in English, whatever the caller's language.
    schema = body(client_anon.get("/api/schema/", {"format": "json"}, HTTP_ACCEPT_LANGUAGE="fr"))
    assert schema["paths"]["/api/incidents/"]["get"]["description"].startswith("Problems in public space")


def test_openapi_document_passes_openapi_spec_validator(client_anon):
    from openapi_spec_validator import validate

    response = client_anon.get("/api/schema/", {"format": "json"})
    assert response["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    validate(body(response))


def test_point_literal_in_a_filter(client_anon, make_incident):
    incident = make_incident(location=Point(1.5, 43.6, srid=4326))
    make_incident()
    assert ids(client_anon.get(ITEMS, {"filter": "S_INTERSECTS(geometry, POINT(1.5 43.6))"})) == [incident.pk]


def test_from_zoom_15_every_point_is_a_feature(client_anon, incidents, tmp_path):
    import math

    z, middle = 17, incidents[5].location
    x = int((middle.x + 180) / 360 * 2**z)
    lat = math.radians(middle.y)
    y = int((1 - math.log(math.tan(lat) + 1 / math.cos(lat)) / math.pi) / 2 * 2**z)
    response = client_anon.get(f"/ogc/collections/incidents/tiles/WebMercatorQuad/{z}/{y}/{x}")
    decoded = decode_tile(response.content, tmp_path, z=z, x=x, y=y)
    assert "  count (" not in decoded
    west, south, east, north = tile_bounds(z, x, y, margin=0)  # GDAL drops what lies in the margin
    inside = [i for i in incidents if west <= i.location.x <= east and south <= i.location.y <= north]
    assert len(inside) > 1
    assert decoded.count("OGRFeature(incidents)") == len(inside)
