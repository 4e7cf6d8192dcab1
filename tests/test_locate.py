"""The locator against real Toulouse street segments stored in PostGIS."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import GEOSGeometry, Point
from django.db import connection

from incidents.locate.gazetteer import clear_gazetteer_cache, get_gazetteer, renormalize_street_names
from incidents.locate.locator import GPS_ACCURACY_M, Locator
from incidents.locate.normalize import normalize_street_name
from incidents.locate.place import MIN_PLACE_ACCURACY_M
from incidents.models import LocationMethod, StreetSegment
from incidents.sources.record import PostRecord
from tests.conftest import CAPITOLE, offset, paris
from tests.fixture_streets import load_fixture_streets

TOULOUSE_BBOX = (1.350, 43.533, 1.515, 43.669)
CENTRAL_STREETS = [
    "RUE D ALSACE LORRAINE",
    "RUE DE METZ",
    "RUE DE REMUSAT",
    "PL DU CAPITOLE",
    "RUE DU TAUR",
    "RUE LAFAYETTE",
    "RUE DE BAYARD",
    "RUE PIERRE PAUL RIQUET",
    # In three communes: Toulouse, Cornebarrieu, Lespinasse.
    "RUE SAINT JEAN",
    "RUE SAINT-JEAN",
]


@pytest.fixture
def streets(db):
    """A real subset of the Toulouse fixture streets, stored as StreetSegment rows."""
    load_fixture_streets(CENTRAL_STREETS)
    clear_gazetteer_cache()
    return Locator.from_database()


def post(text: str = "", **fields) -> PostRecord:
    return PostRecord(source="test", external_id="1", text=text, posted_at=paris(2024, 3, 1), **fields)


def distance_to_street_m(location, name: str, commune: str | None = None) -> float:
    """Metres from ``location`` to the named street, measured by PostGIS geography."""
    segments = StreetSegment.objects.filter(name=name)
    if commune:
        segments = segments.filter(commune__iexact=commune)
    point = Point(location.lon, location.lat, srid=4326)
    return min(segment.distance_m for segment in segments.near(point, 100_000))


def crossing_point(name_a: str, name_b: str) -> Point:
    """Where two streets meet, computed by PostGIS."""
    table = StreetSegment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT ST_AsText(ST_Centroid(ST_Intersection(
                (SELECT ST_Union(geom) FROM {table} WHERE name = %s),
                (SELECT ST_Union(geom) FROM {table} WHERE name = %s))))
            """,
            [name_a, name_b],
        )
        (wkt,) = cursor.fetchone()
    return GEOSGeometry(wkt, srid=4326)


def metres_between(location, point: Point) -> float:
    """Metres between a location (or a point) and ``point``, by PostGIS geography."""
    lon, lat = (location.x, location.y) if isinstance(location, Point) else (location.lon, location.lat)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_Distance(ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, ST_GeomFromEWKT(%s)::geography)",
            [lon, lat, point.ewkt],
        )
        return cursor.fetchone()[0]


# --- GPS -------------------------------------------------------------------------------


def test_gps_wins_over_everything(streets):
    location = streets.locate(post("Trottoir bloqué rue de Metz", lon=1.4501, lat=43.6101))
    assert location.method == LocationMethod.GPS
    assert (location.lon, location.lat, location.accuracy_m) == (1.4501, 43.6101, GPS_ACCURACY_M)


@pytest.mark.parametrize(("lon", "lat"), [(0.0, 0.0), (200.0, 43.6), (1.44, 95.0)])
def test_broken_gps_falls_back_to_the_text(streets, lon, lat):
    location = streets.locate(post("Trottoir bloqué rue de Metz", lon=lon, lat=lat))
    assert location.method == LocationMethod.TEXT
    assert distance_to_street_m(location, "RUE DE METZ") < 1


# --- street names ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "RUE DE METZ",
        "rue de Metz",
        "Rue De Metz",
        "r. de metz",
        "rue Metz",
        "rue de metz!!",
    ],
)
def test_street_name_written_many_ways(streets, written):
    location = streets.locate(post(f"Trottoir bloqué {written} depuis ce matin 😡"))
    assert location.method == LocationMethod.TEXT
    assert distance_to_street_m(location, "RUE DE METZ") < 1
    assert location.matched_text.lower().startswith(written.lower().rstrip("!"))
    # The accuracy covers the whole street: Rue de Metz is ~900 m long.
    assert 300 < location.accuracy_m < 700


