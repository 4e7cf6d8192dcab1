"""
Normalise French street names so that what people write meets what cities publish.

Toulouse publishes upper-case abbreviated names without accents ("ALL JEAN JAURES",
"RUE MIE D AGHONNE"); people write "Allées Jean-Jaurès", "bd", "r. de Metz", "#RueDeMetz".
Both sides go through :func:`normalize_street_name`, which gives one comparable key:
lower case, no accents, no punctuation, one canonical word per street type, no
particles ("de", "la", "du", "des", "d'", "l'").
"""

import re
import unicodedata
from collections.abc import Sequence
from itertools import islice

# Street-type words and their abbreviations, mapped to one canonical word.
STREET_TYPES: dict[str, str] = {
    "rue": "rue",
    "r": "rue",
    "avenue": "avenue",
    "av": "avenue",
    "ave": "avenue",
    "avn": "avenue",
    "boulevard": "boulevard",
    "bd": "boulevard",
    "bld": "boulevard",
    "blvd": "boulevard",
    "boul": "boulevard",
    "allee": "allees",
    "allees": "allees",
    "all": "allees",
    "place": "place",
    "pl": "place",
    "impasse": "impasse",
    "imp": "impasse",
    "chemin": "chemin",
    "ch": "chemin",
    "che": "chemin",
    "chem": "chemin",
    "route": "route",
    "rte": "route",
    "quai": "quai",
    "qu": "quai",
    "cours": "cours",
    "crs": "cours",
    "square": "square",
    "sq": "square",
    "passage": "passage",
    "pass": "passage",
    "pas": "passage",  # Toulouse writes passages "PAS PASTEUR"
    "esplanade": "esplanade",
    "esp": "esplanade",
    "promenade": "promenade",
    "prom": "promenade",
    "faubourg": "faubourg",
    "fbg": "faubourg",
    "port": "port",
    "pont": "pont",
    "rpt": "rondpoint",
    "rondpoint": "rondpoint",
    "carrefour": "carrefour",
    "car": "carrefour",
    "voie": "voie",
    "sentier": "sentier",
    "sente": "sentier",
    "traverse": "traverse",
    "tra": "traverse",
    "residence": "residence",
    "res": "residence",
    "lotissement": "lotissement",
    "lot": "lotissement",
    "cite": "cite",
    "parvis": "parvis",
    "jardin": "jardin",
    "jard": "jardin",
}

# Other frequent abbreviations inside names.
WORD_ABBREVIATIONS: dict[str, str] = {
    "st": "saint",
    "ste": "sainte",
    "sts": "saints",
    "gal": "general",
    "gen": "general",
    "mal": "marechal",
    "pdt": "president",
    "pres": "president",
    "dr": "docteur",
    "doct": "docteur",
    "pr": "professeur",
    "prof": "professeur",
    "mgr": "monseigneur",
    "crx": "croix",
    "gde": "grande",
    "gd": "grand",
    "nd": "notre dame",
}

# Particles dropped from keys: "rue de la Pomme" and "RUE PROSPER" compare on content words.
PARTICLES = frozenset({"de", "la", "le", "les", "du", "des", "d", "l", "a", "au", "aux", "en", "sur", "et"})

# Written numbers, so "rue du 19 mars" meets "PL DU DIX NEUF MARS" and "8 mai" meets "HUIT MAI".
# Only day-of-month numbers: house numbers above 31 stay digits and never collide.
# fmt: off
NUMBER_WORDS: dict[str, str] = {
    "1": "un", "1er": "premier", "1re": "premiere", "1ere": "premiere", "2": "deux", "3": "trois",
    "4": "quatre", "5": "cinq", "6": "six", "7": "sept", "8": "huit", "9": "neuf", "10": "dix",
    "11": "onze", "12": "douze", "13": "treize", "14": "quatorze", "15": "quinze", "16": "seize",
    "17": "dix sept", "18": "dix huit", "19": "dix neuf", "20": "vingt", "21": "vingt un",
    "22": "vingt deux", "23": "vingt trois", "24": "vingt quatre", "25": "vingt cinq",
    "26": "vingt six", "27": "vingt sept", "28": "vingt huit", "29": "vingt neuf", "30": "trente",
    "31": "trente un",
}
# fmt: on

# Letters that Unicode decomposition keeps whole; people type their plain-ASCII spelling.
# "×" joins the streets of a crossing like "/".
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "ø": "o", "Ø": "O", "ł": "l",
                            "Ł": "L", "đ": "d", "Đ": "D", "ı": "i", "×": "/"})  # fmt: skip
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
# A token: ASCII letters/digits, or one of the symbols that matter to the locator ("#"
# starts a hashtag, "/" "&" "+" join the two streets of a crossing). Anything else
# (punctuation, apostrophes, emoji, letters without an ASCII form) separates tokens.
_TOKEN = re.compile(r"[a-z0-9]+|[#/&+]")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
# An account mention: X "@name", Mastodon "@name" or "@name@instance" (not an e-mail address).
MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9_]+)(?:@[A-Za-z0-9_.-]+)?")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])")
SYMBOLS = frozenset("#/&+")


# The same tokens in the original text (Unicode letters, accents included), for spans.
_RAW_TOKEN = re.compile(r"[^\W_]+|[#/&+×]")
_HAS_LIGATURE = re.compile("[œŒæÆßøØłŁđĐı×]")


