"""Landmarks, short forms, house numbers and position phrases, against real Toulouse streets in PostGIS."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.contrib.gis.geos import Point
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection

from incidents.locate.gazetteer import (
    COMMON_PLACE_WORDS,
    COMMON_WORDS,
    clear_gazetteer_cache,
    get_gazetteer,
    load_landmarks,
)
from incidents.locate.landmarks import GENERIC_WORDS, phrase_words, read_places
from incidents.locate.locator import Locator
from incidents.models import LocationMethod, StreetSegment
from tests.fixture_streets import FIXTURES, load_fixture_streets
from tests.test_locate import crossing_point, distance_to_street_m, metres_between, post

STREETS = [
    "RUE DE METZ",
    "RUE D ALSACE LORRAINE",
    "RUE DES CHANGES",
    "RUE DE LA POMME",
    "RUE SAINT ROME",
    "RUE DE REMUSAT",
    "RUE LAFAYETTE",
    "PL DU CAPITOLE",
    "PL DU PDT THOMAS WILSON",
    "PL ETIENNE ESQUIROL",
    "PL VICTOR HUGO",
    "PL DES CARMES",
    "ALL FORAIN FRANCOIS VERDIER",
    "BD PIERRE SEMARD",
    "RUE DE BAYARD",
    "RUE MERLY",
    "RUE DU TAUR",
    "RUE DES LOIS",
    "PONT NEUF",
    "PONT SAINT PIERRE",
    "RUE MONPLAISIR",  # in Toulouse and in Quint-Fonsegrives
    "BD MONPLAISIR",
]
LANDMARKS = read_places(FIXTURES.parent.parent / "incidents" / "locate" / "data" / "landmarks_toulouse.json")


def landmark(name: str):
    return next(spec for spec in LANDMARKS.landmarks if spec.name == name)


@pytest.fixture
def places(db, settings):
    """The Toulouse streets above in PostGIS and the default landmarks file."""
    settings.INCIDENTS_LANDMARKS_FILE = str(FIXTURES.parent.parent / "incidents/locate/data/landmarks_toulouse.json")
    load_fixture_streets(STREETS)
    clear_gazetteer_cache()
    return Locator.from_database()


def point_of(name: str) -> Point:
    spec = landmark(name)
    return Point(spec.lon, spec.lat, srid=4326)


# --- landmarks named alone ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "matched"),
    [
        ("Taxis garés n'importe comment devant la gare Matabiau 😤", "Gare Matabiau", "gare Matabiau"),
        ("Escalator en panne sortie métro Jean Jaurès", "Métro Jean Jaurès", "métro Jean Jaurès"),
        ("À côté du marché Victor Hugo, une plaque d'égout soulevée", "Marché Victor Hugo", "marché Victor Hugo"),
        ("Broken glass outside Matabiau train station", "Gare Matabiau", "Matabiau train station"),
        ("Lampadaires éteints autour du Grand Rond", "Jardin du Grand Rond", "Grand Rond"),
        ("Le mur du lycée Fermat est tagué", "Lycée Pierre de Fermat", "lycée Fermat"),
        ("Vélos à la station Jean-Jaurès", "Métro Jean Jaurès", "station Jean-Jaurès"),
        ("Encore fermé #GareMatabiau", "Gare Matabiau", "#GareMatabiau"),
    ],
)
def test_a_landmark_named_alone_is_located_there_with_its_extent(places, text, name, matched):
    location = places.locate(post(text))
    assert location.method == LocationMethod.TEXT
    assert metres_between(location, point_of(name)) < 1
    assert location.accuracy_m == landmark(name).radius_m
    assert location.matched_text == matched


def test_a_landmark_placed_by_its_street_is_that_street(places):
    square = places.locate(post("Lampadaire en panne place du Capitole"))
    for text in ["Manif au Capitole, les barrières bloquent le trottoir", "#Capitole bouché", "Capitole : trou"]:
        location = places.locate(post(text))
        assert distance_to_street_m(location, "PL DU CAPITOLE") < 1, text
        assert (location.lon, location.lat, location.accuracy_m) == (square.lon, square.lat, square.accuracy_m)


def test_a_post_at_a_landmark_is_on_the_street_the_file_names_or_the_nearest(places, settings, tmp_path):
    """The pipeline takes the post's segment on that street (the square, not the lane behind the church)."""
    assert places.locate(post("Broken glass outside Matabiau train station")).street == "boulevard pierre semard"
    assert places.locate(post("#Capitole bouché")).street == "place capitole"
    # A landmark the file places by a point only: the nearest street within its extent, or none.
    school = {"name": "École Test", "kind": "school", "lon": 1.4467, "lat": 43.6006, "radius_m": 60}
    lost = {"name": "Kiosque Perdu", "kind": "place", "lon": 1.40, "lat": 43.55, "radius_m": 60}
    path = tmp_path / "landmarks.json"
    path.write_text(json.dumps({"landmarks": [school, lost]}), encoding="utf-8")
    settings.INCIDENTS_LANDMARKS_FILE = str(path)
    locator = Locator.from_database()
    assert locator.locate(post("Tags sur le mur de l'école Test")).street == "rue metz"
    far = locator.locate(post("Tags sur le Kiosque Perdu"))
    assert far.found
    assert far.street == ""


