"""The lexicon classifier: categories, negation, absence, off-topic posts, who is affected,
follow-ups, city extensions; and the taxonomy's related categories and incident category."""

from __future__ import annotations

import tomllib

import pytest

from incidents.categories import Affected, Category, FollowUp
from incidents.classify.lexicon import DEFAULT_LEXICON, Lexicon, classify, classify_many, get_lexicon
from incidents.classify.result import Classification
from incidents.classify.taxonomy import PRECEDENCE, family, incident_category, related


@pytest.mark.parametrize(
    ("text", "language", "category"),
    [
        ("Rue de Metz barrée pour travaux, déviation par les quais 🚧", "fr", Category.WORKS_OBSTRUCTION),
        ("Roadworks closed two lanes on the bridge", "en", Category.WORKS_OBSTRUCTION),
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
        ("Voiture abandonnée depuis 3 semaines, pare-brise cassé", "fr", Category.TRAFFIC_PARKING),
        ("Les 2 roues garés sur le trottoir, faut mettre des arceaux", "fr", Category.TRAFFIC_PARKING),
        ("Branchement d'eau : le trottoir est barré, on ne peut plus passer à pied", "fr",
         Category.PEDESTRIAN_CROSSING_SIDEWALK),
        ("4e jour sans trottoir pour les piétons. Vous attendez un accident ?", "fr",
         Category.PEDESTRIAN_CROSSING_SIDEWALK),
        ("Huge hole in the bike lane halfway across the bridge", "en", Category.ROAD_SURFACE_POTHOLE),
        ("20 cm d'eau sur la chaussée, les voitures font des vagues sur le trottoir", "fr",
         Category.DRAINAGE_FLOODING),
        ("Bench still broken and fresh tags on the arcades", "en", Category.GRAFFITI_VANDALISM),
        ("Shop stands and A-boards take the whole sidewalk, no way through with a wheelchair #accessibility", "en",
         Category.PEDESTRIAN_CROSSING_SIDEWALK),
        ("Feux tricolores éteints avenue Emmanuel Maignan, c'est la foire aux priorités", "fr",
         Category.SIGNAGE_MARKING),
        ("Rue Neuve fermée d'un coup, même pas un panneau au carrefour", "fr", Category.WORKS_OBSTRUCTION),
        ("Ils refont les feux et le passage piéton est condamné par des barrières", "fr",
         Category.PEDESTRIAN_CROSSING_SIDEWALK),
        ("Vitre de l'abribus explosée, du verre partout", "fr", Category.GRAFFITI_VANDALISM),
        ("Le chantier dure, le fauteuil ne passe nulle part", "fr", Category.PEDESTRIAN_CROSSING_SIDEWALK),
        # Cars on the pavement are parking even when people on foot end up on the road; a
        # branch keeps its category; works pushing them there are theirs (docs/taxonomy.md).
        ("Place Saint-Sernin, les voitures montent sur le trottoir, les piétons marchent dans la rue", "fr",
         Category.TRAFFIC_PARKING),
        ("Trottoirs encombrés de motos et scooters, avec mon déambulateur je passe par la rue", "fr",
         Category.TRAFFIC_PARKING),
        ("Livraisons sur le passage piéton tous les matins", "fr", Category.TRAFFIC_PARKING),
        ("Grosse branche tombée sur le trottoir, on passe par la route", "fr", Category.VEGETATION),
        ("Camions du chantier sur le trottoir, les piétons longent les voitures", "fr",
         Category.PEDESTRIAN_CROSSING_SIDEWALK),
        ("Chantier rue Alsace, les gens marchent au milieu de la rue", "fr", Category.PEDESTRIAN_CROSSING_SIDEWALK),
        ("Devant la gare Matabiau, trottoir défoncé", "fr", Category.PEDESTRIAN_CROSSING_SIDEWALK),
        # A lift or a fountain out of order is the machine's problem.
        ("Ascenseur du métro Capitole en panne, pas d'autre accès PMR", "fr", Category.OTHER),
        ("The escalator at Jeanne d'Arc station is still broken", "en", Category.OTHER),
        ("La fontaine est à sec et pleine de canettes", "fr", Category.OTHER),
        ("L'horodateur est éventré, impossible de payer", "fr", Category.GRAFFITI_VANDALISM),
        ("Bollards ripped out in front of the basilica", "en", Category.GRAFFITI_VANDALISM),
        ("Bancs tagués et une poubelle cramée cette nuit", "fr", Category.GRAFFITI_VANDALISM),
        ("Les tags sur l'école sont revenus, la mairie avait nettoyé fin août", "fr", Category.GRAFFITI_VANDALISM),
        ("L'abribus toujours sans vitre, on attend le bus sous la pluie ☔", "fr", Category.GRAFFITI_VANDALISM),
        ("La place est jonchée de cagettes et de papiers gras après le marché", "fr", Category.WASTE_CLEANLINESS),
        ("2 matelas et une armoire sur le trottoir depuis lundi", "fr", Category.WASTE_CLEANLINESS),
        ("lampadere HS depuis une semaine", "fr", Category.LIGHTING),
        ("Rue réduite à une voie pour un chantier, le bus reste coincé derrière les livraisons", "fr",
         Category.WORKS_OBSTRUCTION),
        ("Le passage piéton n'a jamais été repeint, on ne le voit plus", "fr", Category.SIGNAGE_MARKING),
        ("Abribus devant la gare Matabiau explosé, verre partout", "fr", Category.GRAFFITI_VANDALISM),
        ("Devant la gare, double voire triple file, les bus ne passent plus", "fr", Category.TRAFFIC_PARKING),
        # "50" is a size, not a "-50 %" sale.
        ("Un trou de 50 cm au milieu de la chaussée", "fr", Category.ROAD_SURFACE_POTHOLE),
        ("Les bacs n'ont pas été vidés cette semaine, l'odeur est insupportable", "fr", Category.WASTE_CLEANLINESS),
        ("Verre pilé partout sur la piste cyclable", "fr", Category.WASTE_CLEANLINESS),
        ("Poubelle brûlée cette nuit devant l'école", "fr", Category.GRAFFITI_VANDALISM),
        ("Someone set the bins on fire again behind the market", "en", Category.GRAFFITI_VANDALISM),
        ("Horodateur forcé au pied de biche cette nuit", "fr", Category.GRAFFITI_VANDALISM),
        ("Affiches sauvages sur toutes les armoires électriques de la rue", "fr", Category.GRAFFITI_VANDALISM),
        ("Le panneau stop est caché par une haie, personne ne le voit", "fr", Category.SIGNAGE_MARKING),
        ("Le lampadaire est caché par les branches du platane, la rue est sombre", "fr", Category.VEGETATION),
        ("The zebra crossing by the school has almost vanished", "en", Category.SIGNAGE_MARKING),
        ("L'écran des horaires de l'abribus est éteint depuis une semaine", "fr", Category.OTHER),
        ("Ça déborde de partout 💦 rue du Taur", "fr", Category.DRAINAGE_FLOODING),
    ],
)  # fmt: skip
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
        # Cues alone ("signalement", "depuis") name no problem.
        "Rien n'a bougé depuis mon signalement...",
        "La ligne de métro est super propre depuis la rénovation",
        "Le Jardin des Plantes est magnifique en ce moment 🍂 #Toulouse",
        "Toulouse by night depuis le Pont-Neuf, so pretty ✨",
        "Rassemblement samedi place du Capitole, on y sera",
        "Quelqu'un pour une sortie vélo dimanche le long du canal ?",
        "Vélorution vendredi 18h place du Capitole, venez avec vos sonnettes !",
        "Lost my sunglasses between place Wilson and the Capitole, if anyone finds them",
        "Merci aux agents de la propreté rue du Taur, c'est nickel 👏",
        "Les platanes du canal commencent à jaunir, l'automne arrive",
        "Journées du patrimoine : la queue fait le tour de la place",
        "Encore tombée dans le panneau, je suis trop naïve 🙃",
        "Ce soir sur les quais 🔥🔥",
        "Ça roule bien ce matin sur le périph, pour une fois",
        "Les bouchons de champagne ont sauté toute la nuit chez les voisins",
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
    assert classify("Voitures garées sur le trottoir tous les jours").category == Category.TRAFFIC_PARKING


