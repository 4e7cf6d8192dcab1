"""Bad input never half-imports silently: every record is accounted for, every refusal says why."""

from __future__ import annotations

import pytest
from django.core.management.base import CommandError

from incidents.models import District, StreetSegment, WorksZone
from incidents.services.areas import set_service_area_from_districts
from tests.importing import SENS, collection, feature, line, load, run, write_json

pytestmark = pytest.mark.django_db

GOOD = line((1.444, 43.604), (1.446, 43.605))


def streets(tmp_path, *features, name="streets.geojson", args=()) -> str:
    return run("import_streets", write_json(tmp_path / name, collection(*features)), "--source", "test", *args)


def works(tmp_path, *features) -> str:
    return run("import_works", write_json(tmp_path / "works.geojson", collection(*features)), "--source", "test")


class TestWholeInputRefused:
    def test_malformed_json_says_where(self, tmp_path):
        path = tmp_path / "broken.geojson"
        path.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature",')
        with pytest.raises(
            CommandError, match=r"broken.geojson: malformed JSON at line 1, column 63: Expecting property name"
        ):
            run("import_streets", path)

    def test_malformed_osm_xml(self, tmp_path):
        path = tmp_path / "cut.osm"
        path.write_text('<?xml version="1.0"?>\n<osm version="0.6"><node id="1" lat="43.6" lon="1.4"/><way id="5">')
        with pytest.raises(CommandError, match=r"cut.osm: not a readable OpenStreetMap XML file \(XML parsing error"):
            run("import_streets", path)

    def test_unknown_content(self, tmp_path):
        path = tmp_path / "streets.csv"
        path.write_text("id;name\n1;Rue de Metz\n")
        with pytest.raises(CommandError, match=r"cannot tell the format from the content; give --format"):
            run("import_streets", path)

    def test_json_that_is_not_features(self, tmp_path):
        path = write_json(tmp_path / "odd.json", {"hello": "world"})
        with pytest.raises(CommandError, match=r"neither GeoJSON .* nor an Opendatasoft records export"):
            run("import_streets", path)

    def test_missing_file(self, tmp_path):
        with pytest.raises(CommandError, match=r"nowhere\.geojson: no such file or folder"):
            run("import_streets", tmp_path / "nowhere.geojson")

    def test_bad_map_option(self, tmp_path):
        path = write_json(tmp_path / "x.geojson", collection())
        with pytest.raises(CommandError, match=r"--map 'colour=COULEUR': unknown field 'colour'; fields are: "):
            run("import_streets", path, "--map", "colour=COULEUR")
        with pytest.raises(CommandError, match=r"write FIELD=PROPERTY"):
            run("import_streets", path, "--map", "name")

    def test_bad_as_of(self, tmp_path):
        with pytest.raises(CommandError, match=r"--as-of: 'yesterday' is not a date-time; use ISO 8601"):
            run("import_works", write_json(tmp_path / "w.geojson", collection()), "--as-of", "yesterday")

    def test_nothing_stored_is_lost_when_an_input_is_refused(self, tmp_path):
        document = load(SENS)
        document["features"] = document["features"][:5]
        run("import_streets", write_json(tmp_path / "ok.geojson", document))
        broken = tmp_path / "folder"
        broken.mkdir()
        write_json(broken / "a.geojson", document)
        (broken / "b.geojson").write_text("{not json")
        with pytest.raises(CommandError, match=r"b.geojson: malformed JSON"):
            run("import_streets", broken, "--source", "toulouse")
        # The whole folder was refused before anything was written.
        assert StreetSegment.objects.filter(source="toulouse").count() == 5