def test_the_bare_name_of_a_square_needs_a_place_word(places):
    located = places.locate(post("Dépôt sauvage devant Victor Hugo, c'est dégueulasse"))
    assert distance_to_street_m(located, "PL VICTOR HUGO") < 1
    assert not places.locate(post("Un poème de Victor Hugo affiché sur la palissade")).found


@pytest.mark.parametrize(
    "text",
    [
        "la gare est bloquée, impossible de sortir",
        "devant le lycée les voitures roulent trop vite",
        "Le marché a laissé une montagne de déchets",
        "c'est grave, la Garonne déborde",  # a river is too long to locate a post
    ],
)
def test_generic_words_and_rivers_alone_locate_nothing(places, text):
    assert not places.locate(post(text)).found


# --- a street and a landmark ---------------------------------------------------------------------


def test_a_landmark_beside_the_named_street_narrows_it(places):
    whole = places.locate(post("Grille arrachée rue de Metz"))
    location = places.locate(post("Rue de Metz devant le musée des Augustins, grille arrachée"))
    assert distance_to_street_m(location, "RUE DE METZ") < 1
    assert metres_between(location, point_of("Musée des Augustins")) < 100
    assert location.accuracy_m < whole.accuracy_m / 3


def test_the_kind_of_landmark_alone_means_the_one_beside_the_street(places):
    location = places.locate(post("Rue Merly, le mur du lycée menace de tomber"))
    assert distance_to_street_m(location, "RUE MERLY") < 1
    assert metres_between(location, point_of("Lycée Ozenne")) <= location.accuracy_m
    # "le marché" is the market on the square; "la marche" (a step) is not.
    square = places.locate(post("Trou place des Carmes"))
    market = places.locate(post("Place des Carmes, à côté du marché, cagettes partout"))
    assert metres_between(market, point_of("Marché des Carmes")) <= market.accuracy_m
    assert market.accuracy_m < square.accuracy_m
    step = places.locate(post("La marche de l'escalier est cassée place des Carmes"))
    assert (step.lon, step.lat, step.accuracy_m) == (square.lon, square.lat, square.accuracy_m)


def test_two_landmarks_of_the_kind_beside_the_street_leave_it_whole(places, settings, tmp_path):
    east, west = (1.4505, 43.6007), (1.4425, 43.6000)  # two schools, at either end of rue de Metz
    schools = [{"name": f"École {side}", "kind": "school", "lon": lon, "lat": lat} for side, (lon, lat) in
               (("Est", east), ("Ouest", west))]  # fmt: skip
    path = tmp_path / "landmarks.json"
    path.write_text(json.dumps({"landmarks": schools}), encoding="utf-8")
    settings.INCIDENTS_LANDMARKS_FILE = str(path)
    locator = Locator.from_database()
    whole = locator.locate(post("Trottoir bloqué rue de Metz"))
    both = locator.locate(post("Rue de Metz, devant l'école, les voitures roulent trop vite"))
    assert both.accuracy_m == whole.accuracy_m
    one = locator.locate(post("Rue de Metz, devant l'école Est, voitures sur le trottoir"))
    assert metres_between(one, Point(*east, srid=4326)) < 30
    assert one.accuracy_m < whole.accuracy_m / 2


# --- short forms -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "official"),
    [
        ("pl. Wilson", "PL DU PDT THOMAS WILSON"),
        ("place du Président Wilson", "PL DU PDT THOMAS WILSON"),
        ("#PlaceWilson", "PL DU PDT THOMAS WILSON"),
        ("allées Verdier", "ALL FORAIN FRANCOIS VERDIER"),
        ("bd Sémard", "BD PIERRE SEMARD"),
        ("rue Alsace", "RUE D ALSACE LORRAINE"),
    ],
)
def test_short_forms_of_names_with_first_names_or_titles(places, written, official):
    location = places.locate(post(f"Trottoir bloqué {written} depuis ce matin"))
    assert location.method == LocationMethod.TEXT
    assert distance_to_street_m(location, official) < 1