@pytest.mark.parametrize(
    "text",
    [
        "Trottoir bloqué par le chantier rue de Metz, on marche sur la route 😡",
        "Roadworks have blocked the pavement for two weeks",
        "#travaux barrière posée en travers du passage piéton, on traverse où ??",
        "Scaffolding on the whole footpath, walking in the road next to buses",
        "Chantier rue Peyrolières : pas de déviation piétons",
    ],
)
def test_works_that_harm_people_on_foot_are_a_pedestrian_problem(text):
    result = classify(text)
    assert result.is_relevant
    assert result.category == Category.PEDESTRIAN_CROSSING_SIDEWALK


def test_works_named_more_than_the_harm_to_people_on_foot_yield_by_precedence():
    result = classify("#travaux barrière posée en travers du passage piéton, on traverse où ??")
    assert "pedestrian_crossing_sidewalk:precedence over works_obstruction" in result.evidence


@pytest.mark.parametrize(
    "text",
    [
        "Le chantier bloque l'entrée de mon garage depuis 3 jours",
        "Barrières de chantier posées sur la piste cyclable av de Grande-Bretagne",
        "Tranchée ouverte au milieu de la chaussée, juste 2 cônes",
        # A closed street is works, even without the word.
        "Rue des Pénitents-Gris barrée à nouveau, les riverains ne peuvent pas sortir leur voiture",
        "rue Gaston Salvayre barrée sans prévenir, aucune déviation",
        "Rue du Taur closed to traffic again, no diversion signposted",
    ],
)
def test_works_that_block_traffic_a_bike_lane_or_an_access_stay_works(text):
    result = classify(text)
    assert result.is_relevant
    assert result.category == Category.WORKS_OBSTRUCTION