@pytest.mark.parametrize(
    ("written", "official"),
    [
        ("rue d'Alsace-Loraine", "RUE D ALSACE LORRAINE"),  # missing letter
        ("Rue d’Alsace Lorraine", "RUE D ALSACE LORRAINE"),  # typographic apostrophe
        ("rue d'alsace lorrainne", "RUE D ALSACE LORRAINE"),  # doubled letter
        ("rue de Remusat", "RUE DE REMUSAT"),  # accent missing: matches the official spelling
        ("rue de Rémusat", "RUE DE REMUSAT"),
        ("RUE DE RÉMUSAT", "RUE DE REMUSAT"),
        ("rue Lafayete", "RUE LAFAYETTE"),
        ("boulevrd... non, rue du Taur", "RUE DU TAUR"),
        ("rue Riquet", "RUE PIERRE PAUL RIQUET"),  # short form without first names
        ("rue Paul Riquet", "RUE PIERRE PAUL RIQUET"),
        ("avenue de Rémusat", "RUE DE REMUSAT"),  # wrong street type (long name: short ones must match exactly)
    ],
)
def test_typos_accents_and_short_forms(streets, written, official):
    location = streets.locate(post(f"Gros nid de poule {written}, attention"))
    assert location.method == LocationMethod.TEXT
    assert distance_to_street_m(location, official) < 1


@pytest.mark.parametrize("name", ["RUE DU LANGUEDOC", "RUE DE METZ"])
def test_a_street_level_point_is_nearest_the_street_it_names(db, name):
    """Not at a junction, where the segment chosen for the post could be the other street's."""
    # Rue du Languedoc's point nearest its centroid is where it meets place des Carmes and rue du Canard.
    load_fixture_streets(["RUE DU LANGUEDOC", "PL DES CARMES", "RUE DU CANARD", "RUE BOUQUIERES", "RUE DE METZ"])
    clear_gazetteer_cache()
    location = Locator.from_database().locate(post(f"Lampadaire en panne {name.lower()} à Toulouse"))
    nearest = StreetSegment.objects.near(Point(location.lon, location.lat, srid=4326), 200).order_by("distance_m")
    assert nearest[0].name == name
    assert nearest[0].distance_m < 0.5
    assert all(other.distance_m > 2 for other in nearest if other.name != name)


def test_misspelt_street_type(streets):
    location = streets.locate(post("Lampadaire en panne Plaçe du Capitole"))
    assert distance_to_street_m(location, "PL DU CAPITOLE") < 1
    location = streets.locate(post("Lampadaire en panne Plasse du Capitole"))
    # "plasse" is two edits from "place": not read as a type (only "Capitole", a landmark, is).
    assert location.matched_text == "Capitole"


@pytest.mark.parametrize("tag", ["#RueDeMetz", "#ruedemetz", "#RueMetz", "#rue_de_metz", "#RueDAlsaceLorraine"])
def test_hashtags(streets, tag):
    location = streets.locate(post(f"Encore fermé {tag} 🚧"))
    assert location.method == LocationMethod.TEXT
    expected = "RUE D ALSACE LORRAINE" if "Alsace" in tag else "RUE DE METZ"
    assert distance_to_street_m(location, expected) < 1
    assert tag.lstrip("#").split("_")[0].lower() in location.matched_text.lower()


def test_a_name_without_type_after_a_preposition(streets):
    location = streets.locate(post("Bouchon énorme sur Alsace Lorraine ce matin"))
    assert distance_to_street_m(location, "RUE D ALSACE LORRAINE") < 1


def test_words_that_only_look_like_streets_locate_nothing(streets):
    for text in [
        "il n'y a pas de place pour les vélos dans cette rue",
        "Super concert ce soir au Bikini 🎶",
        "les cours de yoga reprennent",
    ]:
        assert not streets.locate(post(text)).found, text


