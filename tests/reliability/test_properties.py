"""
Property tests (hypothesis): the text normaliser, the street matcher, and every parser of
posts, import files and API filter values, fed arbitrary input. None may raise anything
but its documented error; each run is bounded (examples, no deadline) to keep the suite fast.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import unicodedata
from functools import cache

import pytest
import shapely
from django import forms
from django.utils import timezone
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from incidents.importers.districts import DISTRICT_FORMATS
from incidents.importers.streets import STREET_FORMATS
from incidents.importers.works import WORKS_FORMATS
from incidents.inputs import InputError, InputFile
from incidents.locate.gazetteer import Gazetteer, StreetRow
from incidents.locate.locator import Locator
from incidents.locate.normalize import normalize_street_name, strip_accents, text_tokens, token_span
from incidents.locate.streets import scan
from incidents.publish.filters import parse_bbox, parse_datetime_interval, parse_instant, parse_point
from incidents.sources import columns, mastodon, x
from incidents.sources.parsing import MAX_ID, MAX_SOURCE, ParsedItem
from incidents.sources.reader import parse_lines
from incidents.sources.record import PostRecord
from tests.fixture_streets import fixture_street_rows

BOUNDED = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)

# Characters that break naive text handling: controls, NUL, bidi marks, joiners, combining
# accents, ligatures, full-width and title-case letters, emoji, the replacement character.
TRICKY = "\x00\x07\t\n\r\u200b\u200d\u200e\u200f\u202e\u0301\u0327ﬁﬂŒœÆæßǅＲｕｅ🚧🕳️\ufffd«»’ʼ-–—/#@"
anything = st.text(st.characters(codec="utf-8") | st.sampled_from(TRICKY), max_size=120)


# --- Text normaliser ---------------------------------------------------------------------------


@BOUNDED
@given(anything)
@example("A:R")  # found by hypothesis: "à R" gave "r", which gave "rue"
def test_normalizing_any_text_is_idempotent_and_plain(text):
    once = normalize_street_name(text)
    assert normalize_street_name(once) == once
    assert all(word.isascii() and word.isalnum() and word == word.lower() for word in once.split())


FRENCH = "abcdefghijklmnopqrstuvwxyzéèêëàâäîïôöùûüçÿ"
words = st.text(st.sampled_from(FRENCH), min_size=1, max_size=12)
names = st.lists(words, min_size=1, max_size=5).map(" ".join)


@BOUNDED
@given(names, st.sampled_from(["", "rue ", "Avenue ", "BD ", "allées ", "place du "]))
def test_keys_ignore_accents_and_case(name, street_type):
    text = street_type + name
    key = normalize_street_name(text)
    assert normalize_street_name(text.upper()) == key
    assert normalize_street_name(text.title()) == key
    assert normalize_street_name(strip_accents(text)) == key
    assert normalize_street_name(unicodedata.normalize("NFD", text)) == key


@BOUNDED
@given(anything)
def test_tokens_of_any_text_point_back_into_it(text):
    tokens = text_tokens(text)
    for first in range(len(tokens)):
        span = token_span(text, first, len(tokens) - 1)
        if span is not None:
            assert 0 <= span[0] < span[1] <= len(text)


# --- Street matcher ------------------------------------------------------------------------------


@cache
def gazetteer() -> Gazetteer:
    """A real gazetteer: every third Toulouse fixture segment, plus a homonym in another commune."""
    rows = fixture_street_rows()[::3]
    rows.append(StreetRow("RUE DE METZ", "BLAGNAC", shapely.MultiLineString([[(1.39, 43.64), (1.391, 43.64)]])))
    return Gazetteer.build(rows)


@cache
def name_words() -> list[str]:
    return sorted({word for street in gazetteer().streets for word in street.name.lower().split()})


def posts():
    """Text made of real street-name words, street types, crossing cues and arbitrary text."""
    piece = st.one_of(
        st.sampled_from(name_words()),
        st.sampled_from(["rue", "r.", "av", "allées", "bd", "place", "#RueDeMetz", "angle", "/", "entre", "et", "à"]),
        anything.map(lambda text: text[:15]),
    )
    return st.lists(piece, max_size=14).map(" ".join)


@pytest.fixture(scope="module")
def extent() -> tuple[float, float, float, float]:
    bounds = shapely.MultiLineString(
        [list(line.coords) for row in fixture_street_rows() for line in row.geometry.geoms]
    )
    return bounds.bounds


@BOUNDED
@given(data=st.data())
def test_the_matcher_never_crashes_and_only_names_loaded_streets(data):
    g = gazetteer()
    text = data.draw(posts())
    evidence = scan(g, text)
    for mention in evidence.mentions:
        assert mention.keys
        assert all(key in g.by_key for key in mention.keys), mention
        assert 0 <= mention.raw_start < mention.raw_end <= len(evidence.raw)
    for first, second in evidence.crossings:
        assert first in evidence.mentions
        assert second in evidence.mentions


@BOUNDED
@given(data=st.data())
def test_a_located_post_lies_on_the_loaded_streets(data, extent):
    text = data.draw(posts())
    record = PostRecord(source="t", external_id="1", text=text, posted_at=timezone.now())
    location = Locator(gazetteer()).locate(record)
    if location.found:
        min_x, min_y, max_x, max_y = extent
        margin = 0.02
        assert min_x - margin <= location.lon <= max_x + margin
        assert min_y - margin <= location.lat <= max_y + margin
        assert location.accuracy_m is not None
        assert math.isfinite(location.accuracy_m)
        assert location.accuracy_m >= 0


def test_the_matcher_properties_are_not_vacuous():
    # The strategy's words do find streets: a known sentence built the same way is located.
    location = Locator(gazetteer()).locate(
        PostRecord(source="t", external_id="1", text="trottoir bloqué rue de Metz", posted_at=timezone.now())
    )
    assert "metz" in " ".join(name_words())
    assert location.found


# --- Post parsers: arbitrary JSON becomes records or per-item rejections ---------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), anything)
json_values = st.recursive(
    scalars, lambda children: st.lists(children, max_size=4) | st.dictionaries(anything, children, max_size=4),
    max_leaves=12,
)  # fmt: skip
POST_KEYS = ["id", "text", "posted_at", "lon", "lat", "author", "url", "media_urls", "like_count", "repost_of",
             "place_bbox", "source", "created_at", "language", "quote_of", "reply_to", "place_type"]  # fmt: skip
post_like = st.dictionaries(st.sampled_from(POST_KEYS), json_values, max_size=10)
x_like = st.fixed_dictionaries(
    {"data": st.lists(st.dictionaries(st.sampled_from(["id", "text", "created_at", "author_id", "geo",
                                                       "referenced_tweets", "public_metrics", "lang"]),
                                      json_values, max_size=8), max_size=3)},
    optional={"includes": json_values, "meta": json_values},
)  # fmt: skip
mastodon_like = st.dictionaries(
    st.sampled_from(["id", "content", "created_at", "account", "visibility", "url", "reblog", "spoiler_text",
                     "media_attachments", "language", "favourites_count"]),
    json_values, max_size=10,
)  # fmt: skip


def check_items(items: list[ParsedItem]) -> None:
    for item in items:
        assert isinstance(item.position, str)
        if item.record is None:
            assert item.error, item
            continue
        record = item.record
        assert 0 < len(record.external_id) <= MAX_ID
        assert 0 < len(record.source) <= MAX_SOURCE
        assert "\x00" not in record.text
        assert record.posted_at.tzinfo is not None
        record.posted_at.astimezone(dt.UTC)
        if record.lon is not None:
            assert math.isfinite(record.lon)
            assert -180 <= record.lon <= 180
            assert -90 <= record.lat <= 90
        json.dumps(record.raw, default=str)


@BOUNDED
@given(st.one_of(post_like, json_values))
def test_the_column_parser_answers_every_document(document):
    check_items(list(columns.parse_document(document, position="[0]", source="api")))


@BOUNDED
@given(st.one_of(x_like, json_values))
@example({"data": {"id": 0, "referenced_tweets": 1}})  # found by hypothesis: TypeError
@example({"data": {"id": "1", "text": "x", "created_at": "2014-09-08T10:00:00Z", "attachments": [1]}})
def test_the_x_parser_answers_every_document(document):
    check_items(list(x.parse_document(document, position="[0]", source="x")))


@BOUNDED
@given(st.one_of(mastodon_like, st.lists(mastodon_like, max_size=3), json_values))
@example({"uri": "u", "content": "x", "created_at": "2014-09-08T10:00:00Z", "media_attachments": True})  # TypeError
def test_the_mastodon_parser_answers_every_document(document):
    check_items(list(mastodon.parse_document(document, position="[0]", source="mastodon")))


@BOUNDED
@given(st.lists(st.one_of(post_like.map(json.dumps), anything), max_size=6), st.sampled_from([None, "csv", "jsonl"]))
@example(["id,te\rxt,posted_at"], "csv")  # found by hypothesis: csv.Error on the header
def test_the_file_reader_answers_every_file(lines, format):
    text = "\n".join(lines)
    try:
        source_input = parse_lines("f", io.StringIO(text), format=format, source=None)
        items = list(source_input.items)
    except InputError as error:
        message = str(error)  # the whole file refused: it must say why
    else:
        message = "read"
        check_items(items)
    assert message


# --- Import parsers: arbitrary JSON becomes records or rejections ---------------------------------

feature_like = st.fixed_dictionaries(
    {"type": st.just("Feature"), "properties": st.one_of(post_like, json_values), "geometry": json_values}
)
geometry_like = st.fixed_dictionaries(
    {"type": st.sampled_from(["Point", "LineString", "Polygon", "MultiPolygon", "MultiLineString", "Circle"]),
     "coordinates": json_values}
)  # fmt: skip
documents = st.one_of(
    json_values,
    st.lists(feature_like, max_size=4).map(lambda features: {"type": "FeatureCollection", "features": features}),
    st.lists(geometry_like, max_size=4).map(
        lambda geometries: {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"id": n, "name": "Rue A", "start": "2024-03-01"}, "geometry": g}
            for n, g in enumerate(geometries)]}
    ),
)  # fmt: skip
FORMATS = [
    *(("streets", name, fmt) for name, fmt in STREET_FORMATS.items()),
    *(("works", name, fmt) for name, fmt in WORKS_FORMATS.items()),
    *(("districts", name, fmt) for name, fmt in DISTRICT_FORMATS.items()),
]


@pytest.mark.parametrize(("kind", "name", "fmt"), FORMATS, ids=[f"{kind}-{name}" for kind, name, _ in FORMATS])
def test_every_import_format_answers_any_json(kind, name, fmt):
    @BOUNDED
    @given(documents)
    # Found by hypothesis: WZDx detection read properties that were a list (AttributeError).
    @example({"type": "FeatureCollection", "features": [{"properties": [], "type": "Feature"}]})
    @example({"type": "FeatureCollection", "features": {"a": 1}})
    def run(document):
        data = json.dumps(document).encode()
        try:
            parsed = fmt.parse(InputFile("f.geojson", data), {})
        except InputError as error:
            refusal = str(error)  # the whole file refused: it must say why
            parsed = None
        else:
            refusal = "read"
        assert refusal
        for record in parsed.records if parsed else []:
            assert record.ewkt.startswith("SRID=4326;")
        for rejection in parsed.rejections if parsed else []:
            assert str(rejection)

    run()


# --- API filter values ---------------------------------------------------------------------------

filter_text = st.one_of(
    anything,
    st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), anything), max_size=5).map(",".join),
)


@BOUNDED
@given(filter_text)
def test_filter_values_are_parsed_or_refused_with_a_message(value):
    for parse in (parse_bbox, parse_point, lambda v: parse_instant(v, end=False), parse_datetime_interval):
        try:
            parse(value)
        except forms.ValidationError as error:
            messages = error.messages
        else:
            messages = ["parsed"]
        assert all(messages)


@BOUNDED
@given(st.floats(-180, 180), st.floats(-90, 90), st.floats(0, 10), st.floats(0, 10))
def test_any_valid_bbox_is_accepted(lon, lat, width, height):
    assume(lon + width <= 180 and lat + height <= 90)
    assert parse_bbox(f"{lon!r},{lat!r},{lon + width!r},{lat + height!r}") == (lon, lat, lon + width, lat + height)
