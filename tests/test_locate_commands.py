"""The locate/classify management commands, end to end against PostGIS."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from incidents.locate.gazetteer import clear_gazetteer_cache
from incidents.models import StreetSegment
from tests.fixture_streets import load_fixture_streets


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def metz(db):
    load_fixture_streets(["RUE DE METZ", "RUE D ALSACE LORRAINE"])
    clear_gazetteer_cache()


def test_explain_post_shows_location_and_classification(metz):
    output = run(
        "explain_post", "Énorme nid de poule au croisement rue de Metz / rue d'Alsace-Lorraine", "--lang", "fr"
    )
    assert "location: text" in output
    assert "accuracy: 10 m" in output
    assert 'matched: "rue de Metz / rue d\'Alsace-Lorraine"' in output
    assert "category: road_surface_pothole" in output
    assert "road_surface_pothole:nid* de poule*" in output


def test_explain_post_shows_who_is_affected_and_the_follow_up(metz):
    output = run(
        "explain_post",
        "Toujours pas réparé : trottoir fermé par le chantier, impossible avec la poussette",
        "--lang",
        "fr",
    )
    assert "category: pedestrian_crossing_sidewalk" in output
    assert "affects: pedestrians (Pedestrians), reduced_mobility (People with reduced mobility)" in output
    assert "follow-up: still (Still there)" in output
    assert "follow-up: none" in run("explain_post", "nid de poule")


def test_explain_post_reports_why_nothing_was_located(metz):
    output = run("explain_post", "nid de poule", "--place-bbox", "1.35,43.53,1.51,43.67", "--place-type", "city")
    assert "location: none" in output
    assert "is a whole city, not a location" in output


@pytest.mark.parametrize(("option", "value"), [("--lonlat", "1.44"), ("--place-bbox", "a,b,c,d")])
def test_explain_post_rejects_bad_numbers(metz, option, value):
    with pytest.raises(CommandError, match=f"{option} takes"):
        run("explain_post", "texte", option, value)


def test_normalize_street_names(metz):
    StreetSegment.objects.filter(name="RUE DE METZ").update(name_normalized="old key")
    stale = StreetSegment.objects.filter(name="RUE DE METZ").count()
    total = StreetSegment.objects.count()
    output = run("normalize_street_names")
    assert f"{stale} segments updated, {total - stale} unchanged" in output
    assert not StreetSegment.objects.filter(name_normalized="old key").exists()