# --- crossings -----------------------------------------------------------------------------


METZ, ALSACE = "RUE DE METZ", "RUE D ALSACE LORRAINE"


@pytest.mark.parametrize(
    ("text", "first", "second"),
    [
        ("Bouchon au croisement de la rue de Metz et de la rue d'Alsace-Lorraine", METZ, ALSACE),
        ("Accident à l'angle rue de Metz / rue d'Alsace Lorraine", METZ, ALSACE),
        ("angle Metz / Alsace Lorraine : feu en panne", METZ, ALSACE),
        # Two names without type joined by a symbol, no cue: the streets meet, so it is a crossing.
        ("Metz / Alsace Lorraine : feu en panne", METZ, ALSACE),
        ("Metz x Alsace-Lorraine, le marquage a disparu", METZ, ALSACE),
        ("à l'angle de la rue d'Alsace-Lorraine et de la rue de Metz, trottoir défoncé", ALSACE, METZ),
        ("Feu en panne carrefour rue de Metz x rue d'Alsace", METZ, ALSACE),
        ("rue de Metz, au croisement avec la rue d'Alsace-Lorraine : travaux", METZ, ALSACE),
        ("Intersection #RueDeMetz & rue d'Alsace-Lorraine inondée", METZ, ALSACE),
        ("Nid de poule rue d'Alsace-Lorraine, angle rue de Metz", ALSACE, METZ),
        ("Scaffolding where rue de Metz meets rue d'Alsace-Lorraine", METZ, ALSACE),
        ("Big pothole on rue de Metz right by rue d'Alsace-Lorraine", METZ, ALSACE),
        ("rue d'Alsace-Lorraine près de la rue de Metz, trottoir défoncé", ALSACE, METZ),
        # Other words first, then the cue right before the second street.
        ("Rue de Metz barrée ce matin au croisement de la rue d'Alsace-Lorraine", METZ, ALSACE),
        ("Rue de Metz still closed at rue d'Alsace-Lorraine", METZ, ALSACE),
        ("Rue de Metz, au débouché sur la rue d'Alsace-Lorraine : le réverbère est mort", METZ, ALSACE),
    ],
)
def test_crossings_resolve_to_the_intersection_on_the_street_named_first(streets, text, first, second):
    """A junction is as near both streets: the point is on the first, so its nearest segment is one of it."""
    location = streets.locate(post(text))
    assert location.method == LocationMethod.TEXT
    assert metres_between(location, crossing_point(METZ, ALSACE)) < 6
    assert location.accuracy_m <= 15
    assert distance_to_street_m(location, first) < 0.5
    assert distance_to_street_m(location, second) > 2
    assert location.street == normalize_street_name(first)


def test_names_without_type_joined_by_a_symbol_are_streets_only_where_they_meet(streets):
    # Rue du Taur and rue de Metz do not meet: "Taur / Metz" says nothing of a place.
    assert not streets.locate(post("Taur / Metz, c'est pareil")).found


def test_a_short_name_joined_by_a_symbol_is_a_crossing(db):
    load_fixture_streets(["ALL PAUL FEUGA", "RUE DES SABOTS"])
    clear_gazetteer_cache()
    location = Locator.from_database().locate(post("Feuga / Sabots : les racines soulèvent tout le trottoir"))
    assert location.method == LocationMethod.TEXT
    assert location.accuracy_m <= 15
    assert metres_between(location, crossing_point("ALL PAUL FEUGA", "RUE DES SABOTS")) < 6
    assert location.street == normalize_street_name("ALL PAUL FEUGA")


def test_streets_that_do_not_meet_keep_the_first_with_a_note(streets):
    location = streets.locate(post("au croisement de la rue du Taur et de la rue de Metz"))
    assert distance_to_street_m(location, "RUE DU TAUR") < 1
    assert "do not meet" in location.note


