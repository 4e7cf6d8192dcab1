"""
GeoJSON over HTTP: our bbox list against a default GeoFeatureModelSerializer list view and
against the bare SQL that builds the same FeatureCollection, measured in the same run.

    .venv/bin/python bench/generate_incidents.py --count 1000000 --replace   # once
    .venv/bin/python bench/bench_geojson.py

Targets (issue 5): ≥ 20× the requests/s of the serializer view, and a latency within
1.5× of the bare SQL. Both servers run one synchronous gunicorn worker on 127.0.0.1;
requests are sequential, each on a new connection.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, setup_django, summary, timed
from bench.servers import django_env, get, gunicorn

PORT = 18081
FEATURES = 1000

BARE_SQL = """
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(f.feature), '[]'::json))::text
FROM (
    SELECT json_build_object(
        'type', 'Feature', 'id', i.id,
        'geometry', ST_AsGeoJSON(i.location, 6, 0)::json,
        'properties', json_build_object(
            'category', i.category, 'status', i.status, 'first_post_at', i.first_post_at,
            'last_post_at', i.last_post_at, 'post_count', i.post_count, 'engagement', i.engagement,
            'priority', i.priority, 'segment', i.segment_id,
            'segment_name', (SELECT s.name FROM incidents_streetsegment s WHERE s.id = i.segment_id),
            'segment_distance_m', i.segment_distance_m, 'district', i.district_id,
            'near_works', coalesce(
                (SELECT true FROM incidents_incidentworkszone w WHERE w.incident_id = i.id LIMIT 1), false),
            'duplicate_of', i.duplicate_of_id, 'updated_at', i.updated_at
        )
    ) AS feature
    FROM incidents_incident i
    WHERE i.location && ST_MakeEnvelope(%s, %s, %s, %s, 4326)
    ORDER BY i.last_post_at DESC, i.id
    LIMIT %s
) AS f
"""


def bbox_with(count: int) -> tuple[float, float, float, float]:
    """A box around the city centre holding slightly more than ``count`` incidents."""
    from incidents.models import Incident

    lon, lat, half = 1.4440, 43.6045, 0.0005
    while True:
        box = (lon - half, lat - half, lon + half, lat + half)
        if Incident.objects.in_bbox(*box).count() >= count:
            return box
        half *= 1.25


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=40, help="timed requests per variant")
    args = parser.parse_args()
    setup_django()
    from django.db import connection

    from incidents.models import Incident

    total = Incident.objects.count()
    box = bbox_with(FEATURES)
    in_box = Incident.objects.in_bbox(*box).count()
    bbox = ",".join(f"{v:.6f}" for v in box)
    print(f"{total:,} incidents; bbox {bbox} holds {in_box:,}; each answer has {FEATURES} features")

    ours_path = f"/api/incidents/?bbox={bbox}&limit={FEATURES}"
    default_path = f"/bench/default-incidents/?bbox={bbox}&limit={FEATURES}"
    tuned_path = f"/bench/tuned-incidents/?bbox={bbox}&limit={FEATURES}"
    env = django_env(DJANGO_SETTINGS_MODULE="bench.settings")
    with gunicorn("cityincidents.wsgi", PORT, python=Path(sys.executable), env=env, ready_path="/api/",
                  log=ROOT / "bench" / "out" / "gunicorn-geojson.log"):  # fmt: skip
        for path in (ours_path, default_path, tuned_path):
            status, payload = get(PORT, path)
            features = json.loads(payload)["features"]
            assert status == 200, (path, status, payload[:200])
            assert len(features) == FEATURES, (path, len(features))
        print("over HTTP:")
        ours = summary("ours  GET /api/incidents/?bbox&limit=1000", timed(lambda: get(PORT, ours_path), args.repeat))
        few = max(5, args.repeat // 4)
        default = summary("default GeoFeatureModelSerializer view", timed(lambda: get(PORT, default_path), few))
        tuned = summary("tuned GeoFeatureModelSerializer view", timed(lambda: get(PORT, tuned_path), few))

    def bare_sql():
        with connection.cursor() as cursor:
            cursor.execute(BARE_SQL, [*box, FEATURES])
            return cursor.fetchone()[0]

    assert len(json.loads(bare_sql())["features"]) == FEATURES
    print("in process (no HTTP):")
    bare = summary("bare SQL building the FeatureCollection", timed(bare_sql, args.repeat))

    speedup = ours["rps"] / default["rps"]
    overhead = ours["median_ms"] / bare["median_ms"]
    verdict = {True: "OK", False: "MISSED"}
    print(f"ratio requests/s ours / default view:    {speedup:6.1f}×   (target ≥ 20×)  {verdict[speedup >= 20]}")
    print(f"ratio requests/s ours / tuned view:      {ours['rps'] / tuned['rps']:6.1f}×   (for information)")
    print(f"ratio latency ours (HTTP) / bare SQL:    {overhead:6.2f}×   (target ≤ 1.5×) {verdict[overhead <= 1.5]}")


if __name__ == "__main__":
    main()
