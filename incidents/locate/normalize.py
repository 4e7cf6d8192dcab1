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
    "rpt": "rond-point",
    "rondpoint": "rond-point",
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
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "ł": "l", "đ": "d", "ı": "i"})
# A word (letters/digits of any script, no underscore) or one of the symbols that matter to
# the locator: "#" starts a hashtag, "/" "&" "+" join the two streets of a crossing.
_TOKEN = re.compile(r"[^\W_]+|[#/&+×]")
_ASCII_WORD = re.compile(r"[a-z0-9]+")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])")
SYMBOLS = frozenset("#/&+")

# Raw token -> folded tokens. Posts reuse a small vocabulary, so folding each distinct raw
# token once keeps tokenising at a few dict lookups per word. Bounded: cleared when full.
_FOLDED: dict[str, tuple[str, ...]] = {}
_FOLDED_MAX = 200_000


def strip_accents(text: str) -> str:
    """Return ``text`` without diacritics ("Jaurès" -> "Jaures")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def split_hashtag(tag: str) -> str:
    """Split a camel-case hashtag into words ("#RueDeMetz" -> "Rue De Metz")."""
    return _CAMEL.sub(" ", tag.lstrip("#"))


def _fold(raw: str) -> tuple[str, ...]:
    folded = _FOLDED.get(raw)
    if folded is None:
        text = raw.lower()
        if text == "×":
            folded = ("/",)
        elif text.isascii():
            folded = (text,)
        else:
            # Letters without an ASCII form (emoji never get here; other scripts do) split the word.
            folded = tuple(_ASCII_WORD.findall(strip_accents(text.translate(_LIGATURES))))
        if len(_FOLDED) >= _FOLDED_MAX:
            _FOLDED.clear()
        _FOLDED[raw] = folded
    return folded


def text_tokens(text: str) -> list[str]:
    """Lower-case, accent-free word tokens of a post, plus the symbols ``# / & +``.

    URLs are dropped; apostrophes, hyphens, dots and emoji separate words. Locator and
    classifier both read posts through this function.
    """
    tokens: list[str] = []
    for raw in _TOKEN.findall(_blank_urls(text)):
        folded = _fold(raw)
        if len(folded) == 1:
            tokens.append(folded[0])
        else:
            tokens.extend(folded)
    return tokens


def _blank_urls(text: str) -> str:
    # Same length, so token offsets stay those of the original text.
    return _URL.sub(lambda match: " " * len(match.group()), text) if "/" in text or "www" in text else text


def token_spans(text: str) -> list[tuple[int, int]]:
    """Character span in ``text`` of each token :func:`text_tokens` returns (same order, same count)."""
    spans: list[tuple[int, int]] = []
    for match in _TOKEN.finditer(_blank_urls(text)):
        spans.extend([match.span()] * len(_fold(match.group())))
    return spans


def tokenize(text: str) -> list[str]:
    """Lower-case, accent-free word tokens; apostrophes, hyphens and dots separate words."""
    return [token for token in text_tokens(text) if token not in SYMBOLS]


def canonical_word(token: str) -> tuple[str, ...]:
    """The canonical form of one non-type word: abbreviations and numbers spelt out, particles dropped."""
    expanded = WORD_ABBREVIATIONS.get(token) or NUMBER_WORDS.get(token)
    if expanded is not None:
        return tuple(expanded.split())
    return () if token in PARTICLES else (token,)


def canonical_tokens(text: str) -> list[str]:
    """Tokens with street types and abbreviations made canonical and particles dropped.

    Only the first word is read as a street type ("PAS PASTEUR" is the passage Pasteur,
    but "rue du pas" keeps its word).
    """
    tokens = tokenize(text)
    result: list[str] = []
    for index, token in enumerate(tokens):
        if index == 0 and token in STREET_TYPES:
            result.append(STREET_TYPES[token])
            continue
        result.extend(canonical_word(token))
    return result


def normalize_street_name(name: str) -> str:
    """Return the comparable key of a street name ("ALL JEAN JAURES" -> "allees jean jaures")."""
    return " ".join(canonical_tokens(name))
