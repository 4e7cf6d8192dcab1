"""
OGC API – Features items: ours against pygeoapi serving the same PostGIS table, side by side.

    .venv/bin/python bench/generate_incidents.py --count 1000000 --replace   # once
    bench/setup_pygeoapi.sh                                                   # once
    .venv/bin/python bench/bench_ogc.py

Both servers run one synchronous gunicorn worker on 127.0.0.1 and answer the same
``/collections/incidents/items?bbox=…&limit=N`` (GeoJSON) for N = 10 and 1000; requests
are sequential, each on a new connection. Target (issue 5): ≥ 3× pygeoapi's requests/s.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_geojson import bbox_with
from bench.common import ROOT, setup_django, summary, timed
from bench.servers import django_env, get, gunicorn

OURS_PORT, PYGEOAPI_PORT = 18084, 18082
VENV = ROOT / "bench" / ".pygeoapi-venv"
OUT = ROOT / "bench" / "out"


def pygeoapi_config(database: dict) -> dict:
    return {
        "server": {
            "bind": {"host": "127.0.0.1", "port": PYGEOAPI_PORT},
            "url": f"http://127.0.0.1:{PYGEOAPI_PORT}",
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "language": "en-US",
            "limits": {"default_items": 10, "max_items": 10000},
            "map": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "attribution": "OpenStreetMap"},
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {
                "title": "bench",
                "description": "bench",
                "keywords": ["bench"],
                "url": "http://x",
                "terms_of_service": "http://x",
            },
            "license": {"name": "ODbL", "url": "https://opendatacommons.org/licenses/odbl/"},
            "provider": {"name": "bench"},
            "contact": {"name": "bench", "url": "http://x"},
        },
        "resources": {
            "incidents": {
                "type": "collection",
                "title": "Incidents",
                "description": "The incidents table of the benchmark database.",
                "keywords": ["incidents"],
                "links": [],
                "extents": {
                    "spatial": {
                        "bbox": [1.35, 43.55, 1.52, 43.67],
                        "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                    }
                },
                "providers": [
                    {
                        "type": "feature",
                        "name": "PostgreSQL",
                        "data": {
                            "host": database["HOST"],
                            "port": int(database.get("PORT") or 5432),
                            "dbname": database["NAME"],
                            "user": database["USER"],
                            "search_path": ["public"],
                        },
                        "id_field": "id",
                        "table": "incidents_incident",
                        "geom_field": "location",
                    }
                ],
            }
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    if not (VENV / "bin" / "pygeoapi").exists():
        sys.exit("pygeoapi is not installed: run bench/setup_pygeoapi.sh first")
    setup_django()
    from django.db import connection

    from incidents.models import Incident

    version = subprocess.run(
        [str(VENV / "bin" / "python"), "-c", "import pygeoapi; print(pygeoapi.__version__)"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    OUT.mkdir(parents=True, exist_ok=True)
    config, openapi = OUT / "pygeoapi.config.yml", OUT / "pygeoapi.openapi.yml"
    config.write_text(yaml.safe_dump(pygeoapi_config(connection.settings_dict)))
    subprocess.run([str(VENV / "bin" / "pygeoapi"), "openapi", "generate", str(config), "--output-file", str(openapi)],
                   check=True, capture_output=True)  # fmt: skip

    box = bbox_with(1000)
    bbox = ",".join(f"{v:.6f}" for v in box)
    print(f"{Incident.objects.count():,} incidents; bbox {bbox}; pygeoapi {version}")
    results = {}
    pygeoapi_env = {"PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    with (
        gunicorn("cityincidents.wsgi", OURS_PORT, python=Path(sys.executable), env=django_env(), ready_path="/ogc/",
                 log=OUT / "gunicorn-ogc-ours.log"),
        gunicorn("pygeoapi.flask_app:APP", PYGEOAPI_PORT, python=VENV / "bin" / "python", env=pygeoapi_env,
                 ready_path="/", log=OUT / "gunicorn-ogc-pygeoapi.log"),
    ):  # fmt: skip
        for limit in (10, 1000):
            query = f"/collections/incidents/items?bbox={bbox}&limit={limit}&f=json"
            for port, prefix in ((OURS_PORT, "/ogc"), (PYGEOAPI_PORT, "")):
                status, payload = get(port, prefix + query)
                assert status == 200, (port, status, payload[:300])
                assert len(json.loads(payload)["features"]) == limit, (port, limit)
            print(f"items, limit={limit}:")
            ours = summary(
                "ours     /ogc/collections/incidents/items",
                timed(lambda q=query: get(OURS_PORT, "/ogc" + q), args.repeat),
            )
            theirs = summary(
                f"pygeoapi {version} same query", timed(lambda q=query: get(PYGEOAPI_PORT, q), args.repeat)
            )
            results[limit] = ours["rps"] / theirs["rps"]
    for limit, ratio in results.items():
        print(f"ratio requests/s ours / pygeoapi (limit={limit:4d}): {ratio:5.1f}×  (target ≥ 3×) "
              f"{'OK' if ratio >= 3 else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    main()
