"""
Bad files given to ``manage.py ingest_posts``: the whole file is refused with a message
that says how to fix it, or each bad record is reported with its line and the good ones
are stored. Never a traceback.
"""

from __future__ import annotations

import codecs
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from incidents.models import Post

pytestmark = pytest.mark.django_db

HEADER = "id,text,posted_at,lon,lat\n"
ROW = "{id},Nid de poule rue de Metz,2014-09-08T10:00:00+02:00,1.444,43.6045\n"
LINE = {"text": "Nid de poule rue de Metz", "posted_at": "2014-09-08T10:00:00+02:00"}


def jsonl(id: str, **fields) -> str:
    return json.dumps({"id": id, **LINE, **fields}, ensure_ascii=False) + "\n"


def ingest(path, *args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("ingest_posts", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def stored() -> set[str]:
    return set(Post.objects.values_list("external_id", flat=True))


# --- Whole files refused, with how to fix them -------------------------------------------

REFUSED = {
    "truncated-json-document": ("feed.json", b'{"data": [{"id": "1", "text": "x"', r"invalid JSON: .* at line 1"),
    "deeply-nested-json": ("deep.json", b"[" * 100_000 + b"]" * 100_000, r"invalid JSON: nested too deeply"),
    "latin-1-csv": ("export.csv", (HEADER + ROW.format(id=1).replace("Nid", "Défoncé")).encode("latin-1"),
                    r"export\.csv: not UTF-8 text \(byte \d+: .*pass --encoding cp1252"),
    "invalid-utf-8-at-start": ("posts.jsonl", b'{"id": "\xff\xfe"}\n', r"not UTF-8 text \(byte 8"),
    # Without its byte-order mark UTF-16 is not guessed: NUL bytes are valid UTF-8.
    "utf-16-without-mark": ("posts.jsonl", jsonl("1").encode("utf-16-le"), r"posts\.jsonl: invalid JSON"),
    "gzip-file": ("posts.jsonl", b"\x1f\x8b\x08\x00" + bytes(60), r"not UTF-8 text"),
    "xml-file": ("posts.json", b'<?xml version="1.0"?><posts><post id="1"/></posts>',
                 r"the CSV header lacks the column\(s\) id, text, posted_at"),
    "csv-without-required-columns": ("export.csv", b"identifiant;message\n1;Nid de poule\n",
                                     r"lacks the column\(s\) id, posted_at"),
    "json-scalar": ("posts.json", b"42", r"lacks the column\(s\)"),
}  # fmt: skip


@pytest.mark.parametrize(("name", "data", "message"), list(REFUSED.values()), ids=list(REFUSED))
def test_unreadable_files_are_refused_with_a_fix(tmp_path, name, data, message):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(CommandError, match=message):
        ingest(path)
    assert not Post.objects.exists()


def test_latin_1_file_with_the_encoding_option(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes((HEADER + "1,Trottoir défoncé,2014-09-08T10:00:00+02:00,1.444,43.6045\n").encode("latin-1"))
    ingest(path, "--encoding", "latin-1")
    assert Post.objects.get().text == "Trottoir défoncé"


@pytest.mark.parametrize(
    ("name", "data"),
    [("empty.jsonl", b""), ("empty.csv", b""), ("blank.json", b"\n \n\t\n"), ("header-only.csv", HEADER.encode())],
    ids=["empty-jsonl", "empty-csv", "blank-json", "header-only-csv"],
)
def test_empty_files_say_so(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    out, err = ingest(path)
    assert "0 items" in out
    assert "no posts found (is the file empty?)" in err
    assert not Post.objects.exists()


def test_an_empty_file_in_a_folder_does_not_stop_the_others(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(b"")
    (tmp_path / "b.jsonl").write_text(jsonl("b1"))
    _out, err = ingest(tmp_path)
    assert "a.jsonl: no posts found" in err
    assert stored() == {"b1"}


# --- Encodings that are read ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["bom.csv", "bom.jsonl"])
def test_a_utf8_byte_order_mark_is_dropped(tmp_path, name):
    body = HEADER + ROW.format(id="bom1") if name.endswith(".csv") else jsonl("bom1")
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf" + body.encode())
    ingest(path)
    assert stored() == {"bom1"}


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
@pytest.mark.parametrize("name", ["unicode.csv", "unicode.jsonl"])
def test_utf16_with_a_byte_order_mark_is_read(tmp_path, name, encoding):
    # Spreadsheets' "Unicode text" exports: UTF-16 behind a byte-order mark, which says so.
    body = HEADER + ROW.format(id="u1").replace("Nid", "Défoncé") if name.endswith(".csv") else jsonl("u1")
    path = tmp_path / name
    path.write_bytes((codecs.BOM_UTF16_BE if encoding == "utf-16-be" else b"") + body.encode(encoding))
    ingest(path)
    assert stored() == {"u1"}
    assert Post.objects.get().text.startswith(("Défoncé", "Nid"))


def test_broken_bytes_after_the_probe_become_replacement_characters(tmp_path):
    # The encoding check reads the first 64 KiB; a bad byte later spoils only its post.
    head = "".join(jsonl(f"g{n}") for n in range(1000)).encode()
    assert len(head) > 1 << 16
    path = tmp_path / "late.jsonl"
    path.write_bytes(head + b'{"id": "late", "text": "caf\xe9 \xff", "posted_at": "2014-09-08T10:00:00Z"}\n')
    ingest(path)
    assert Post.objects.get(external_id="late").text == "caf\ufffd \ufffd"
    assert Post.objects.count() == 1001


# --- One bad record among good ones: the good ones are stored, the bad one reported --------

BAD_LINES = {
    "truncated-last-line": ('{"id": "bad", "text": "Nid de p', "line 2: invalid JSON: "),
    "deeply-nested-line": ("[" * 100_000 + "]" * 100_000, "line 2: invalid JSON: nested too deeply"),
    "not-an-object": ('"just text"', "line 2: expected an object with the post columns, got str"),
    "lon-out-of-range": (jsonl("bad", lon=200, lat=43.6).strip(), "line 2 [bad]: lon 200.0 is outside -180..180"),
    "lat-nan": (jsonl("bad", lon=1.44, lat="NaN").strip(), "line 2 [bad]: lat: 'NaN' is not a finite number"),
    "null-island": (jsonl("bad", lon=0, lat=0).strip(), "line 2 [bad]: coordinates 0,0 are not a real position"),
    "lat-string": (jsonl("bad", lon="1.44", lat="nord").strip(), "[bad]: lat: 'nord' is not a number"),
    "date-missing": (jsonl("bad", posted_at="").strip(), "line 2 [bad]: posted_at is missing"),
    "date-unparseable": (jsonl("bad", posted_at="8 sept.").strip(), "posted_at: '8 sept.' is not a date-time"),
    "date-far-future": (jsonl("bad", posted_at="2999-01-01T00:00:00Z").strip(), "is in the future"),
    "date-without-utc": (jsonl("bad", posted_at="0001-01-01T00:00:00+14:00").strip(), "is out of range"),
    "text-empty": (jsonl("bad", text="").strip(), "line 2 [bad]: text is missing or empty"),
}  # fmt: skip


@pytest.mark.parametrize(("line", "message"), list(BAD_LINES.values()), ids=list(BAD_LINES))
def test_json_lines_with_one_bad_line(tmp_path, line, message):
    # The bad line sits between two good ones (a truncated line is one whose end was lost).
    path = tmp_path / "posts.jsonl"
    path.write_text(jsonl("first") + line + "\n" + jsonl("last"))
    out, err = ingest(path)
    assert "2 created" in out
    assert "1 rejected" in out
    assert message in err
    assert stored() == {"first", "last"}


BAD_ROWS = {
    "unclosed-quote": ('bad,"Nid de poule,2014-09-08T10:00:00Z,1.44,43.6', None),
    "field-over-128k": ("bad," + "a" * 200_000 + ",2014-09-08T10:00:00Z,1.44,43.6", "unreadable CSV row"),
    "more-fields-than-header": ("bad,Nid,2014-09-08T10:00:00Z,1.44,43.6,x", "row has more fields than the header"),
    "lon-only": ("bad,Nid,2014-09-08T10:00:00Z,1.44,", "coordinates: give both lon and lat, or neither"),
    "swapped-out-of-range": ("bad,Nid,2014-09-08T10:00:00Z,43.6,181", "lat 181.0 is outside -90..90 (are lon and lat"),
    "lon-infinity": ("bad,Nid,2014-09-08T10:00:00Z,inf,43.6", "lon: 'inf' is not a finite number"),
    "date-unparseable": ("bad,Nid,08/09/2014 10h,1.44,43.6", "posted_at: '08/09/2014 10h' is not a date-time"),
}  # fmt: skip


def test_a_file_cut_in_the_middle_of_its_last_line(tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_text(jsonl("first") + jsonl("second")[:30])
    _out, err = ingest(path)
    assert "line 2: invalid JSON: Unterminated string" in err
    assert stored() == {"first"}


@pytest.mark.parametrize(("row", "message"), list(BAD_ROWS.values()), ids=list(BAD_ROWS))
def test_csv_with_one_bad_row(tmp_path, row, message):
    path = tmp_path / "export.csv"
    path.write_text(HEADER + ROW.format(id="first") + row + "\n" + ROW.format(id="last"))
    _out, err = ingest(path)
    if message is None:
        # An unclosed quote swallows the rest of the file into one field: the rows after it cannot be told apart.
        assert stored() == {"first"}
        assert "posted_at is missing" in err
        return
    assert message in err
    assert stored() == {"first", "last"}


def test_text_payloads_are_stored_verbatim(tmp_path):
    texts = {
        "long": "Nid de poule " + "é" * 10_000,
        "rtl": "حفرة في الطريق 🚧 rue de Metz",
        "script": '<script>alert("x")</script><img src=x onerror=alert(1)>',
    }
    path = tmp_path / "posts.jsonl"
    path.write_text("".join(jsonl(key, text=value) for key, value in texts.items()))
    ingest(path)
    assert dict(Post.objects.values_list("external_id", "text")) == texts


def test_naive_dates_are_in_the_city_time_zone(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(HEADER + "n1,Nid de poule,2014-09-08 10:00:00,1.444,43.6045\n")
    ingest(path)
    assert Post.objects.get().posted_at.isoformat() == "2014-09-08T08:00:00+00:00"