def test_no_detour_is_not_a_negated_detour():
    assert "negated:deviation*" not in classify("Rue barrée, aucune déviation affichée").evidence


@pytest.mark.parametrize(
    "text",
    ["@seb_velotaf mdr", "@velo_rose lol welcome to Toulouse", "@anais_poussette t'as vu le score ?",
     "@fauteuil_libre @clara@piaille.fr merci !"],
)  # fmt: skip
def test_account_mentions_are_names_not_words(text):
    result = classify(text)
    assert not result.is_relevant
    assert result.affects == ()


def test_a_handle_the_lexicon_lists_still_counts():
    lexicon = get_lexicon()
    assert lexicon.without_mentions("@toulouse trou rue de Metz @velo_rose") == "@toulouse trou rue de Metz  "
    assert lexicon.without_mentions("écrivez à voirie@toulouse.fr") == "écrivez à voirie@toulouse.fr"


def test_a_sign_or_marking_named_as_much_as_the_works_is_signage():
    assert classify("Les lignes blanches ont disparu après les travaux").category == Category.SIGNAGE_MARKING
    # A missing sign at a trench named twice as works: the trench is the problem.
    assert classify("encore une tranchée ouverte pour travaux, aucun panneau").category == Category.WORKS_OBSTRUCTION


def test_a_precedence_needs_its_minimum_score():
    lexicon = Lexicon.from_dict(
        {
            "categories": {
                "works_obstruction": {"strong": ["chantier"]},
                "pedestrian_crossing_sidewalk": {"weak": ["marcher"], "place": ["trottoir"]},
            },
            "precedence": [
                {"category": "pedestrian_crossing_sidewalk", "over": ["works_obstruction"], "min_score": 0.6}
            ],
        }
    )
    assert lexicon.classify("chantier, marcher").category == Category.WORKS_OBSTRUCTION
    assert lexicon.classify("chantier, trottoir").category == Category.PEDESTRIAN_CROSSING_SIDEWALK