def test_between_two_streets_is_the_middle_of_that_stretch(streets):
    location = streets.locate(post("Rue d'Alsace-Lorraine entre la rue de Metz et la rue de Rémusat, trottoir bloqué"))
    one = crossing_point("RUE D ALSACE LORRAINE", "RUE DE METZ")
    two = crossing_point("RUE D ALSACE LORRAINE", "RUE DE REMUSAT")
    assert distance_to_street_m(location, "RUE D ALSACE LORRAINE") < 1
    # Halfway along the stretch, and known to within half its length.
    half = metres_between(one, two) / 2
    assert abs(metres_between(location, one) - metres_between(location, two)) < 0.2 * half
    assert location.accuracy_m == pytest.approx(half, rel=0.05)


# --- names found in several communes ----------------------------------------------------------


def test_ambiguous_name_without_evidence_is_coarse_and_says_so(streets):
    location = streets.locate(post("Lampadaire en panne rue Saint-Jean"))
    assert location.method == LocationMethod.TEXT
    assert "3 communes" in location.note
    assert "no other evidence" in location.note
    # Kept in the main commune, with an accuracy covering the other candidates (~13 km away).
    assert distance_to_street_m(location, "RUE SAINT JEAN", "TOULOUSE") < 1
    assert location.accuracy_m > 5_000


@pytest.mark.parametrize(
    ("text", "commune", "name"),
    [
        ("Lampadaire en panne rue Saint-Jean à Lespinasse", "LESPINASSE", "RUE SAINT-JEAN"),
        ("Lampadaire en panne rue St Jean #Cornebarrieu", "CORNEBARRIEU", "RUE SAINT JEAN"),
        ("Lampadaire en panne rue Saint-Jean (Toulouse)", "TOULOUSE", "RUE SAINT JEAN"),
    ],
)
def test_commune_named_in_the_text_resolves_the_ambiguity(streets, text, commune, name):
    location = streets.locate(post(text))
    assert location.note == ""
    assert distance_to_street_m(location, name, commune) < 1
    assert location.accuracy_m < 500


def test_place_box_resolves_the_ambiguity(streets):
    # A city-level place locates nothing by itself, but says which commune is meant.
    location = streets.locate(post("Lampadaire en panne rue Saint-Jean", place_bbox=TOULOUSE_BBOX, place_type="city"))
    assert location.note == ""
    assert distance_to_street_m(location, "RUE SAINT JEAN", "TOULOUSE") < 1


def test_another_street_of_the_post_resolves_the_ambiguity(streets, make_segment):
    # A second "Rue Lafayette" 20 km away: the Capitole square named in the post decides.
    far = [(offset(CAPITOLE, east_m=20_000).x, CAPITOLE.y), (offset(CAPITOLE, east_m=20_100).x, CAPITOLE.y)]
    make_segment("RUE LAFAYETTE", far, commune="QUINT-FONSEGRIVES")
    locator = Locator.from_database()
    location = locator.locate(post("Travaux rue Lafayette, tout près de la place du Capitole"))
    assert location.note == ""
    assert distance_to_street_m(location, "RUE LAFAYETTE", "TOULOUSE") < 1


def test_landmark_resolves_the_ambiguity(streets, make_segment):
    far = [(offset(CAPITOLE, east_m=20_000).x, CAPITOLE.y), (offset(CAPITOLE, east_m=20_100).x, CAPITOLE.y)]
    make_segment("RUE DE BAYARD", far, commune="QUINT-FONSEGRIVES")
    location = Locator.from_database().locate(post("Dépôt sauvage rue de Bayard, à deux pas de la gare Matabiau"))
    assert location.note == ""
    assert distance_to_street_m(location, "RUE DE BAYARD", "TOULOUSE") < 1


# --- place boxes -------------------------------------------------------------------------------


def test_neighbourhood_place_box_locates_when_the_text_does_not(streets):
    bbox = (1.440, 43.600, 1.446, 43.606)
    location = streets.locate(
        post("C'est sale partout ici", place_bbox=bbox, place_type="neighborhood", place_name="Capitole")
    )
    assert location.method == LocationMethod.PLACE
    assert (location.lon, location.lat) == pytest.approx((1.443, 43.603))
    assert 300 < location.accuracy_m < 600
    assert location.matched_text == "Capitole"


