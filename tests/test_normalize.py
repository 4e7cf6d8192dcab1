"""What people write and what the city publishes meet on one normalised key."""

import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from incidents.locate.gazetteer import Gazetteer, StreetRow
from incidents.locate.locator import Locator
from incidents.locate.normalize import (
    NUMBER_WORDS,
    PARTICLES,
    STREET_TYPES,
    WORD_ABBREVIATIONS,
    normalize_street_name,
    split_hashtag,
    text_tokens,
    token_span,
)
from incidents.sources.record import PostRecord
from tests.conftest import paris


@pytest.mark.parametrize(
    ("official", "written"),
    [
        ("ALL JEAN JAURES", "Allées Jean-Jaurès"),
        ("ALL JEAN JAURES", "all. Jean Jaurès"),
        ("RUE DE METZ", "rue de Metz"),
        ("RUE DE METZ", "r. de metz"),
        ("AV DE LA GLORIETTE", "Avenue de la Gloriette"),
        ("AV DE LA GLORIETTE", "ave de la gloriette"),
        ("BD DE STRASBOURG", "Boulevard de Strasbourg"),
        ("RUE MIE D AGHONNE", "rue Mie d'Aghonne"),
        ("RUE SAINT ROME", "rue St-Rome"),
        ("PL DU CAPITOLE", "place du Capitole"),
        ("IMP CIMETIERE CRX DAURADE", "impasse Cimetière Croix Daurade"),
        ("CHE DE RAUDELAUZETTE", "ch. de Raudelauzette"),
        ("RTE DE FRONTON", "route de Fronton"),
        ("QUAI DE LA DAURADE", "Quai de la Daurade"),
        ("RUE SAINTE URSULE", "rue Ste Ursule"),
        ("PAS PASTEUR", "passage Pasteur"),
        ("RUE DU 19 MARS 1962", "rue du dix-neuf mars 1962"),
        ("PL DU HUIT MAI 1945", "place du 8 mai 1945"),
        ("RPT DES FRANCAIS LIBRES", "Rond-Point des Français Libres"),
        ("RUE DU DR LOUIS SANIERES", "rue du Docteur Louis Sanières"),
        ("ALL DES NYMPHEAS", "Allée des Nymphéas"),
        ("RUE DE LA CŒUR", "rue de la Coeur"),
        ("GRANDE-RUE NAZARETH", "Gde-Rue Nazareth"),
    ],
)
def test_official_and_written_names_share_a_key(official, written):
    assert normalize_street_name(official) == normalize_street_name(written)


def test_key_is_lowercase_ascii_words():
    assert normalize_street_name("Allées Jean-Jaurès") == "allees jean jaures"


def test_different_streets_keep_different_keys():
    assert normalize_street_name("RUE DE METZ") != normalize_street_name("RUE DE REMUSAT")
    assert normalize_street_name("RUE DE METZ") != normalize_street_name("AV DE METZ")


def test_hashtags_split_on_case():
    assert split_hashtag("#RueDeMetz") == "Rue De Metz"
    assert normalize_street_name(split_hashtag("#RueDeMetz")) == normalize_street_name("RUE DE METZ")


def test_tokens_of_a_post():
    text = "Trottoir bloqué r. de Metz × Alsace-Lorraine 🚧 #RueDeMetz https://t.co/xyz cœur"
    assert text_tokens(text) == (
        "trottoir", "bloque", "r", "de", "metz", "/", "alsace", "lorraine", "#", "ruedemetz", "coeur",
    )  # fmt: skip


def test_token_span_points_into_the_original_text():
    text = "Énorme trou rue d’Alsace-Lorraine 😡 vraiment"
    tokens = text_tokens(text)
    start, end = token_span(text, tokens.index("rue"), tokens.index("lorraine"))
    assert text[start:end] == "rue d’Alsace-Lorraine"


# --- properties ------------------------------------------------------------------------------

WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=10).filter(
    lambda w: w not in STREET_TYPES and w not in WORD_ABBREVIATIONS and w not in PARTICLES and w not in NUMBER_WORDS
)
ACCENTS = {"e": "éèê", "a": "àâ", "i": "î", "o": "ô", "u": "ù", "c": "ç"}


@st.composite
def street_names(draw):
    """An official name ("AV JEAN MARTIN") and how a person may write it ("Avenue de Jean-Martîn")."""
    full, abbreviations = draw(st.sampled_from(TYPE_SPELLINGS))
    body = draw(st.lists(WORDS, min_size=1, max_size=3))
    official = " ".join([abbreviations[0].upper(), *(word.upper() for word in body)])
    written_type = draw(st.sampled_from([full, full.capitalize(), *abbreviations, f"{abbreviations[0]}."]))
    written_body = []
    for word in body:
        word = "".join(draw(st.sampled_from([c, *ACCENTS.get(c, "")])) for c in word)
        written_body.append(draw(st.sampled_from([word, word.capitalize(), word.upper()])))
    separator = draw(st.sampled_from([" ", "-"]))
    particle = draw(st.sampled_from(["", " de", " de la", " du", " d'"]))
    written = f"{written_type}{particle} " + separator.join(written_body)
    return official, written.replace("d' ", "d'")


# (full type word, its abbreviations) as Toulouse publishes and people write them.
TYPE_SPELLINGS = [
    ("rue", ["rue", "r"]),
    ("avenue", ["av", "ave"]),
    ("boulevard", ["bd", "bld"]),
    ("allées", ["all", "allees"]),
    ("place", ["pl"]),
    ("impasse", ["imp"]),
    ("chemin", ["che", "ch", "chem"]),
    ("route", ["rte"]),
]


@given(street_names())
def test_any_written_form_meets_the_official_name(names):
    official, written = names
    assert normalize_street_name(written) == normalize_street_name(official)


@given(st.text(max_size=60))
def test_normalizing_is_idempotent(text):
    once = normalize_street_name(text)
    assert normalize_street_name(once) == once
    assert once == once.strip()
    assert all(word.isascii() and word.isalnum() for word in once.split())


@given(st.text(max_size=80))
def test_token_span_never_points_outside_the_text(text):
    tokens = text_tokens(text)
    if tokens:
        span = token_span(text, 0, len(tokens) - 1)
        if span is not None:
            assert 0 <= span[0] < span[1] <= len(text)


@settings(max_examples=60, deadline=None)
@given(
    street_names(), st.sampled_from(["Trottoir bloqué {} depuis ce matin", "{} : lampadaire en panne", "Pothole on {}"])
)
def test_the_matcher_finds_any_written_form_in_a_post(names, template):
    official, written = names
    line = shapely.MultiLineString([[(1.44, 43.60), (1.441, 43.60)]])
    other = shapely.MultiLineString([[(1.45, 43.61), (1.451, 43.61)]])
    gazetteer = Gazetteer.build([StreetRow(official, "TOULOUSE", line), StreetRow("RUE DE METZ", "TOULOUSE", other)])
    record = PostRecord(source="t", external_id="1", text=template.format(written), posted_at=paris(2024, 1, 1))
    location = Locator(gazetteer).locate(record)
    assert location.found
    assert location.lon == pytest.approx(1.4405, abs=0.0006)