def test_a_landmark_name_wins_over_a_street_guessed_without_its_type(places):
    load_fixture_streets(["RUE UNIVERSITE DU MIRAIL"])
    location = Locator.from_database().locate(post("Trottoir bloqué devant l'université du Mirail"))
    assert location.matched_text == "université du Mirail"
    assert metres_between(location, point_of("Université Toulouse Jean Jaurès")) < 1


def test_the_stated_accuracy_is_rounded_up(places, settings, tmp_path):
    path = tmp_path / "landmarks.json"
    kiosk = {"name": "Kiosque Arago", "lon": 1.45, "lat": 43.6, "radius_m": 20.24}
    path.write_text(json.dumps({"landmarks": [kiosk]}), encoding="utf-8")
    settings.INCIDENTS_LANDMARKS_FILE = str(path)
    assert Locator.from_database().locate(post("devant le kiosque Arago")).accuracy_m == 20.3


def test_a_prefix_ending_on_saint_is_no_name(places):
    # PONT SAINT PIERRE is the only name starting "pont saint": "pont Saint-Michel" is not it.
    location = places.locate(post("Piste cyclable inondée sur le pont Saint-Michel"))
    assert location.matched_text == "pont Saint-Michel"
    assert metres_between(location, point_of("Pont Saint-Michel")) < 1


# --- position phrases ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Rue de Metz, près du croisement avec la rue des Changes, une grille d'arbre manquante",
        "rue de Metz au croisement avec la rue des Changes : trou",
        "Pothole on rue de Metz near the junction with rue des Changes",
        "rue de Metz at the corner with rue des Changes: barriers",
        "rue des Changes à hauteur de la rue de Metz, bornes couchées",
    ],
)
def test_crossing_phrases(places, text):
    location = places.locate(post(text))
    assert metres_between(location, crossing_point("RUE DE METZ", "RUE DES CHANGES")) < 15
    assert location.accuracy_m <= 15


def test_a_crossing_with_a_street_named_without_its_type(places):
    location = places.locate(post("rue de Metz au croisement avec Alsace-Lorraine : feu en panne"))
    assert metres_between(location, crossing_point("RUE DE METZ", "RUE D ALSACE LORRAINE")) < 15


def test_level_with_a_street_that_does_not_meet_is_the_nearest_point(places):
    # Rue des Lois and rue de Rémusat come within ~80 m of each other without meeting.
    location = places.locate(post("rue des Lois à hauteur de la rue de Rémusat, pavés descellés"))
    assert distance_to_street_m(location, "RUE DES LOIS") < 1
    # (the local metric frame and the spheroid differ by less than 1 %)
    assert distance_to_street_m(location, "RUE DE REMUSAT") <= location.accuracy_m + 1 <= 90
    assert "do not meet" not in location.note
    # Said "au croisement", the same streets do not meet: the first is kept, with a note.
    crossing = places.locate(post("rue des Lois au croisement de la rue de Rémusat"))
    assert "do not meet" in crossing.note


def test_cote_is_the_half_of_the_street_towards_the_place(places):
    whole = places.locate(post("Trottoir fermé rue de Metz"))
    west, east = Point(1.44122, 43.59976, srid=4326), Point(1.4518, 43.60063, srid=4326)  # its two ends
    for text in ["Rue de Metz côté Garonne, le trottoir est fermé", "rue de Metz jusqu'au Pont Neuf, bouchon"]:
        location = places.locate(post(text))
        assert distance_to_street_m(location, "RUE DE METZ") < 1, text
        assert location.accuracy_m < whole.accuracy_m, text
        assert metres_between(location, west) <= location.accuracy_m < metres_between(location, east), text
    towards_verdier = places.locate(post("rue de Metz côté François Verdier : flaque énorme"))
    assert metres_between(towards_verdier, east) <= towards_verdier.accuracy_m < metres_between(towards_verdier, west)
    english = places.locate(post("Rue de Metz on the Garonne side: the pavement is closed"))
    assert (english.lon, english.lat) == (location.lon, location.lat)


@pytest.mark.parametrize(
    "text",
    [
        "Rue de Metz, de la rue des Changes jusqu'à la rue d'Alsace-Lorraine, tout le trottoir est barré",
        "Bouchon rue de Metz depuis la rue des Changes jusqu'à Alsace-Lorraine",
        "Roadworks on rue de Metz from rue des Changes up to rue d'Alsace-Lorraine",
    ],
)
def test_a_stretch_from_one_street_to_another(places, text):
    one = crossing_point("RUE DE METZ", "RUE DES CHANGES")
    two = crossing_point("RUE DE METZ", "RUE D ALSACE LORRAINE")
    location = places.locate(post(text))
    half = metres_between(one, two) / 2
    assert abs(metres_between(location, one) - metres_between(location, two)) < 15
    assert half <= location.accuracy_m <= half + 15


