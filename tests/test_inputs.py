"""The input layer shared by posts and city data: paths, encodings and dates (incidents/inputs.py)."""

from __future__ import annotations

import codecs
import datetime as dt

import pytest

from incidents.inputs import InputError, InputFile, RecordError, input_paths, open_text, parse_datetime
from tests.conftest import PARIS


def paris(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


class TestDates:
    @pytest.mark.parametrize(
        ("value", "options", "expected"),
        [
            ("2014-09-08T10:00:00+02:00", {}, paris(2014, 9, 8, 10, 0)),
            ("2014-09-08T08:00:00Z", {}, paris(2014, 9, 8, 10, 0)),
            # Naive times are the city's (TIME_ZONE).
            ("2014-09-08 10:00", {}, paris(2014, 9, 8, 10, 0)),
            # A day starts at local midnight; as an end it runs to the last instant of that day.
            ("2014-09-08", {}, paris(2014, 9, 8, 0, 0)),
            ("20140908", {"end": True}, paris(2014, 9, 8, 23, 59, 59, 999999)),
            (dt.date(2014, 9, 8), {"end": True}, paris(2014, 9, 8, 23, 59, 59, 999999)),
            ("08/09/2014", {"day_first": True}, paris(2014, 9, 8, 0, 0)),
            ("08/09/2014 18:30", {"day_first": True, "end": True}, paris(2014, 9, 8, 18, 30)),
            # Opendatasoft serves Toulouse's calendar days as UTC midnight.
            ("2026-08-21T00:00:00+00:00", {"utc_midnight_is_a_day": True, "end": True},
             paris(2026, 8, 21, 23, 59, 59, 999999)),
            ("2026-08-21T00:00:00+00:00", {}, dt.datetime(2026, 8, 21, tzinfo=dt.UTC)),
            ("", {}, None),
            (None, {}, None),
        ],
    )  # fmt: skip
    def test_forms_read(self, value, options, expected):
        assert parse_datetime(value, label="date", **options) == expected

    @pytest.mark.parametrize(
        ("value", "options", "message"),
        [
            # French dates only where the caller reads them (not posts' timestamps).
            ("08/09/2014 18:00", {}, "posted_at: '08/09/2014 18:00' is not a date-time; use ISO 8601"),
            ("next monday", {"day_first": True}, "posted_at: 'next monday' is not a date-time; use ISO 8601, e.g."),
            ("20141345", {}, "posted_at: '20141345' is not a date (no such day)"),
            ("31/02/2014", {"day_first": True}, "posted_at: '31/02/2014' is not a date (no such day)"),
            (True, {}, "posted_at: True is not a date-time"),
            ("0001-01-01T00:00:00+14:00", {}, "posted_at: '0001-01-01T00:00:00+14:00' is out of range"),
        ],
    )
    def test_errors_name_the_field_and_the_value(self, value, options, message):
        with pytest.raises(RecordError) as raised:
            parse_datetime(value, label="posted_at", **options)
        assert str(raised.value).startswith(message)


class TestPaths:
    def test_a_folder_gives_its_files_in_name_order_without_hidden_ones(self, tmp_path):
        (tmp_path / "b.json").write_text("{}")
        (tmp_path / "a.geojson").write_text("{}")
        (tmp_path / ".hidden.json").write_text("{}")
        (tmp_path / "notes.txt").write_text("")
        (tmp_path / "sub").mkdir()
        (tmp_path / "sub" / "c.json").write_text("{}")
        names = [p.relative_to(tmp_path).as_posix() for p in input_paths(str(tmp_path), (".json", ".geojson"))]
        assert names == ["a.geojson", "b.json"]
        deep = input_paths(str(tmp_path), (".json",), recursive=True)
        assert [p.relative_to(tmp_path).as_posix() for p in deep] == ["b.json", "sub/c.json"]

    def test_missing_path_and_empty_folder(self, tmp_path):
        with pytest.raises(InputError, match=r"nowhere: no such file or folder\."):
            input_paths(str(tmp_path / "nowhere"), (".json",))
        with pytest.raises(InputError, match=r"the folder holds no \.csv file\."):
            input_paths(str(tmp_path), (".csv",))


class TestEncodings:
    @pytest.mark.parametrize(
        "data",
        [
            "Rue de l'Église\n".encode(),
            codecs.BOM_UTF8 + "Rue de l'Église\n".encode(),
            "Rue de l'Église\n".encode("utf-16"),
            codecs.BOM_UTF16_BE + "Rue de l'Église\n".encode("utf-16-be"),
        ],
        ids=["utf-8", "utf-8-bom", "utf-16-le-bom", "utf-16-be-bom"],
    )
    def test_text_and_whole_inputs_read_the_same(self, tmp_path, data):
        path = tmp_path / "f.txt"
        path.write_bytes(data)
        assert list(open_text(path)) == ["Rue de l'Église\n"]
        assert InputFile("f", data).text() == "Rue de l'Église\n"

    def test_a_named_encoding_for_text_without_a_mark(self, tmp_path):
        path = tmp_path / "f.txt"
        path.write_bytes("Église\n".encode("cp1252"))
        with pytest.raises(InputError, match=r"f\.txt: not UTF-8 text \(byte 0: invalid continuation byte\)"):
            open_text(path)
        assert list(open_text(path, "cp1252")) == ["Église\n"]
        assert InputFile("f", path.read_bytes(), encoding="cp1252").text() == "Église\n"
        with pytest.raises(InputError, match="unknown encoding 'klingon'"):
            open_text(path, "klingon")
