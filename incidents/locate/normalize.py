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

# ASCII apostrophe, right single quote, grave, acute, modifier letter apostrophe.
_APOSTROPHES = "'\u2019`\u00b4\u02bc"
_NON_WORD = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])")


def strip_accents(text: str) -> str:
    """Return ``text`` without diacritics ("Jaurès" -> "Jaures")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def split_hashtag(tag: str) -> str:
    """Split a camel-case hashtag into words ("#RueDeMetz" -> "Rue De Metz")."""
    return _CAMEL.sub(" ", tag.lstrip("#"))


def tokenize(text: str) -> list[str]:
    """Lower-case, accent-free word tokens; apostrophes, hyphens and dots separate words."""
    text = strip_accents(text).lower()
    for apostrophe in _APOSTROPHES:
        text = text.replace(apostrophe, " ")
    return [token for token in _NON_WORD.split(text) if token]


def canonical_tokens(text: str) -> list[str]:
    """Tokens with street types and abbreviations made canonical and particles dropped."""
    tokens = tokenize(text)
    result: list[str] = []
    for index, token in enumerate(tokens):
        if index == 0 and token in STREET_TYPES:
            result.append(STREET_TYPES[token])
            continue
        token = WORD_ABBREVIATIONS.get(token, token)
        if token in PARTICLES:
            continue
        result.append(token)
    return result


def normalize_street_name(name: str) -> str:
    """Return the comparable key of a street name ("ALL JEAN JAURES" -> "allees jean jaures")."""
    return " ".join(canonical_tokens(name))