def test_a_rule_within_n_words_needs_its_terms_that_close():
    lexicon = Lexicon.from_dict(
        {
            "categories": {"traffic_parking": {"weak": ["voiture*"]}, "drainage_flooding": {"strong": ["eau"]}},
            "rules": [
                {"when": ["voiture*", "sur le trottoir"], "category": "traffic_parking", "weight": 2.0, "within": 3}
            ],
        }
    )
    assert lexicon.classify("de l'eau, des voitures garées sur le trottoir").category == Category.TRAFFIC_PARKING
    far = lexicon.classify("de l'eau sur le trottoir, les voitures roulent dedans")
    assert "traffic_parking:rule 1" not in far.evidence
    assert far.category == Category.DRAINAGE_FLOODING


@pytest.mark.parametrize(
    ("text", "language", "affects"),
    [
        (
            "Trottoir fermé par le chantier, on marche sur la route avec la poussette",
            "fr",
            {"pedestrians", "reduced_mobility"},
        ),
        (
            "Voitures garées sur le trottoir, les fauteuils roulants ne passent plus",
            "fr",
            {"pedestrians", "reduced_mobility"},
        ),
        ("Barrières de chantier sur la piste cyclable", "fr", {"cyclists"}),
        ("Rue barrée pour travaux, déviation par les quais", "fr", {"motor_vehicles"}),
        ("Feu piéton en panne au carrefour", "fr", {"pedestrians"}),
        ("Feu tricolore en panne au carrefour", "fr", {"motor_vehicles"}),
        ("Huge pothole in the bus lane, buses jump every time", "en", {"public_transport"}),
        ("Blind people can't find the crossing, no tactile paving", "en", {"pedestrians", "reduced_mobility"}),
        ("Massive pothole just burst my tyre", "en", {"motor_vehicles"}),
        # A tyre with a bike named is the cyclist's.
        ("Gros trou dans la piste cyclable, j'ai crevé mon pneu de vélo", "fr", {"cyclists"}),
        ("Lampadaire en panne depuis 2 semaines", "fr", set()),
    ],
)
def test_who_is_affected(text, language, affects):
    assert set(classify(text, language).affects) == affects


def test_a_group_named_only_as_the_cause_is_not_affected():
    result = classify("Encore des voitures garées sur le trottoir, les poussettes passent sur la route")
    assert Affected.MOTOR_VEHICLES not in result.affects
    assert Affected.PEDESTRIANS in result.affects


def test_affects_are_sorted_whatever_the_order_of_the_words():
    one = classify("bus stop flooded, wheelchair users and cyclists stuck").affects
    other = classify("cyclists and wheelchair users stuck, bus stop flooded").affects
    assert one == other == tuple(sorted(one))
    assert all(isinstance(value, Affected) for value in one)


def test_affects_are_not_negated():
    # The absence of a sidewalk is what harms people on foot.
    assert classify("Pas de trottoir du tout sur ce chemin").affects == (Affected.PEDESTRIANS,)