class TestRecordsRejectedWithPositionAndReason:
    def test_missing_and_empty_geometry(self, tmp_path):
        out = streets(
            tmp_path,
            feature({"id": 1, "name": "Rue A"}, None),
            feature({"id": 2, "name": "Rue B"}, {"type": "LineString", "coordinates": []}),
            feature({"id": 3, "name": "Rue C"}, GOOD),
        )
        assert "rejected " in out
        assert "streets.geojson: features[0] (id 1): missing geometry" in out
        assert "streets.geojson: features[1] (id 2): empty geometry" in out
        assert "3 read, 1 created, 0 updated, 0 unchanged, 0 repaired, 2 rejected" in out

    def test_wrong_geometry_type_for_streets(self, tmp_path):
        out = streets(tmp_path, feature({"id": 1, "name": "Place"}, {"type": "Point", "coordinates": [1.44, 43.6]}))
        assert "features[0] (id 1): Point geometry where a line is expected" in out

    def test_out_of_range_and_swapped_coordinates(self, tmp_path):
        out = streets(
            tmp_path,
            feature({"id": 1, "name": "Rue A"}, line((200.0, 43.6), (1.44, 43.6))),
            feature({"id": 2, "name": "Rue B"}, line((41.59, -93.72), (41.60, -93.71))),
            feature({"id": 3, "name": "Rue C"}, line(("1.44", 43.6), (1.45, 43.6))),
        )
        assert "features[0] (id 1): coordinates (200.0, 43.6) are outside the WGS84 longitude/latitude range" in out
        assert (
            "features[1] (id 2): coordinates (41.59, -93.72) look swapped: GeoJSON positions are longitude, latitude"
            in out
        )
        assert "features[2] (id 3): position ['1.44', 43.6] is not two numbers" in out
        assert "3 rejected" in out

    def test_swapped_coordinates_found_through_the_service_area(self, tmp_path, make_district):
        make_district("31555", "Toulouse", (1.35, 43.53, 1.52, 43.67))
        set_service_area_from_districts()
        out = streets(
            tmp_path,
            feature({"id": 1, "name": "Rue A"}, line((43.604, 1.444), (43.605, 1.446))),
            feature({"id": 2, "name": "Rue B"}, GOOD),
        )
        assert "features[0] (id 1): coordinates look swapped (latitude, longitude)" in out
        assert "2 read, 1 created, 0 updated, 0 unchanged, 0 repaired, 1 rejected" in out

    def test_self_intersecting_polygon_is_repaired_and_counted(self, tmp_path):
        bowtie = {
            "type": "Polygon",
            "coordinates": [[[1.440, 43.600], [1.442, 43.602], [1.442, 43.600], [1.440, 43.602], [1.440, 43.600]]],
        }
        out = works(tmp_path, feature({"id": "w1", "start": "2024-03-01"}, bowtie))
        assert "1 created, 0 updated, 0 unchanged, 1 repaired, 0 rejected" in out
        repaired = WorksZone.objects.get(source="test", source_id="w1")
        assert repaired.geom.valid
        assert repaired.geom.geom_type == "MultiPolygon"

    def test_degenerate_line_is_rejected_after_repair(self, tmp_path):
        out = streets(tmp_path, feature({"id": 1, "name": "Rue A"}, line((1.44, 43.6), (1.44, 43.6))))
        assert "features[0] (id 1): no line left once the invalid geometry is repaired (degenerate geometry)" in out

    def test_unclosed_polygon_ring(self, tmp_path):
        ring = {"type": "Polygon", "coordinates": [[[1.44, 43.6], [1.45, 43.6], [1.45, 43.61], [1.44, 43.61]]]}
        out = works(tmp_path, feature({"id": "w1", "start": "2024-03-01"}, ring))
        assert "a polygon ring is not closed (its last position must repeat the first)" in out

    def test_unreadable_and_inconsistent_dates(self, tmp_path):
        out = works(
            tmp_path,
            feature({"id": "a", "start": "next monday"}, GOOD),
            feature({"id": "b", "start": "20141345"}, GOOD),
            feature({"id": "c", "start": "2024-03-10", "end": "2024-03-01"}, GOOD),
            feature({"id": "d"}, GOOD),
        )
        assert "features[0] (id a): start date: 'next monday' is not a date-time; use ISO 8601" in out
        assert "features[1] (id b): start date: '20141345' is not a date (no such day)" in out
        assert "features[2] (id c): ends (2024-03-01T23:59:59.999999+01:00) before it starts" in out
        assert "features[3] (id d): no start date (looked in 'start' or 'start_date' or 'starts_at'" in out
        assert "4 rejected" in out

    def test_missing_id_or_name_suggests_map(self, tmp_path):
        out = streets(tmp_path, feature({"NOM": "Rue A"}, GOOD))
        assert "features[0]: no id (looked in 'id'; choose another with --map id=PROPERTY)" in out

    def test_duplicate_district_codes(self, tmp_path):
        from incidents.importers import import_districts
        from incidents.inputs import read_paths

        square = {"type": "Polygon", "coordinates": [[[1.4, 43.6], [1.41, 43.6], [1.41, 43.61], [1.4, 43.6]]]}
        path = write_json(
            tmp_path / "d.geojson",
            collection(feature({"code": "1", "name": "A"}, square), feature({"code": "1", "name": "B"}, square)),
        )
        result = import_districts(read_paths([str(path)]))
        assert [str(r) for r in result.rejections] == [f"{path}: features[1]: same id as {path}: features[0]"]
        assert District.objects.get(code="1").name == "A"

    def test_osm_way_with_missing_node(self, tmp_path):
        path = tmp_path / "partial.osm"
        path.write_text(
            '<?xml version="1.0"?><osm version="0.6"><node id="1" lat="43.6" lon="1.4"/>'
            '<way id="5"><nd ref="1"/><nd ref="3"/><tag k="highway" v="residential"/><tag k="name" v="Rue X"/></way>'
            "</osm>"
        )
        out = run("import_streets", path)
        assert "partial.osm: way 5: node 3 is missing from the extract" in out

    def test_good_records_of_a_mixed_file_are_imported(self, tmp_path):
        streets(tmp_path, feature({"id": 9, "name": "Rue Z"}, GOOD), name="before.geojson")
        out = streets(tmp_path, feature({"id": 1, "name": "Rue A"}, None), feature({"id": 2, "name": "Rue B"}, GOOD))
        assert "2 read, 1 created, 0 updated, 0 unchanged, 0 repaired, 1 rejected" in out
        assert set(StreetSegment.objects.filter(source="test").values_list("source_id", flat=True)) == {"2", "9"}