# --- house numbers -----------------------------------------------------------------------------


def address(street: str, number: str) -> Point:
    found = next(a for a in LANDMARKS.addresses if a.street == street and a.number == number)
    return Point(found.lon, found.lat, srid=4326)


@pytest.mark.parametrize(
    "text",
    ["Poubelles devant le 12 rue Monplaisir", "rue Monplaisir n°12 : trou", "Outside number 12 rue Monplaisir"],
)
def test_a_house_number_with_an_address_point(places, text):
    location = places.locate(post(text))
    assert metres_between(location, address("Rue Monplaisir", "12")) < 1
    assert location.accuracy_m == 20
    # RUE MONPLAISIR also exists in Quint-Fonsegrives: the number says which one.
    assert location.note == ""
    assert "12" in location.matched_text


def test_a_house_number_between_two_address_points(places):
    location = places.locate(post("au 28 rue Monplaisir, voiture ventouse"))
    between = address("Rue Monplaisir", "26"), address("Rue Monplaisir", "30")
    assert max(metres_between(location, point) for point in between) <= location.accuracy_m
    assert location.note == "number 28 placed between 26 and 30"


def test_a_house_number_without_address_points_keeps_the_whole_street(places):
    whole = places.locate(post("Fuite d'eau rue de Metz"))
    location = places.locate(post("Fuite d'eau au 41 rue de Metz"))
    assert (location.lon, location.lat, location.accuracy_m) == (whole.lon, whole.lat, whole.accuracy_m)
    assert "no address point for number 41 of RUE DE METZ" in location.note
    assert places.locate(post("Depuis 2014 rue de Metz c'est le bazar")).note == ""  # a year, not a number


# --- the landmarks file ------------------------------------------------------------------------


def test_the_toulouse_landmarks_are_where_their_source_says(places):
    """Each position checked against the street it stands on, by PostGIS; each street reference exists."""
    named = {name for spec in LANDMARKS.landmarks for name in (spec.on, spec.street) if name}
    load_fixture_streets(named - set(StreetSegment.objects.values_list("name", flat=True)))
    for spec in LANDMARKS.landmarks:
        assert spec.source, spec.name
        if spec.street:
            assert StreetSegment.objects.filter(name=spec.street).exists(), spec.name
        if spec.on:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT min(ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography)) "
                    f"FROM {StreetSegment._meta.db_table} WHERE name = %s",
                    [spec.lon, spec.lat, spec.on],
                )
                (distance,) = cursor.fetchone()
            assert distance <= max(spec.radius_m, 100), (spec.name, spec.on, distance)


def test_landmark_aliases_are_not_everyday_words():
    """An alias is matched anywhere in a text: one word must be a name ("Matabiau", "UT1"), not "grave"."""
    everyday = set(GENERIC_WORDS) | COMMON_WORDS | COMMON_PLACE_WORDS
    for spec in LANDMARKS.landmarks:
        for alias in spec.aliases:
            words = phrase_words(alias)
            assert " ".join(words) not in everyday, alias
            if len(words) == 1:
                assert len(words[0]) >= 5 or any(ch.isdigit() for ch in words[0]), alias


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"name": "Lycée X", "kind": "lycée", "lon": 1.44, "lat": 43.6}, "unknown kind 'lycée'; use one of"),
        ({"name": "Lycée X", "kind": "lycee"}, "give lon and lat, a street"),
        ({"name": "Lycée X", "lon": 1.44, "lat": 93.6}, "latitude 93.6 is out of range"),
    ],
)
def test_a_wrong_landmark_entry_says_which_and_how_to_fix_it(settings, tmp_path, entry, message):
    path = tmp_path / "landmarks.json"
    path.write_text(json.dumps({"landmarks": [entry]}), encoding="utf-8")
    settings.INCIDENTS_LANDMARKS_FILE = str(path)
    with pytest.raises(ImproperlyConfigured, match=r"landmarks\[0\] \('Lycée X'\): " + message):
        load_landmarks()


def test_the_first_file_format_still_reads(places, settings, tmp_path):
    """{"name", "lon", "lat"} only: a place of 100 m."""
    path = tmp_path / "landmarks.json"
    path.write_text(json.dumps({"landmarks": [{"name": "Fontaine du Griffoul", "lon": 1.45, "lat": 43.6}]}))
    settings.INCIDENTS_LANDMARKS_FILE = str(path)
    location = Locator.from_database().locate(post("Fontaine du Griffoul : fuite"))
    assert (location.lon, location.lat, location.accuracy_m) == (1.45, 43.6, 100)


