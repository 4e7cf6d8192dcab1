"""Street segments a newer file no longer lists are retired: kept for history, not used for new links."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from incidents.locate.gazetteer import get_gazetteer
from incidents.models import Post, StreetSegment
from incidents.pipeline.areas import is_in_service_area
from incidents.pipeline.ingest import ingest
from incidents.services.areas import set_service_area_from_streets
from incidents.sources.columns import row_item
from tests.conftest import paris
from tests.importing import collection, feature, line, run, write_json

pytestmark = pytest.mark.django_db

# Two streets 110 m apart, farther than a post links to (INCIDENTS_SEGMENT_MAX_DISTANCE_M).
METZ = feature({"id": "metz", "name": "RUE DE METZ"}, line((1.4440, 43.6040), (1.4460, 43.6040)))
ALSACE = feature({"id": "alsace", "name": "RUE D'ALSACE-LORRAINE"}, line((1.4440, 43.6050), (1.4460, 43.6050)))


def import_streets(tmp_path, *features, args=()) -> str:
    return run(
        "import_streets", write_json(tmp_path / "streets.geojson", collection(*features)), "--source", "city", *args
    )


def segment(source_id: str) -> StreetSegment:
    return StreetSegment.objects.get(source="city", source_id=source_id)


def ingest_post(id: str, text: str, lon: float | None = None, lat: float | None = None) -> Post:
    row = {"id": id, "text": text, "posted_at": paris(2014, 9, 8, 9).isoformat(), "lon": lon, "lat": lat}
    ingest([row_item(row, position="[0]", source="test")], synchronous=True)
    return Post.objects.get(external_id=id)


class TestRetirement:
    def test_a_newer_file_retires_what_it_no_longer_lists_and_a_later_one_brings_it_back(self, tmp_path):
        import_streets(tmp_path, METZ, ALSACE)
        out = import_streets(tmp_path, ALSACE)
        assert "1 read, 0 created, 0 updated, 1 unchanged, 0 repaired, 0 rejected, 1 retired" in out
        metz = segment("metz")
        assert metz.retired_at is not None
        assert metz.name == "RUE DE METZ"  # kept as it was, for history
        assert list(StreetSegment.objects.current().values_list("source_id", flat=True)) == ["alsace"]
        # The same file again: nothing more to retire, nothing written.
        out = import_streets(tmp_path, ALSACE)
        assert "0 created, 0 updated, 1 unchanged, 0 repaired, 0 rejected in" in out
        assert segment("metz").retired_at == metz.retired_at
        # Listed again: current again.
        out = import_streets(tmp_path, METZ, ALSACE)
        assert "2 read, 0 created, 1 updated, 1 unchanged" in out
        assert segment("metz").retired_at is None

    def test_partial_and_empty_inputs_retire_nothing(self, tmp_path):
        import_streets(tmp_path, METZ, ALSACE)
        out = import_streets(tmp_path, ALSACE, args=["--partial"])
        assert "retired" not in out
        # An Opendatasoft API page holding part of the dataset.
        page = {"total_count": 2, "results": [{**ALSACE["properties"], "geo_shape": ALSACE["geometry"]}]}
        out = run("import_streets", write_json(tmp_path / "page.json", page), "--source", "city")
        assert "a partial answer (1 of 2 records)" in out
        assert "retired" not in out
        # A file without a single street is rather a broken export than a city without streets.
        import_streets(tmp_path)
        assert not StreetSegment.objects.filter(retired_at__isnull=False).exists()

    def test_other_sources_are_left_alone(self, tmp_path):
        import_streets(tmp_path, METZ)
        run("import_streets", write_json(tmp_path / "other.geojson", collection(ALSACE)), "--source", "other")
        assert not StreetSegment.objects.filter(retired_at__isnull=False).exists()


class TestRetiredSegmentsAreKeptForHistoryNotLinked:
    def test_posts_keep_their_links_new_posts_are_not_linked_or_located_on_them(self, tmp_path):
        import_streets(tmp_path, METZ, ALSACE)
        before = ingest_post("before", "Nid de poule ici", 1.4450, 43.6040)
        metz = segment("metz")
        assert before.segment_id == metz.pk
        assert len(get_gazetteer()) == 2
        import_streets(tmp_path, ALSACE)
        before.refresh_from_db()
        assert before.segment_id == metz.pk
        after = ingest_post("after", "Nid de poule ici", 1.4450, 43.6040)
        assert after.segment_id is None  # the only street in reach is retired
        # The locator no longer knows the name: only the current streets are in its gazetteer.
        assert len(get_gazetteer()) == 1
        named = ingest_post("named", "Énorme nid de poule rue de Metz")
        assert named.location is None
        assert ingest_post("alsace", "Énorme nid de poule rue d'Alsace-Lorraine").location is not None

    def test_the_service_area_from_streets_leaves_them_out(self, tmp_path):
        import_streets(tmp_path, METZ, ALSACE)
        import_streets(tmp_path, ALSACE)
        set_service_area_from_streets(buffer_m=30)
        from django.contrib.gis.geos import Point

        assert is_in_service_area(Point(1.4450, 43.6050, srid=4326))
        assert not is_in_service_area(Point(1.4450, 43.6040, srid=4326))

    def test_api_and_map_show_current_segments_unless_asked(self, tmp_path, client):
        import_streets(tmp_path, METZ, ALSACE)
        import_streets(tmp_path, ALSACE)
        metz, alsace = segment("metz"), segment("alsace")

        def ids(**params) -> list[int]:
            body = client.get("/api/street-segments/", params).json()
            return sorted(feature["id"] for feature in body["features"])

        assert ids() == [alsace.pk]
        assert ids(retired="false") == [alsace.pk]
        assert ids(retired="true") == [metz.pk]
        assert ids(retired="all") == sorted([metz.pk, alsace.pk])
        response = client.get("/api/street-segments/", {"retired": "maybe"})
        assert response.status_code == 400
        assert "retired" in response.json()
        # An incident's segment stays reachable by id.
        detail = client.get(f"/api/street-segments/{metz.pk}/").json()
        assert detail["properties"]["retired_at"] is not None
        streets = client.get(reverse("web:streets"), {"bbox": "1.43,43.59,1.46,43.61", "zoom": "16"})
        assert [feature["id"] for feature in json.loads(streets.content)["features"]] == [alsace.pk]