@pytest.mark.parametrize(
    ("text", "language", "follow_up"),
    [
        ("c'est réparé, merci !", "fr", FollowUp.FIXED),
        ("fixed now, thanks", "en", FollowUp.FIXED),
        ("Le passage piéton a été rouvert ce matin", "fr", FollowUp.FIXED),
        ("toujours pas réparé", "fr", FollowUp.STILL),
        ("Toujours là.", "fr", FollowUp.STILL),
        ("tjrs rien de fait 1 semaine après 🙄", "fr", FollowUp.STILL),
        ("still not fixed", "en", FollowUp.STILL),
        ("it hasn't been fixed", "en", FollowUp.STILL),
        ("Rien n'a bougé depuis mon signalement...", "fr", FollowUp.STILL),
        ("pareil ce matin", "fr", FollowUp.SAME),
        ("same here", "en", FollowUp.SAME),
        ("+1", "fr", FollowUp.SAME),
        ("+1000", "", FollowUp.SAME),
        ("idem", "fr", FollowUp.SAME),
        ("Nid de poule rue de Metz depuis 1 mois", "fr", None),
        ("Encore un trou rue de Metz", "fr", None),
        # A wish is no news.
        ("Lampadaire en panne, il faudrait qu'il soit réparé avant l'hiver", "fr", None),
        ("This pothole needs to be fixed asap", "en", None),
        ("1 lampadaire sur 2 en panne", "fr", None),
    ],
)
def test_follow_ups(text, language, follow_up):
    assert classify(text, language).follow_up == follow_up


def test_of_still_and_fixed_the_last_said_wins_and_same_says_least():
    assert classify("was still broken yesterday, fixed now").follow_up == FollowUp.FIXED
    assert classify("Réparé ?? toujours pas !").follow_up == FollowUp.STILL
    assert classify("Pareil, toujours pas réparé").follow_up == FollowUp.STILL


def test_side_terms_change_neither_relevance_nor_category():
    """A follow-up alone keeps the relevance its words give it: the pipeline decides with the parent."""
    with open(DEFAULT_LEXICON, "rb") as handle:
        data = tomllib.load(handle)
    without = Lexicon.from_dict({key: value for key, value in data.items() if key not in {"affects", "follow_up"}})
    texts = [
        "c'est réparé, merci !",
        "toujours pas réparé",
        "+1 same here",
        "The streetlight has been fixed, thank you!",
        "pareil rue du Taur, trottoir fermé par le chantier et rien pour les piétons",
        "Voitures garées sur la piste cyclable, les vélos passent dans la circulation",
    ]
    for text in texts:
        with_side, plain = classify(text), without.classify(text)
        assert (with_side.relevance, with_side.category, with_side.score) == (
            plain.relevance,
            plain.category,
            plain.score,
        ), text
        assert plain.affects == ()
        assert plain.follow_up is None
    assert not classify("c'est réparé, merci !").is_relevant
    assert not classify("still not fixed").is_relevant
    assert classify("The streetlight has been fixed, thank you!").category == Category.LIGHTING


def test_new_fields_have_defaults():
    result = Classification(relevance=1.0, category=Category.OTHER, score=1.0)
    assert result.affects == ()
    assert result.follow_up is None


def test_evidence_explains_the_decision():
    result = classify("Lampadaire en panne, code promo -50%")
    assert "lighting:lampad*" in result.evidence
    assert any(item.startswith("offtopic:promotion") for item in result.evidence)


def test_classify_many_matches_classify():
    pairs = [("Nid de poule rue de Metz", "fr"), ("Superbe concert", "fr"), ("Streetlight out", "en")]
    assert classify_many(pairs) == [classify(text, language) for text, language in pairs]


