"""QGIS 3.22 headless (Debian's python3-qgis) opens every OGC collection and the vector tiles of a live server."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from incidents.publish.layers import COLLECTIONS
from tests.clients.conftest import need

pytestmark = [pytest.mark.clients, pytest.mark.slow]

SCRIPT = Path(__file__).with_name("qgis_script.py")
# PyQGIS is built for Debian's Python, not the virtualenv's.
SYSTEM_PYTHON = "/usr/bin/python3"


def test_qgis_opens_every_collection_with_one_geometry_type_and_the_vector_tiles(demo, live_server, tmp_path):
    need(SYSTEM_PYTHON)
    # One QGIS process for everything: its start-up is the slow part.
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(tmp_path), "HOME": str(tmp_path)}
    result = subprocess.run(
        [SYSTEM_PYTHON, str(SCRIPT), live_server.url, *COLLECTIONS],
        capture_output=True, text=True, timeout=600, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])

    for name, layer in COLLECTIONS.items():
        opened = seen["collections"][name]
        assert opened["valid"], name
        assert opened["feature_count"] == opened["read"] == demo[name], (name, opened)
        # One geometry type for the layer and all its features: the one the collection announces.
        assert opened["layer_type"] == layer.geometry_types[0], (name, opened)
        assert opened["feature_types"] == [layer.geometry_types[0]], (name, opened)
        assert opened["crs"] == "EPSG:4326"

    tiles = seen["tiles"]
    assert tiles["valid"]
    assert tiles["painted_capitole"] > 100
    assert tiles["painted_empty"] == 0
