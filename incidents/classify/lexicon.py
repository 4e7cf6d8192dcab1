"""A transparent lexicon classifier: words and phrases vote for categories."""

from __future__ import annotations

from collections.abc import Iterable

from incidents.categories import Category
from incidents.classify.result import Classification
from incidents.locate.normalize import tokenize

LEXICON: dict[Category, tuple[str, ...]] = {
    Category.WORKS_OBSTRUCTION: ("travaux", "chantier", "barriere", "works", "roadworks"),
    Category.PEDESTRIAN_CROSSING_SIDEWALK: ("passage pieton", "trottoir", "pieton", "crossing", "sidewalk"),
    Category.ROAD_SURFACE_POTHOLE: ("nid de poule", "trou", "pothole", "chaussee"),
    Category.LIGHTING: ("lampadaire", "eclairage", "streetlight"),
    Category.SIGNAGE_MARKING: ("panneau", "marquage", "signalisation", "sign"),
    Category.WASTE_CLEANLINESS: ("poubelle", "dechets", "ordures", "litter", "rubbish"),
    Category.GRAFFITI_VANDALISM: ("tag", "graffiti", "vandalisme", "vandalism"),
    Category.VEGETATION: ("arbre", "branche", "haie", "tree"),
    Category.DRAINAGE_FLOODING: ("inondation", "inonde", "egout", "flood"),
    Category.TRAFFIC_PARKING: ("stationnement", "garee", "bouchon", "parking", "traffic"),
}


def classify(text: str, language: str = "") -> Classification:
    """Return the relevance and best category of ``text``."""
    normalized = " " + " ".join(tokenize(text)) + " "
    votes: dict[Category, list[str]] = {}
    for category, words in LEXICON.items():
        hits = [word for word in words if f" {word} " in normalized]
        if hits:
            votes[category] = hits
    if not votes:
        return Classification(relevance=0.0, category=Category.OTHER, score=0.0)
    category, hits = max(votes.items(), key=lambda item: len(item[1]))
    total = sum(len(h) for h in votes.values())
    return Classification(relevance=1.0, category=category, score=len(hits) / total, evidence=tuple(hits))


def classify_many(texts: Iterable[tuple[str, str]]) -> list[Classification]:
    """Classify ``(text, language)`` pairs."""
    return [classify(text, language) for text, language in texts]
