"""GDAL (Debian's gdal-bin) against a live server: the OAPIF driver on every collection, the MVT driver on a tile."""

from __future__ import annotations

import re
import subprocess

import pytest
import requests

from tests.clients.conftest import need

pytestmark = [pytest.mark.clients, pytest.mark.slow]

GEOMETRY = {
    "incidents": "Point",
    "works-points": "Multi Point",
    "works-lines": "Multi Line String",
    "works-polygons": "Multi Polygon",
    "works-impact-areas": "Multi Polygon",
    "street-segments": "Multi Line String",
}


def gdal(*args: str, timeout: int = 300) -> str:
    """Run a GDAL program; it must succeed and print no error (warnings are GDAL's own remarks)."""
    result = subprocess.run([need(args[0]), *args[1:]], capture_output=True, text=True, timeout=timeout, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "ERROR" not in output, output
    return output


def layers(ogrinfo_output: str) -> dict[str, dict]:
    """``Layer name``, ``Geometry`` and ``Feature Count`` of each layer in an ``ogrinfo -so -al`` output."""
    found = {}
    for block in ogrinfo_output.split("Layer name: ")[1:]:
        name = block.splitlines()[0].strip()
        geometry = re.search(r"^Geometry: (.+)$", block, re.M)
        count = re.search(r"^Feature Count: (\d+)$", block, re.M)
        found[name] = {"geometry": geometry and geometry.group(1), "count": count and int(count.group(1))}
    return found


def test_ogr2ogr_copies_every_feature_of_every_collection(demo, live_server, tmp_path):
    source = f"OAPIF:{live_server.url}/ogc/"
    listing = gdal("ogrinfo", "-ro", "-so", source)
    for name, geometry in GEOMETRY.items():
        assert re.search(rf"^\d+: {re.escape(name)} \(title: .+\) \({geometry}\)$", listing, re.M), listing

    copy = tmp_path / "copy.gpkg"
    gdal("ogr2ogr", "-f", "GPKG", str(copy), source)
    copied = layers(gdal("ogrinfo", "-ro", "-so", "-al", str(copy)))
    assert {name: layer["count"] for name, layer in copied.items()} == demo
    assert {name: layer["geometry"] for name, layer in copied.items()} == GEOMETRY

    # Shapefile takes one geometry type per file and no lists: the works layers export without error.
    shapes = tmp_path / "shapes"
    gdal("ogr2ogr", "-f", "ESRI Shapefile", str(shapes), source, "works-lines", "works-polygons")
    assert {path.name for path in shapes.glob("*.shp")} == {"works-lines.shp", "works-polygons.shp"}


def test_ogrinfo_single_feature_and_filters(demo, live_server):
    source = f"OAPIF:{live_server.url}/ogc/"
    incident = requests.get(f"{live_server.url}/api/incidents/", params={"limit": 1}, timeout=60).json()["features"][0]
    single = gdal("ogrinfo", "-ro", source, "incidents", "-fid", str(incident["id"]))
    assert f"OGRFeature(incidents):{incident['id']}" in single
    assert f"category (String) = {incident['properties']['category']}" in single

    # A spatial and an attribute filter: GDAL reads the OpenAPI document (it checks its media type) and counts.
    rest = requests.get(
        f"{live_server.url}/api/incidents/", params={"category": "lighting", "bbox": "1.4,43.58,1.48,43.63"}, timeout=60
    ).json()
    filtered = gdal(
        "ogrinfo", "-ro", "-so", source, "incidents", "-where", "category = 'lighting'",
        "-spat", "1.4", "43.58", "1.48", "43.63",
    )  # fmt: skip
    assert f"Feature Count: {rest['total']}" in filtered


def test_mvt_driver_decodes_a_z12_tile_over_toulouse(demo, live_server, tmp_path):
    url = f"{live_server.url}/ogc/collections/incidents/tiles/WebMercatorQuad/12/1495/2064"
    response = requests.get(url, timeout=60)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/vnd.mapbox-vector-tile"
    # GDAL reads a tile's position from z/x/y in its path; the OGC template is z/row/col, so it is given.
    tile = tmp_path / "2064.mvt"
    tile.write_bytes(response.content)
    decoded = gdal("ogrinfo", "-ro", "-al", "-oo", "Z=12", "-oo", "X=2064", "-oo", "Y=1495", str(tile))
    (layer,) = layers(decoded).values()
    assert layer["geometry"] == "Point"
    assert layer["count"] > 10
    assert "category (String) =" in decoded
    assert "POINT (160" in decoded  # Web Mercator metres, over the Capitole
