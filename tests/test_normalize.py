"""What people write and what the city publishes meet on one normalised key."""

import pytest

from incidents.locate.normalize import normalize_street_name, split_hashtag


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