def test_point_like_poi_gets_a_minimum_accuracy(streets):
    location = streets.locate(post("ici", place_bbox=(1.444, 43.604, 1.444, 43.604), place_type="poi"))
    assert location.method == LocationMethod.PLACE
    assert location.accuracy_m == MIN_PLACE_ACCURACY_M


@pytest.mark.parametrize(
    ("place_type", "bbox", "reason"),
    [
        ("city", TOULOUSE_BBOX, "whole city"),
        ("admin", (0.0, 42.3, 3.0, 44.9), "whole admin"),
        ("", TOULOUSE_BBOX, "too coarse"),  # no type, but 13 km across
        ("poi", (2.0, 44.0, 1.0, 43.0), "invalid"),  # min > max
    ],
)
def test_coarse_or_broken_place_boxes_locate_nothing(streets, place_type, bbox, reason):
    location = streets.locate(
        post("Encore un nid de poule", place_bbox=bbox, place_type=place_type, place_name="Toulouse")
    )
    assert location.method == LocationMethod.NONE
    assert (location.lon, location.lat) == (None, None)
    assert reason in location.note


def test_text_wins_over_the_place_box(streets):
    location = streets.locate(
        post("Trottoir bloqué rue de Metz", place_bbox=(1.40, 43.58, 1.41, 43.59), place_type="poi")
    )
    assert location.method == LocationMethod.TEXT


def test_a_small_place_box_narrows_a_long_street(streets):
    # Rue d'Alsace-Lorraine is ~1 km long; the place box sits at its northern end.
    whole = streets.locate(post("Trottoir bloqué rue d'Alsace-Lorraine"))
    bbox = (1.4445, 43.6080, 1.4465, 43.6095)
    narrowed = streets.locate(post("Trottoir bloqué rue d'Alsace-Lorraine", place_bbox=bbox, place_type="poi"))
    assert distance_to_street_m(narrowed, "RUE D ALSACE LORRAINE") < 1
    assert narrowed.accuracy_m < whole.accuracy_m / 2


# --- batches, cache, empty database ---------------------------------------------------------------


def test_locate_many_keeps_the_order(streets):
    records = [post("rue de Metz"), post("rien du tout"), post("place du Capitole")]
    locations = streets.locate_many(records)
    assert [location.found for location in locations] == [True, False, True]
    assert distance_to_street_m(locations[2], "PL DU CAPITOLE") < 1


def test_the_gazetteer_is_cached_until_streets_change(streets, make_segment):
    first = get_gazetteer()
    assert get_gazetteer() is first
    make_segment("RUE DES TESTS UNITAIRES")
    second = get_gazetteer()
    assert second is not first
    assert Locator.from_database().locate(post("Problème rue des Tests Unitaires")).found
    StreetSegment.objects.filter(name="RUE DES TESTS UNITAIRES").delete()
    assert get_gazetteer() is not second
    assert not Locator.from_database().locate(post("Problème rue des Tests Unitaires")).found


def test_a_renamed_street_is_seen_after_its_update(streets):
    segment = StreetSegment.objects.filter(name="RUE DU TAUR").first()
    segment.name = "RUE DU TAUREAU"
    segment.save()
    assert Locator.from_database().locate(post("travaux rue du Taureau")).found


def test_no_streets_locate_nothing_by_text_but_places_still_work(db):
    clear_gazetteer_cache()
    locator = Locator.from_database()
    assert not locator.locate(post("Trottoir bloqué rue de Metz")).found
    located = locator.locate(post("ici", place_bbox=(1.44, 43.60, 1.445, 43.605), place_type="poi"))
    assert located.method == LocationMethod.PLACE


def test_renormalize_street_names_rewrites_stale_keys(streets):
    StreetSegment.objects.filter(name="RUE DE METZ").update(name_normalized="stale")
    changed = renormalize_street_names()
    assert changed == StreetSegment.objects.filter(name="RUE DE METZ").count() > 0
    assert set(StreetSegment.objects.filter(name="RUE DE METZ").values_list("name_normalized", flat=True)) == {
        "rue metz"
    }
    assert renormalize_street_names() == 0