# Text -> tokens for the texts of the current batch: the locator and the classifier read
# the same posts one after the other. Bounded: cleared when full.
_TOKENS: dict[str, tuple[str, ...]] = {}
_TOKENS_MAX = 20_000


def word_set(text: str) -> frozenset[str]:
    """The words of ``text``, for word lists written as one readable string."""
    return frozenset(text.split())


def strip_accents(text: str) -> str:
    """Return ``text`` without diacritics ("Jaurès" -> "Jaures")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def split_hashtag(tag: str) -> str:
    """Split a camel-case hashtag into words ("#RueDeMetz" -> "Rue De Metz")."""
    return _CAMEL.sub(" ", tag.lstrip("#"))


def _blank_urls(text: str) -> str:
    # Same length, so token offsets stay those of the original text.
    return _URL.sub(lambda match: " " * len(match.group()), text) if "/" in text or "www" in text else text


def text_tokens(text: str) -> tuple[str, ...]:
    """Lower-case, accent-free word tokens of a post, plus the symbols ``# / & +``.

    URLs are dropped; apostrophes, hyphens, dots and emoji separate words. Locator and
    classifier both read posts through this function (cached for the current batch).
    """
    tokens = _TOKENS.get(text)
    if tokens is None:
        folded = _blank_urls(text)
        if not folded.isascii():
            if _HAS_LIGATURE.search(folded):
                folded = folded.translate(_LIGATURES)
            folded = _COMBINING.sub("", unicodedata.normalize("NFKD", folded))
        tokens = tuple(_TOKEN.findall(folded.lower()))
        if len(_TOKENS) >= _TOKENS_MAX:
            _TOKENS.clear()
        _TOKENS[text] = tokens
    return tokens


def _fold_word(raw: str) -> str:
    word = raw.lower()
    if word.isascii():
        return word
    return _COMBINING.sub("", unicodedata.normalize("NFKD", word.translate(_LIGATURES)))


def token_span(text: str, first: int, last: int) -> tuple[int, int] | None:
    """Character span in ``text`` from token ``first`` to token ``last`` (indices of :func:`text_tokens`).

    ``None`` in the rare texts where a word folds into several tokens (letters without an
    ASCII form inside a word, decomposed accents): callers then show the folded tokens.
    """
    return token_spans(text, [(first, last)])[0]


def token_spans(text: str, ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int] | None]:
    """:func:`token_span` of each ``(first, last)`` of ``ranges``, reading ``text`` once."""
    tokens = text_tokens(text)
    matches = list(islice(_RAW_TOKEN.finditer(_blank_urls(text)), max(last for _, last in ranges) + 1))
    spans: list[tuple[int, int] | None] = []
    for first, last in ranges:
        if (
            len(matches) <= last
            or last >= len(tokens)
            or _fold_word(matches[first].group()) != tokens[first]
            or _fold_word(matches[last].group()) != tokens[last]
        ):
            spans.append(None)
        else:
            spans.append((matches[first].start(), matches[last].end()))
    return spans


def blank_mentions(text: str) -> str:
    """``text`` with its account mentions blanked out, every other character where it was.

    An account's name is no place ("@bachelier_maman", "@rue_de_metz"); the spans found
    in the result are the same in ``text``.
    """
    return MENTION.sub(lambda match: " " * len(match.group()), text) if "@" in text else text


def tokenize(text: str) -> list[str]:
    """Lower-case, accent-free word tokens; apostrophes, hyphens and dots separate words."""
    return [token for token in text_tokens(text) if token not in SYMBOLS]


def canonical_word(token: str) -> tuple[str, ...]:
    """The canonical form of one non-type word: abbreviations and numbers spelt out, particles dropped."""
    expanded = WORD_ABBREVIATIONS.get(token) or NUMBER_WORDS.get(token)
    if expanded is not None:
        return tuple(expanded.split())
    return () if token in PARTICLES else (token,)


# Street types written as two words: "rond-point" and "rond point" are one type.
COMPOUND_TYPES = {("rond", "point"): "rondpoint", ("rd", "pt"): "rondpoint"}


def merge_compound_types(tokens: list[str] | tuple[str, ...]) -> list[str]:
    """Join two-word street types into their one-word form ("rond", "point" -> "rondpoint")."""
    tokens = list(tokens)
    if "rond" not in tokens and "rd" not in tokens:
        return tokens
    merged: list[str] = []
    index = 0
    while index < len(tokens):
        pair = COMPOUND_TYPES.get(tuple(tokens[index : index + 2]))
        if pair is not None:
            merged.append(pair)
            index += 2
        else:
            merged.append(tokens[index])
            index += 1
    return merged


def canonical_tokens(text: str) -> list[str]:
    """Tokens with street types and abbreviations made canonical and particles dropped.

    Only the first word kept is read as a street type ("PAS PASTEUR" is the passage Pasteur,
    but "rue du pas" keeps its word).
    """
    tokens = merge_compound_types(tokenize(text))
    result: list[str] = []
    for token in tokens:
        # The first word kept, not the first written: "à R" must give the key of "R" (idempotence).
        if not result and token in STREET_TYPES:
            result.append(STREET_TYPES[token])
            continue
        result.extend(canonical_word(token))
    return result


def normalize_street_name(name: str) -> str:
    """Return the comparable key of a street name ("ALL JEAN JAURES" -> "allees jean jaures")."""
    return " ".join(canonical_tokens(name))