def test_a_city_extends_the_lexicon_with_its_own_file(tmp_path, settings):
    city = tmp_path / "lexicon.toml"
    city.write_text(
        '[categories.other]\nstrong = ["trottinette* en libre service"]\n'
        '[categories.drainage_flooding]\nstrong = ["garonne en crue"]\n'
        '[affects.public_transport]\nwords = ["lineo*"]\n'
        '[follow_up]\nsame = ["itou"]\n',
        encoding="utf-8",
    )
    assert not classify("La Garonne en crue ce matin").is_relevant
    assert classify("Le Linéo 1 inondé, itou").affects == ()
    settings.INCIDENTS_LEXICON_FILE = str(city)
    result = classify("La Garonne en crue ce matin")
    assert result.category == Category.DRAINAGE_FLOODING
    result = classify("Le Linéo 1 inondé, itou")
    assert result.affects == (Affected.PUBLIC_TRANSPORT,)
    assert result.follow_up == FollowUp.SAME
    # The default terms are still there.
    assert classify("Lampadaire en panne").category == Category.LIGHTING
    assert get_lexicon() is get_lexicon()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[categories.potholes]\nstrong = ["trou"]\n', "'potholes' is not a category code"),
        (
            '[categories.lighting]\nstrong = ["lampadaire"]\nabsence = ["lumiere"]\n',
            "absence terms must also be strong, place or weak terms: lumiere",
        ),
        ('[affects.walkers]\nwords = ["pieton"]\n', "affects 'walkers' is not one of pedestrians, reduced_mobility"),
        ('[follow_up]\nrepaired = ["repare"]\n', "follow_up: repaired is not one of still, fixed, same, wish"),
        (
            '[[precedence]]\ncategory = "pedestrian"\nover = ["works_obstruction"]\n',
            "precedence 1: pedestrian is not a category code",
        ),
        (
            '[[rules]]\nwhen = ["voiture*", "trottoir"]\ncategory = "traffic_parking"\nwithin = -1\n',
            "rule 1: within must be a number of words, 0 or more",
        ),
    ],
)
def test_a_broken_lexicon_says_what_to_fix(tmp_path, content, message):
    bad = tmp_path / "bad.toml"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        Lexicon.from_files(bad)


def test_related_categories():
    works, crossing, marking = "works_obstruction", "pedestrian_crossing_sidewalk", "signage_marking"
    for a in (works, crossing, marking):
        for b in (works, crossing, marking):
            assert related(a, b)
    assert not related(works, Category.ROAD_SURFACE_POTHOLE)
    assert not related(Category.LIGHTING, crossing)
    assert related(Category.LIGHTING, Category.LIGHTING)
    assert family(Category.LIGHTING) == {Category.LIGHTING}
    assert family(works) == {
        Category.WORKS_OBSTRUCTION,
        Category.PEDESTRIAN_CROSSING_SIDEWALK,
        Category.SIGNAGE_MARKING,
    }


def test_the_incident_category_is_the_most_frequent_then_pedestrian_harm_first():
    works, crossing, marking = "works_obstruction", "pedestrian_crossing_sidewalk", "signage_marking"
    assert incident_category({works: 3, crossing: 1}) == Category.WORKS_OBSTRUCTION
    assert incident_category({works: 1, crossing: 1}) == Category.PEDESTRIAN_CROSSING_SIDEWALK
    assert incident_category({marking: 2, works: 2, crossing: 1}) == Category.WORKS_OBSTRUCTION
    assert incident_category({marking: 1, crossing: 0}) == Category.SIGNAGE_MARKING
    assert incident_category({"other": 1, "lighting": 1}) == Category.LIGHTING
    # The order of the mapping does not matter.
    assert incident_category({crossing: 2, works: 2}) == incident_category({works: 2, crossing: 2})
    with pytest.raises(ValueError, match="at least one post"):
        incident_category({works: 0})
    with pytest.raises(ValueError, match="is not a valid Category"):
        incident_category({"potholes": 1})


def test_the_precedence_orders_every_category_once():
    assert sorted(PRECEDENCE) == sorted(Category)
    assert PRECEDENCE[0] == Category.PEDESTRIAN_CROSSING_SIDEWALK
    assert PRECEDENCE[-1] == Category.OTHER