def test_a_broken_landmarks_file_says_how_to_fix_it(streets, settings, tmp_path):
    from django.core.exceptions import ImproperlyConfigured

    from incidents.locate.gazetteer import load_landmarks

    broken = tmp_path / "landmarks.json"
    broken.write_text("{not json", encoding="utf-8")
    settings.INCIDENTS_LANDMARKS_FILE = str(broken)
    with pytest.raises(ImproperlyConfigured, match="set it empty to use no landmarks"):
        load_landmarks()
    settings.INCIDENTS_LANDMARKS_FILE = ""
    assert not load_landmarks()


def test_fuzzy_readings_come_in_one_order(db):
    load_fixture_streets(["RUE DE LA BOULE", "RUE DE LA BOURSE", "RUE REILLE", "RUE DE LILLE"])
    clear_gazetteer_cache()
    gazetteer = Locator.from_database().gazetteer
    # Not the order of a set, which changes with each process's string hashing.
    assert gazetteer.fuzzy("bouse") == ("boule", "bourse")
    assert gazetteer.fuzzy("rille") == ("lille", "reille")


def test_a_typo_that_reads_as_two_streets_keeps_both(db):
    """ "Bouse" is one edit from BOULE and from BOURSE: neither wins by being tried first."""
    load_fixture_streets(["RUE DE LA BOULE", "RUE DE LA BOURSE"])
    clear_gazetteer_cache()
    locator = Locator.from_database()
    location = locator.locate(post("Énorme nid de poule en face du 41 rue de la Bouse"))
    assert location.method == LocationMethod.TEXT
    assert location.matched_text == "rue de la Bouse"
    assert "RUE DE LA BOULE or RUE DE LA BOURSE" in location.note
    # The accuracy covers both streets, wherever the point was put.
    point = Point(location.lon, location.lat, srid=4326)
    for name in ("RUE DE LA BOULE", "RUE DE LA BOURSE"):
        farthest = max(segment.distance_m for segment in StreetSegment.objects.filter(name=name).near(point, 100_000))
        assert farthest <= location.accuracy_m * 1.05
    # With no other clue, the same street and the same note every time.
    assert locator.locate(post("nid de poule rue de la Bouse")).note == location.note


# --- sides, corners and account names ---------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Rue de Metz côté rue d'Alsace-Lorraine : le lampadaire est mort",
        # the side named by a bare name, and said last, after other words
        "Rue de Metz côté Alsace-Lorraine, still no light",
        "Le trou rue de Metz devant la boulangerie, côté rue d'Alsace-Lorraine, toujours pas rebouché",
    ],
)
def test_the_side_of_a_street_that_meets_it_is_the_corner(streets, text):
    """ "X côté Y", Y meeting X: the end of X at Y, not the middle of X's half nearest Y; known to that half."""
    location = streets.locate(post(text))
    assert location.method == LocationMethod.TEXT
    assert distance_to_street_m(location, METZ) < 1
    assert metres_between(location, crossing_point(METZ, ALSACE)) < 15
    half = streets.locate(post("Bouchon rue de Metz jusqu'à la rue d'Alsace-Lorraine"))
    assert half.accuracy_m <= location.accuracy_m < 2.5 * half.accuracy_m


def test_up_to_a_street_is_the_half_of_the_street_not_the_corner(streets):
    """ "X jusqu'à Y" says how far along X, not where: X's half nearest Y, known to that half."""
    location = streets.locate(post("Bouchon rue de Metz jusqu'à la rue d'Alsace-Lorraine"))
    assert distance_to_street_m(location, METZ) < 1
    assert location.accuracy_m > 100


def test_an_account_name_is_no_place(streets):
    """ "@rue_de_metz" names an account: the reply says nothing of where; its other words still count."""
    assert not streets.locate(post("@rue_de_metz oui et sur la piste cyclable aussi")).found
    location = streets.locate(
        post("@clara@piaille.fr @rue_du_taur trou énorme rue de Metz angle rue d'Alsace-Lorraine")
    )
    assert metres_between(location, crossing_point(METZ, ALSACE)) < 6
    assert location.matched_text == "rue de Metz angle rue d'Alsace-Lorraine"
    assert location.names == ("rue de Metz", "rue d'Alsace-Lorraine")