def test_the_gazetteer_is_built_again_when_the_landmarks_file_changes(places, settings, tmp_path):
    path = tmp_path / "landmarks.json"
    path.write_text(json.dumps({"landmarks": []}), encoding="utf-8")
    settings.INCIDENTS_LANDMARKS_FILE = str(path)
    assert not Locator.from_database().locate(post("devant le kiosque Arago")).found
    path.write_text(json.dumps({"landmarks": [{"name": "Kiosque Arago", "lon": 1.45, "lat": 43.6}]}))
    assert Locator.from_database().locate(post("devant le kiosque Arago")).found


# --- manage.py import_landmarks ------------------------------------------------------------------


def run(*args) -> str:
    out = StringIO()
    call_command("import_landmarks", *args, stdout=out)
    return out.getvalue()


def test_import_landmarks_from_openstreetmap(places, settings, tmp_path):
    output = tmp_path / "city.json"
    printed = run(str(FIXTURES / "osm_busca_extract.osm"), "--output", str(output))
    assert "2 landmarks, 98 house numbers read" in printed
    assert "100 added, 0 already there" in printed
    again = run(str(FIXTURES / "osm_busca_extract.osm"), "--output", str(output))
    assert "0 added, 100 already there" in again
    imported = read_places(output)
    school = next(spec for spec in imported.landmarks if spec.name == "Institut des Jeunes Aveugles")
    assert (school.kind, round(school.lon, 4), round(school.lat, 4)) == ("school", 1.4566, 43.5924)
    assert "OpenStreetMap" in school.source
    settings.INCIDENTS_LANDMARKS_FILE = str(output)
    location = Locator.from_database().locate(post("Voiture sur le trottoir devant l'institut des jeunes aveugles"))
    assert metres_between(location, Point(school.lon, school.lat, srid=4326)) < 1


def test_import_landmarks_from_geojson_with_a_name_property(places, tmp_path):
    source = tmp_path / "ecoles.geojson"
    source.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"nom": "École Matabiau"},
                        "geometry": {"type": "Point", "coordinates": [1.4520, 43.6100]},
                    },
                    {
                        "type": "Feature",
                        "properties": {"autre": "sans nom"},
                        "geometry": {"type": "Point", "coordinates": [1.4521, 43.6101]},
                    },
                ],
            }
        ),
        encoding="utf-8",
    )
    output = tmp_path / "city.json"
    printed = run(str(source), "--output", str(output), "--name-property", "nom", "--kind", "school")
    assert "skipped 1: no 'nom' property" in printed
    (school,) = read_places(output).landmarks
    assert (school.name, school.kind, school.radius_m) == ("École Matabiau", "school", 100)


def test_import_landmarks_bad_input_says_how_to_fix_it(places, tmp_path):
    output = tmp_path / "city.json"
    nameless = tmp_path / "points.geojson"
    feature = {"type": "Feature", "properties": {"nom": "X"}, "geometry": {"type": "Point", "coordinates": [1.4, 43.6]}}
    nameless.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    with pytest.raises(CommandError, match="--name-property names another"):
        run(str(nameless), "--output", str(output))
    with pytest.raises(CommandError, match="cannot read"):
        run(str(tmp_path / "missing.geojson"), "--output", str(output))
    output.write_text("{broken", encoding="utf-8")
    with pytest.raises(CommandError, match="use --replace to write a new file"):
        run(str(nameless), "--output", str(output), "--name-property", "nom")
    assert "1 added" in run(str(nameless), "--output", str(output), "--name-property", "nom", "--replace")


def test_street_point_near_is_the_nearest_point_of_a_multi_part_street(places):
    """Compared with PostGIS: projecting along a multi-part line answered hundreds of metres away."""
    gazetteer = get_gazetteer()
    (street,) = gazetteer.by_key["rue metz"]
    target = Point(1.4425, 43.6010, srid=4326)
    x, y = street.point_near(*gazetteer.frame.to_xy(target.x, target.y))
    lon, lat = gazetteer.frame.to_lonlat(x, y)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT min(ST_Distance(geom::geography, %s::geography)) "
            f"FROM {StreetSegment._meta.db_table} WHERE name = %s",
            [target.ewkt, "RUE DE METZ"],
        )
        (nearest,) = cursor.fetchone()
    assert metres_between(Point(lon, lat, srid=4326), target) == pytest.approx(nearest, abs=1.0)
