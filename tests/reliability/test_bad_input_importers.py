"""
Bad input for ``import_streets`` and ``import_works`` beyond tests/test_import_bad_input.py:
encodings, empty and hostile files, coordinates, geometries, dates and text that used to
fail the whole import (a traceback) now refuse the file with a reason or reject the record.
"""

from __future__ import annotations

import codecs
import datetime as dt
import json

import pytest
from django.core.management.base import CommandError

from incidents.models import StreetSegment, WorksZone
from tests.importing import collection, feature, line, run, write_json

pytestmark = pytest.mark.django_db

GOOD = line((1.444, 43.604), (1.446, 43.605))
SQUARE = {"type": "Polygon", "coordinates": [[[1.44, 43.6], [1.45, 43.6], [1.45, 43.61], [1.44, 43.6]]]}
BOWTIE = [[1.440, 43.600], [1.442, 43.602], [1.442, 43.600], [1.440, 43.602], [1.440, 43.600]]


def streets(tmp_path, *features) -> str:
    return run("import_streets", write_json(tmp_path / "s.geojson", collection(*features)), "--source", "test")


def works(tmp_path, *features) -> str:
    return run("import_works", write_json(tmp_path / "w.geojson", collection(*features)), "--source", "test")


def street_doc(name: str = "Rue de l'Église") -> str:
    return json.dumps(collection(feature({"id": 1, "name": name}, GOOD)), ensure_ascii=False)


# --- Whole files ------------------------------------------------------------------------------

LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE osm [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    b'<osm version="0.6"><node id="1" lat="43.6" lon="1.44"><tag k="name" v="&c;"/></node></osm>'
)
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE osm [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<osm version="0.6"><node id="1" lat="43.6" lon="1.44"><tag k="name" v="&x;"/></node></osm>'
)
OSM_LATIN_1 = (
    '<?xml version="1.0"?><osm version="0.6"><node id="1" lat="43.6" lon="1.44"><tag k="name" v="Église"/></node></osm>'
).encode("latin-1")
OSM_NAN = b'<?xml version="1.0"?><osm version="0.6"><node id="1" lat="NaN" lon="1.44"/></osm>'
PBF_CUT = b"\x00\x00\x00\x0d\x0a\x09OSMHeader\x18\x00\x00"
BROKEN_UTF8 = street_doc().encode()[:60] + b"\xff\xfe" + street_doc().encode()[60:]

REFUSED = {
    "empty-file": ("s.geojson", b"", r"s\.geojson: the file is empty\."),
    "blank-file": ("s.geojson", b"\n  \n", r"the file is empty"),
    "latin-1-geojson": (
        "s.geojson",
        street_doc().encode("latin-1"),
        r"s\.geojson: not UTF-8 text \(byte \d+: invalid continuation byte\); .* --encoding cp1252",
    ),
    "invalid-utf-8": ("s.geojson", BROKEN_UTF8, r"not UTF-8 text"),
    "truncated-geojson": ("s.geojson", street_doc().encode()[:-20], r"malformed JSON at line 1"),
    "deeply-nested-json": ("s.geojson", b"[" * 100_000 + b"]" * 100_000, r"nested too deeply"),
    "osm-entity-expansion": ("s.osm", LAUGHS, r"XML entities are not supported"),
    "osm-external-entity": ("s.osm", XXE, r"XML entities are not supported"),
    "osm-latin-1": ("s.osm", OSM_LATIN_1, r"XML parsing error"),
    "osm-nan-coordinate": ("s.osm", OSM_NAN, r"not a readable OpenStreetMap XML file \(wrong format for coordinate"),
    "truncated-pbf": ("s.osm.pbf", PBF_CUT, r"not a readable OpenStreetMap PBF"),
}


@pytest.mark.parametrize(("name", "data", "message"), list(REFUSED.values()), ids=list(REFUSED))
def test_unreadable_street_files_are_refused(tmp_path, name, data, message):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(CommandError, match=message):
        run("import_streets", path, "--source", "test")
    assert not StreetSegment.objects.exists()


@pytest.mark.parametrize("command", ["import_streets", "import_works"])
def test_a_utf8_byte_order_mark_is_dropped(tmp_path, command):
    document = street_doc() if command == "import_streets" else json.dumps(
        collection(feature({"id": "w1", "start": "2024-03-01"}, SQUARE))
    )  # fmt: skip
    path = tmp_path / "bom.geojson"
    path.write_bytes(b"\xef\xbb\xbf" + document.encode())
    out = run(command, path, "--source", "test")
    assert "1 created" in out


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf16_with_a_byte_order_mark_is_read(tmp_path, encoding):
    path = tmp_path / "unicode.geojson"
    path.write_bytes((codecs.BOM_UTF16_BE if encoding == "utf-16-be" else b"") + street_doc().encode(encoding))
    assert "1 created" in run("import_streets", path, "--source", "test")
    assert StreetSegment.objects.get().name == "Rue de l'Église"


