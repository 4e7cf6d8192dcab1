"""The lexicon classifier: categories, negation, absence, off-topic posts, city extensions."""

from __future__ import annotations

import pytest

from incidents.categories import Category
from incidents.classify.lexicon import Lexicon, classify, classify_many, get_lexicon


@pytest.mark.parametrize(
    ("text", "language", "category"),
    [
        ("Trottoir bloqué par le chantier rue de Metz, on marche sur la route 😡", "fr", Category.WORKS_OBSTRUCTION),
        ("Roadworks have blocked the pavement for two weeks", "en", Category.WORKS_OBSTRUCTION),
        ("Bravo la mairie pour ce magnifique cratère 👏👏 on dirait la lune", "fr", Category.ROAD_SURFACE_POTHOLE),
        ("Massive pothole just burst my tyre", "en", Category.ROAD_SURFACE_POTHOLE),
        ("Tous les lampadaires éteints, c'est plongé dans le noir", "fr", Category.LIGHTING),
        ("feu rouge en panne au carrefour 🚦", "fr", Category.SIGNAGE_MARKING),
        ("Passage piéton tellement effacé qu'on ne le voit plus", "fr", Category.SIGNAGE_MARKING),
        ("Poubelles qui débordent, les rats s'en donnent à cœur joie 🐀", "fr", Category.WASTE_CLEANLINESS),
        ("Encore des tags sur la façade de l'école", "fr", Category.GRAFFITI_VANDALISM),
        ("A tree fell across the road after the storm", "en", Category.VEGETATION),
        ("Rue inondée à chaque averse, avaloir bouché", "fr", Category.DRAINAGE_FLOODING),
        ("Voitures garées sur le trottoir tous les jours", "fr", Category.TRAFFIC_PARKING),
        ("Il n'y a pas de passage piéton devant l'école", "fr", Category.PEDESTRIAN_CROSSING_SIDEWALK),
        ("La fontaine du square ne marche plus", "fr", Category.OTHER),
    ],
)
def test_categories(text, language, category):
    result = classify(text, language)
    assert result.is_relevant
    assert result.category == category
    assert 0 < result.score <= 1


@pytest.mark.parametrize(
    "text",
    [
        "Code promo TOULOUSE20 sur toute la boutique, livraison offerte 🛍️ lien en bio",
        "Giveaway! Win a bike, follow us and tag three friends",
        "Municipales : le candidat promet encore des pistes cyclables",
        "Quel match hier soir au Stadium !! Allez le TFC ⚽",
        "Merci pour le super feu d'artifice du 14 juillet 🎆",
        "La ligne de métro est super propre depuis la rénovation",
        "",
    ],
)
def test_off_topic_posts_are_not_relevant(text):
    result = classify(text)
    assert not result.is_relevant
    assert 0 <= result.relevance < 0.5


def test_negation_cancels_a_problem_word():
    assert classify("Pas de travaux ce matin finalement, tout roule").relevance < 0.5
    assert classify("No traffic at all this morning").relevance < 0.5
    assert "negated:travaux" in classify("Pas de travaux ce matin finalement").evidence


def test_absence_of_an_asset_is_the_problem():
    for text in ["Pas de trottoir du tout sur ce chemin", "Plus aucun éclairage dans la rue", "no sidewalk at all"]:
        result = classify(text)
        assert result.is_relevant, text
    assert classify("Plus aucun éclairage dans la rue").category == Category.LIGHTING


def test_conditional_negation_words():
    # "de plus en plus de trous" is more potholes, not none.
    assert classify("Il y a de plus en plus de trous sur la chaussée").category == Category.ROAD_SURFACE_POTHOLE
    assert classify("Il n'y a plus de bouchon le matin, enfin").relevance < 0.5
    # "pas mal de" is "quite a lot of".
    assert classify("pas mal de déchets sur le trottoir").category == Category.WASTE_CLEANLINESS


def test_language_specific_terms():
    assert classify("Encore des tags sur le mur", "fr").category == Category.GRAFFITI_VANDALISM
    assert not classify("tag your friends below", "en").is_relevant
    # Unknown language: every term applies.
    assert classify("des tags partout", "").category == Category.GRAFFITI_VANDALISM


def test_emoji_vote():
    result = classify("🚧🚧🚧 encore")
    assert result.category == Category.WORKS_OBSTRUCTION
    assert "works_obstruction:🚧" in result.evidence


def test_the_most_specific_term_wins_at_a_word():
    # "poussette*" (a pedestrian word) hides the vegetation prefix "pousse*".
    evidence = classify("impossible de passer avec une poussette").evidence
    assert not any(item.startswith("vegetation") for item in evidence)


def test_cause_beats_the_place_it_happens():
    assert classify("Branche tombée sur le trottoir").category == Category.VEGETATION
    assert classify("Dog poo all over the pavement").category == Category.WASTE_CLEANLINESS


def test_evidence_explains_the_decision():
    result = classify("Lampadaire en panne, code promo -50%")
    assert "lighting:lampadaire*" in result.evidence
    assert any(item.startswith("offtopic:promotion") for item in result.evidence)


def test_classify_many_matches_classify():
    pairs = [("Nid de poule rue de Metz", "fr"), ("Superbe concert", "fr"), ("Streetlight out", "en")]
    assert classify_many(pairs) == [classify(text, language) for text, language in pairs]


def test_a_city_extends_the_lexicon_with_its_own_file(tmp_path, settings):
    city = tmp_path / "lexicon.toml"
    city.write_text(
        '[categories.other]\nstrong = ["trottinette* en libre service"]\n'
        '[categories.drainage_flooding]\nstrong = ["garonne en crue"]\n',
        encoding="utf-8",
    )
    assert not classify("La Garonne en crue ce matin").is_relevant
    settings.INCIDENTS_LEXICON_FILE = str(city)
    result = classify("La Garonne en crue ce matin")
    assert result.category == Category.DRAINAGE_FLOODING
    # The default terms are still there.
    assert classify("Lampadaire en panne").category == Category.LIGHTING
    assert get_lexicon() is get_lexicon()


def test_a_broken_lexicon_says_what_to_fix(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[categories.potholes]\nstrong = ["trou"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="'potholes' is not a category code"):
        Lexicon.from_files(bad)
    bad.write_text('[categories.lighting]\nstrong = ["lampadaire"]\nabsence = ["lumiere"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="absence terms must also be strong, place or weak terms: lumiere"):
        Lexicon.from_files(bad)