def test_a_rule_part_may_be_any_of_several_terms(tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text(
        '[categories.waste_cleanliness]\nstrong = ["conteneur*", "bin"]\n'
        '[categories.graffiti_vandalism]\nweak = ["brule*"]\n'
        '[[rules]]\nwhen = [["conteneur*", "bin"], ["brule*", "on fire"]]\n'
        'category = "graffiti_vandalism"\nweight = 2.0\nwithin = 4\n',
        encoding="utf-8",
    )
    lexicon = Lexicon.from_files(rules)
    for text in ["Un conteneur brûlé cette nuit", "the bin is on fire again", "bin set on fire"]:
        result = lexicon.classify(text)
        assert result.category == Category.GRAFFITI_VANDALISM, text
        assert "graffiti_vandalism:rule 1" in result.evidence
    # Both parts, near each other: one part twice is not the rule.
    assert lexicon.classify("conteneur plein, un autre conteneur à côté").category == Category.WASTE_CLEANLINESS
    assert lexicon.classify("conteneur plein devant l'école, et plus loin tout a brûlé").category == (
        Category.WASTE_CLEANLINESS
    )


@pytest.mark.parametrize(
    ("text", "names", "category"),
    [
        # pigeons, fountains, a bridge: the street's or place's name, not the problem
        ("Nid de poule énorme rue des Trois-Pigeons", ("rue des Trois-Pigeons",), Category.ROAD_SURFACE_POTHOLE),
        ("Noir total sur le Pont-Neuf, les lampes sont HS", ("Pont-Neuf",), Category.LIGHTING),
        ("Rue des Fontaines : chaussée affaissée sur 2 m", ("Rue des Fontaines",), Category.ROAD_SURFACE_POTHOLE),
    ],
)
def test_the_words_of_a_name_are_not_evidence(text, names, category):
    lexicon = get_lexicon()
    assert lexicon.classify_named(text, "fr", names).category == category
    # Names with no word that votes change nothing.
    assert lexicon.classify_named("Trou rue de Metz", "fr", ("rue de Metz",)) is None


def test_a_name_that_was_all_the_evidence_leaves_a_post_about_a_street():
    """The name stands for a place: a post about "rue des Trois-Pigeons" and nothing else is no report."""
    lexicon = get_lexicon()
    assert lexicon.classify("Apéro rue des Trois-Pigeons ce soir ?").category == Category.WASTE_CLEANLINESS
    named = lexicon.classify_named("Apéro rue des Trois-Pigeons ce soir ?", "fr", ("rue des Trois-Pigeons",))
    assert not named.is_relevant
    assert named.category == Category.OTHER


@pytest.mark.parametrize(
    "text",
    [
        "Rue Cujas barrée depuis lundi, plus aucun client ne passe devant la boutique. Le chantier devait durer 1 mois",
        "Jeanne d'Arc toujours pas ramassé, les poubelles débordent, ça sent jusque dans la boutique",
    ],
)
def test_a_shop_is_no_promotion(text):
    """Shopkeepers report too: "la boutique" is where they stand, not an advert."""
    assert classify(text).is_relevant


@pytest.mark.parametrize(
    "text",
    [
        "Mon cerveau est en travaux depuis la rentrée, déviation obligatoire par le café ☕",
        "Inondée de factures et de relances, la rentrée c'est un dégât des eaux administratif",
        "Flooded with assignments already and it's only week 2 😭 #unilife",
        "📢 Votre pub sur nos panneaux lumineux bd de Strasbourg, 10 000 passages par jour ! Contactez-nous",
    ],
)
def test_metaphors_and_adverts_are_not_reports(text):
    assert not classify(text).is_relevant


def test_an_injury_is_no_vandalism():
    assert classify("Ma mère s'est pris les pieds dedans, poignet cassé").category != Category.GRAFFITI_VANDALISM
    assert classify("Abribus cassé cette nuit rue de Metz").category == Category.GRAFFITI_VANDALISM


@pytest.mark.parametrize(
    "text",
    [
        "@maeva_ab Hors sujet mais ta photo de profil est géniale 😂",
        "(au passage, quelqu'un aurait un diable à me prêter pour samedi ?)",
        "Notre défense avait des nids-de-poule partout ce soir, 3 essais encaissés 🏉",
        "Traffic in Toulouse is nothing compared to London, stop complaining guys 😂",
    ],
)
def test_asides_and_jokes_in_a_conversation_are_not_reports(text):
    assert not classify(text).is_relevant