def test_latin_1_geojson_with_the_encoding_option(tmp_path):
    path = tmp_path / "s.geojson"
    path.write_bytes(street_doc().encode("latin-1"))
    assert "1 created" in run("import_streets", path, "--source", "test", "--encoding", "cp1252")
    assert StreetSegment.objects.get().name == "Rue de l'Église"
    with pytest.raises(CommandError, match=r"unknown encoding 'klingon'"):
        run("import_streets", path, "--source", "test", "--encoding", "klingon")


def test_empty_works_file(tmp_path):
    path = tmp_path / "w.json"
    path.write_bytes(b"")
    with pytest.raises(CommandError, match=r"w\.json: the file is empty\."):
        run("import_works", path)


# --- Coordinates and geometries ------------------------------------------------------------


def test_nan_and_infinity_positions_are_rejected(tmp_path):
    path = tmp_path / "s.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": ['
        '{"type": "Feature", "properties": {"id": 1, "name": "A"}, "geometry": '
        '{"type": "LineString", "coordinates": [[NaN, 43.6], [1.45, 43.6]]}},'
        '{"type": "Feature", "properties": {"id": 2, "name": "B"}, "geometry": '
        '{"type": "LineString", "coordinates": [[1.44, 43.6], [1.45, Infinity]]}},'
        '{"type": "Feature", "properties": {"id": 3, "name": "C"}, "geometry": '
        '{"type": "LineString", "coordinates": [[1.44, 43.6], [1.45, 43.6]]}}]}'
    )
    out = run("import_streets", path, "--source", "test")
    assert "3 read, 1 created" in out
    assert "2 rejected" in out
    assert list(StreetSegment.objects.values_list("source_id", flat=True)) == ["3"]


GEOMETRY_REJECTIONS = {
    "geometry-collection": ({"type": "GeometryCollection", "geometries": [GOOD]}, "unsupported geometry type"),
    "wkt-string": ("LINESTRING(1.44 43.6, 1.45 43.6)", "geometry is not a GeoJSON geometry object"),
    "positions-nested-too-deep": ({"type": "LineString", "coordinates": [[[1.44, 43.6]], [[1.45, 43.6]]]},
                                  "malformed position"),
    "single-position-line": ({"type": "LineString", "coordinates": [[1.44, 43.6]]}, "needs at least 2"),
    "empty-multiline": ({"type": "MultiLineString", "coordinates": [[]]}, "at least 2 positions"),
    "unknown-type": ({"type": "Circle", "coordinates": [1.44, 43.6], "radius": 5}, "unsupported geometry type"),
    "string-positions": ({"type": "LineString", "coordinates": "1.44,43.6,1.45,43.6"}, "a line needs at least 2"),
    "boolean-position": ({"type": "LineString", "coordinates": [[True, 43.6], [1.45, 43.6]]}, "is not two numbers"),
}  # fmt: skip


@pytest.mark.parametrize(("geometry", "reason"), list(GEOMETRY_REJECTIONS.values()), ids=list(GEOMETRY_REJECTIONS))
def test_bad_street_geometries_are_rejected_alone(tmp_path, geometry, reason):
    out = streets(tmp_path, feature({"id": 1, "name": "A"}, geometry), feature({"id": 2, "name": "B"}, GOOD))
    assert "features[0] (id 1): " in out
    assert reason in out
    assert "2 read, 1 created" in out
    assert list(StreetSegment.objects.values_list("source_id", flat=True)) == ["2"]


def test_3d_coordinates_are_stored_in_2d(tmp_path):
    out = streets(tmp_path, feature({"id": 1, "name": "A"}, line((1.444, 43.604, 150.0), (1.446, 43.605, 151.5))))
    assert "1 created" in out
    segment = StreetSegment.objects.get()
    assert not segment.geom.hasz
    assert segment.geom.coords == (((1.444, 43.604), (1.446, 43.605)),)


def test_3d_self_intersecting_works_polygon_is_repaired_and_counted(tmp_path):
    bowtie = {"type": "Polygon", "coordinates": [[[x, y, 5.0] for x, y in BOWTIE]]}
    flat = {"type": "Polygon", "coordinates": [[[1.44, 43.6], [1.45, 43.6], [1.46, 43.6], [1.44, 43.6]]]}
    out = works(
        tmp_path,
        feature({"id": "bowtie", "start": "2024-03-01"}, bowtie),
        feature({"id": "flat", "start": "2024-03-01"}, flat),
        feature({"id": "empty", "start": "2024-03-01"}, {"type": "MultiPolygon", "coordinates": [[]]}),
        feature({"id": "ok", "start": "2024-03-01"}, SQUARE),
    )
    assert "features[2] (id empty): empty geometry" in out
    assert "4 read, 3 created, 0 updated, 0 unchanged, 2 repaired, 1 rejected" in out
    for zone in WorksZone.objects.all():
        assert zone.geom.valid
        assert not zone.geom.hasz


def test_null_island_street_is_kept_without_a_service_area(tmp_path):
    # Without a service area nothing says (0, 0) is wrong: the segment is stored where it says it is.
    out = streets(tmp_path, feature({"id": 1, "name": "A"}, line((0.0, 0.0), (0.001, 0.001))))
    assert "1 created" in out


# --- Dates and text ------------------------------------------------------------------------


def test_dates_without_a_utc_equivalent_are_rejected_alone(tmp_path):
    out = works(
        tmp_path,
        feature({"id": "y1", "start": "0001-01-01T00:00:00+14:00"}, SQUARE),
        feature({"id": "y9999", "start": "2024-03-01", "end": "9999-12-31T23:59:59-12:00"}, SQUARE),
        feature({"id": "day1", "start": "0001-01-01"}, SQUARE),
        feature({"id": "ok", "start": "2024-03-01"}, SQUARE),
    )
    assert "features[0] (id y1): start date: '0001-01-01T00:00:00+14:00' is out of range" in out
    assert "features[1] (id y9999): end date: '9999-12-31T23:59:59-12:00' is out of range" in out
    assert "features[2] (id day1): start date: '0001-01-01' is out of range" in out
    assert list(WorksZone.objects.values_list("source_id", flat=True)) == ["ok"]


def test_naive_and_far_future_works_dates(tmp_path):
    works(
        tmp_path,
        feature({"id": "naive", "start": "2024-03-01T08:00:00"}, SQUARE),
        feature({"id": "far", "start": "2999-03-01", "end": "9999-12-31"}, SQUARE),
    )
    naive = WorksZone.objects.get(source_id="naive")
    assert naive.starts_at == dt.datetime(2024, 3, 1, 7, 0, tzinfo=dt.UTC)  # the city's local time
    far = WorksZone.objects.get(source_id="far")
    # Planned far ahead (or an open-ended "9999-12-31" sentinel): kept as published, not active now.
    assert far.starts_at.year == 2999
    assert far.status_at(dt.datetime(2026, 1, 1, tzinfo=dt.UTC)) == "planned"


UNSTORABLE = {
    "nul-in-name": ({"id": 1, "name": "Rue\x00 de Metz"}, "Rue de Metz"),
    "control-characters": ({"id": 1, "name": "Rue\x07 de\x1b Metz"}, "Rue de Metz"),
    "lone-surrogate": ({"id": 1, "name": "Rue \ud83d de Metz"}, "Rue  de Metz"),
    "nan-and-nul-in-properties": ({"id": 1, "name": "Rue de Metz", "x": float("nan"), "note": "a\x00b"}, "Rue de Metz"),
}


@pytest.mark.parametrize(("properties", "stored"), list(UNSTORABLE.values()), ids=list(UNSTORABLE))
def test_text_postgresql_refuses_is_cleaned_not_fatal(tmp_path, properties, stored):
    # These used to fail the whole COPY (DataError): one bad character lost every street of the file.
    out = streets(tmp_path, feature(properties, GOOD), feature({"id": 2, "name": "Rue B"}, GOOD))
    assert "2 read, 2 created" in out
    assert StreetSegment.objects.get(source_id="1").name == stored


def test_long_emoji_rtl_and_markup_names_are_stored_verbatim(tmp_path):
    names = {
        "1": "Rue " + "x" * 10_000,
        "2": "شارع الجمهورية 🚧",
        "3": 'Rue <script>alert("x")</script><img src=x onerror=alert(1)>',
    }
    streets(tmp_path, *(feature({"id": int(key), "name": name}, GOOD) for key, name in names.items()))
    stored = dict(StreetSegment.objects.values_list("source_id", "name"))
    assert stored["2"] == names["2"]
    assert stored["3"] == names["3"]
    # Longer than the column (255): cut, and marked as cut, rather than failing the import.
    assert stored["1"] == names["1"][:254] + "…"
