"""Posts about the same problem join one incident; its totals and priority follow its posts."""

from __future__ import annotations

import pytest
from django.db import connection

from incidents.models import Incident, IncidentStatus, Post
from incidents.pipeline.statistics import keep_statistics
from incidents.services.incidents import change_incident_status
from tests.conftest import CAPITOLE, offset, paris
from tests.pipeline.conftest import post

pytestmark = pytest.mark.django_db

POTHOLE = "Énorme nid de poule sur la chaussée"
LIGHT = "Lampadaire en panne, plus d'éclairage le soir"
WORKS = "Chantier : barrière de travaux en travers du trottoir"


def incident_of(external_id: str) -> Incident:
    return Post.objects.get(external_id=external_id).incident


class TestJoining:
    def test_same_problem_nearby_is_one_incident_with_totals(self, push):
        push(
            post(POTHOLE, CAPITOLE, paris(2014, 9, 8, 9), id="a", like_count=3),
            post(POTHOLE, offset(CAPITOLE, east_m=20), paris(2014, 9, 8, 11), id="b", reply_count=2),
        )
        push(post(POTHOLE, offset(CAPITOLE, north_m=-25), paris(2014, 9, 9, 8), id="c", repost_count=1))
        (incident,) = Incident.objects.all()
        assert incident.post_count == 3
        assert incident.engagement == 6
        assert incident.first_post_at == paris(2014, 9, 8, 9)
        assert incident.last_post_at == paris(2014, 9, 9, 8)
        assert incident.category == "road_surface_pothole"
        assert incident.status == IncidentStatus.NEW
        assert set(incident.posts.values_list("external_id", flat=True)) == {"a", "b", "c"}

    def test_another_category_at_the_same_place_is_another_incident(self, push):
        push(post(POTHOLE, CAPITOLE, id="hole"), post(LIGHT, offset(CAPITOLE, east_m=5), id="light"))
        assert incident_of("hole") != incident_of("light")

    def test_too_far_apart_is_two_incidents(self, push, settings):
        settings.INCIDENTS_GROUP_DISTANCE_M = 50
        push(post(POTHOLE, CAPITOLE, id="a"), post(POTHOLE, offset(CAPITOLE, east_m=80), id="b"))
        assert incident_of("a") != incident_of("b")

    def test_same_segment_joins_farther_but_not_without_limit(self, push, make_segment, settings):
        settings.INCIDENTS_GROUP_DISTANCE_M = 50
        settings.INCIDENTS_GROUP_SEGMENT_DISTANCE_M = 150
        make_segment(coords=[CAPITOLE.coords, offset(CAPITOLE, east_m=400).coords])
        push(
            post(WORKS, offset(CAPITOLE, north_m=5), id="a"),
            post(WORKS, offset(CAPITOLE, east_m=120, north_m=5), id="same-block"),
            post(WORKS, offset(CAPITOLE, east_m=330, north_m=5), id="far-end"),
        )
        assert incident_of("a") == incident_of("same-block")
        assert incident_of("far-end") != incident_of("a")

    def test_different_segments_do_not_extend_the_distance(self, push, make_segment, settings):
        settings.INCIDENTS_GROUP_DISTANCE_M = 50
        make_segment("RUE A", [offset(CAPITOLE, north_m=0).coords, offset(CAPITOLE, east_m=60).coords])
        make_segment("RUE B", [offset(CAPITOLE, east_m=70).coords, offset(CAPITOLE, east_m=200).coords])
        push(post(WORKS, offset(CAPITOLE, east_m=10, north_m=3), id="a"), post(WORKS, offset(CAPITOLE, 130, 3), id="b"))
        assert incident_of("a") != incident_of("b")

    def test_a_post_naming_only_the_street_joins_a_problem_anywhere_along_it(self, push, make_segment, settings):
        settings.INCIDENTS_GROUP_DISTANCE_M = 50
        settings.INCIDENTS_GROUP_SEGMENT_DISTANCE_M = 150
        make_segment("RUE DE METZ", [CAPITOLE.coords, offset(CAPITOLE, east_m=250).coords])
        make_segment("RUE DE METZ", [offset(CAPITOLE, east_m=250).coords, offset(CAPITOLE, east_m=500).coords])
        push(post(LIGHT, offset(CAPITOLE, east_m=460, north_m=3), paris(2014, 9, 8, 9), id="gps"))
        push(post(f"{LIGHT} rue de Metz", None, paris(2014, 9, 8, 12), id="street"))
        street_post = Post.objects.get(external_id="street")
        assert street_post.location_accuracy_m > 50  # located to the whole street, not a point on it
        assert incident_of("street") == incident_of("gps")

    def test_two_precise_posts_far_apart_on_one_street_stay_apart(self, push, make_segment, settings):
        settings.INCIDENTS_GROUP_DISTANCE_M = 50
        settings.INCIDENTS_GROUP_SEGMENT_DISTANCE_M = 150
        make_segment("RUE DE METZ", [CAPITOLE.coords, offset(CAPITOLE, east_m=250).coords])
        make_segment("RUE DE METZ", [offset(CAPITOLE, east_m=250).coords, offset(CAPITOLE, east_m=500).coords])
        push(
            post(f"{LIGHT} rue de Metz", offset(CAPITOLE, east_m=30, north_m=3), id="west"),
            post(f"{LIGHT} rue de Metz", offset(CAPITOLE, east_m=460, north_m=3), id="east"),
        )
        assert incident_of("west") != incident_of("east")

    def test_a_coarse_post_joins_only_a_problem_its_accuracy_may_reach(self, push, make_segment, settings):
        # A place box ±100 m at the far end of a 2 km boulevard: too coarse to tell where along
        # it, but not so coarse that it may be the problem at the other end.
        settings.INCIDENTS_GROUP_DISTANCE_M = 50
        make_segment("BD DE STRASBOURG", [CAPITOLE.coords, offset(CAPITOLE, east_m=2000).coords])
        push(post(LIGHT, offset(CAPITOLE, east_m=30, north_m=3), paris(2014, 9, 8, 9), id="west"))
        box = ",".join(str(v) for v in (*offset(CAPITOLE, 1500, -100).coords, *offset(CAPITOLE, 1700, 100).coords))
        push(post(LIGHT, None, paris(2014, 9, 8, 12), id="box", place_name="X", place_type="poi", place_bbox=box))
        coarse = Post.objects.get(external_id="box")
        assert 50 < coarse.location_accuracy_m < 500
        assert coarse.segment.name == "BD DE STRASBOURG"
        assert incident_of("box") != incident_of("west")
        # Within reach of its accuracy, it joins.
        push(post(LIGHT, offset(CAPITOLE, east_m=1750, north_m=3), paris(2014, 9, 8, 15), id="east"))
        assert incident_of("east") == incident_of("box")

    def test_the_nearest_incident_wins(self, push, settings):
        settings.INCIDENTS_GROUP_DISTANCE_M = 50
        push(post(POTHOLE, CAPITOLE, id="west"), post(POTHOLE, offset(CAPITOLE, east_m=90), id="east"))
        push(post(POTHOLE, offset(CAPITOLE, east_m=60), id="between"))
        assert incident_of("between") == incident_of("east")


class TestEveryLocatedPostHasAnIncident:
    def test_a_post_naming_only_a_long_street_makes_a_street_level_incident(self, push, make_segment):
        # A 2 km boulevard: the post says nothing of where along it, its accuracy covers it all.
        make_segment("BD DE STRASBOURG", [CAPITOLE.coords, offset(CAPITOLE, east_m=1000).coords])
        make_segment("BD DE STRASBOURG", [offset(CAPITOLE, east_m=1000).coords, offset(CAPITOLE, 2000).coords])
        push(post(f"{LIGHT} boulevard de Strasbourg", None, paris(2014, 9, 8, 9), id="vague"))
        vague = Post.objects.get(external_id="vague")
        assert vague.location_accuracy_m > 500
        incident = incident_of("vague")
        assert incident is not None
        assert incident.location_accuracy_m == vague.location_accuracy_m
        assert incident.segment.name == "BD DE STRASBOURG"

    def test_a_precise_post_on_that_street_joins_it_and_refines_its_point(self, push, make_segment):
        make_segment("BD DE STRASBOURG", [CAPITOLE.coords, offset(CAPITOLE, east_m=1000).coords])
        make_segment("BD DE STRASBOURG", [offset(CAPITOLE, east_m=1000).coords, offset(CAPITOLE, 2000).coords])
        push(post(f"{LIGHT} boulevard de Strasbourg", None, paris(2014, 9, 8, 9), id="vague"))
        push(post(f"{LIGHT} ici", offset(CAPITOLE, east_m=1700, north_m=3), paris(2014, 9, 9, 21), id="gps"))
        incident = incident_of("vague")
        assert incident_of("gps") == incident
        assert incident.post_count == 2
        assert incident.location.coords == pytest.approx(offset(CAPITOLE, east_m=1700, north_m=3).coords)
        assert incident.location_accuracy_m == Post.objects.get(external_id="gps").location_accuracy_m

    def test_no_relevant_located_post_is_left_without_an_incident(self, push, make_segment):
        make_segment("BD DE STRASBOURG", [CAPITOLE.coords, offset(CAPITOLE, east_m=2000).coords])
        box = ",".join(str(v) for v in (*offset(CAPITOLE, -400, -400).coords, *offset(CAPITOLE, 400, 400).coords))
        push(
            post(f"{POTHOLE} boulevard de Strasbourg", None, id="street"),
            post(POTHOLE, None, id="place", place_name="Capitole", place_type="neighborhood", place_bbox=box),
            post(POTHOLE, offset(CAPITOLE, north_m=900), id="gps"),
        )
        assert not Post.objects.filter(state="located", incident__isnull=True).exists()
        assert Post.objects.filter(state="located").count() == 3


class TestRelatedCategories:
    BARRIER = "Barrière de chantier en travers de la chaussée, la rue est barrée"
    CROSSING = "Le passage piéton est bloqué, impossible de traverser avec la poussette"

    def test_works_and_a_blocked_crossing_at_one_spot_are_one_incident(self, push):
        push(
            post(self.BARRIER, CAPITOLE, paris(2014, 9, 8, 9), id="works"),
            post(self.CROSSING, offset(CAPITOLE, east_m=8), paris(2014, 9, 8, 10), id="crossing"),
            post(self.CROSSING, offset(CAPITOLE, north_m=6), paris(2014, 9, 8, 11), id="crossing2"),
        )
        posts = Post.objects.order_by("external_id")
        assert {p.category for p in posts} == {"works_obstruction", "pedestrian_crossing_sidewalk"}
        (incident,) = Incident.objects.all()
        assert incident.post_count == 3
        # The most frequent category of its posts.
        assert incident.category == "pedestrian_crossing_sidewalk"
        assert incident.category_counts == {"works_obstruction": 1, "pedestrian_crossing_sidewalk": 2}

    def test_a_tie_goes_to_the_harm_to_people_on_foot(self, push):
        push(post(self.BARRIER, CAPITOLE, paris(2014, 9, 8, 9), id="works"))
        assert incident_of("works").category == "works_obstruction"
        push(post(self.CROSSING, offset(CAPITOLE, east_m=8), paris(2014, 9, 8, 10), id="crossing"))
        assert incident_of("works").category == "pedestrian_crossing_sidewalk"

    def test_unrelated_categories_at_one_spot_stay_apart(self, push):
        push(post(self.BARRIER, CAPITOLE, id="works"), post(LIGHT, offset(CAPITOLE, east_m=5), id="light"))
        assert incident_of("works") != incident_of("light")

    def test_who_is_affected_is_the_union_of_its_posts(self, push):
        push(
            post("Trottoir bloqué par le chantier, avec le fauteuil roulant je passe sur la route", CAPITOLE, id="a"),
            post("Chantier : la piste cyclable est fermée, les vélos sur la chaussée", offset(CAPITOLE, 5), id="b"),
        )
        assert Post.objects.get(external_id="a").affects == ["pedestrians", "reduced_mobility"]
        assert "cyclists" in Post.objects.get(external_id="b").affects
        assert set(incident_of("a").affects) >= {"pedestrians", "reduced_mobility", "cyclists"}
        assert incident_of("a").affects == sorted(incident_of("a").affects)


class TestTimeWindow:
    def test_an_open_incident_keeps_a_post_three_weeks_later(self, push):
        push(post(POTHOLE, CAPITOLE, paris(2014, 9, 8), id="sept"))
        push(post("Toujours ce nid de poule sur la chaussée", CAPITOLE, paris(2014, 9, 29), id="later"))
        assert incident_of("later") == incident_of("sept")
        assert incident_of("sept").post_count == 2

    def test_a_post_past_the_open_window_starts_a_new_incident(self, push, settings):
        settings.INCIDENTS_GROUP_OPEN_DAYS = 30
        push(post(POTHOLE, CAPITOLE, paris(2014, 9, 8), id="sept"))
        push(post(POTHOLE, CAPITOLE, paris(2014, 10, 9), id="october"))
        old, new = incident_of("sept"), incident_of("october")
        assert old != new
        assert old.post_count == 1
        assert old.last_post_at == paris(2014, 9, 8)
        assert new.recurrence_of is None  # the old one is still open, not resolved

    def test_a_chain_of_posts_keeps_the_incident_alive(self, push, settings):
        settings.INCIDENTS_GROUP_OPEN_DAYS = 3
        push(*(post(WORKS, CAPITOLE, paris(2014, 9, 1 + 2 * n), id=f"day{n}") for n in range(5)))
        (incident,) = Incident.objects.all()
        assert incident.post_count == 5

    def test_a_late_arriving_older_post_joins_within_the_window(self, push):
        push(post(POTHOLE, CAPITOLE, paris(2014, 9, 10), id="new"))
        push(post(POTHOLE, CAPITOLE, paris(2014, 9, 9), id="older"))
        incident = incident_of("new")
        assert incident_of("older") == incident
        assert incident.first_post_at == paris(2014, 9, 9)

    def test_resolved_incidents_are_not_reopened_and_the_new_one_records_the_recurrence(self, push):
        push(post(POTHOLE, CAPITOLE, paris(2014, 9, 8), id="first"))
        change_incident_status(incident_of("first"), IncidentStatus.RESOLVED, note="Rebouché")
        push(post(POTHOLE, offset(CAPITOLE, east_m=20), paris(2014, 9, 20), id="again"))
        assert incident_of("again") != incident_of("first")
        assert incident_of("first").status == IncidentStatus.RESOLVED
        assert incident_of("again").recurrence_of == incident_of("first")
        assert list(incident_of("first").recurrences.all()) == [incident_of("again")]

    def test_a_recurrence_is_the_same_problem_at_the_same_place(self, push, settings):
        settings.INCIDENTS_RECURRENCE_DAYS = 30
        push(post(POTHOLE, CAPITOLE, paris(2014, 9, 8), id="first"))
        change_incident_status(incident_of("first"), IncidentStatus.RESOLVED, note="Rebouché")
        push(
            post(LIGHT, CAPITOLE, paris(2014, 9, 10), id="other problem"),
            post(POTHOLE, offset(CAPITOLE, east_m=400), paris(2014, 9, 10), id="elsewhere"),
        )
        push(post(POTHOLE, CAPITOLE, paris(2014, 11, 20), id="much later"))
        assert [incident_of(name).recurrence_of for name in ("other problem", "elsewhere", "much later")] == [None] * 3


class TestIncidentFields:
    def test_point_and_segment_come_from_the_most_accurate_post(self, push, make_segment):
        segment = make_segment(coords=[offset(CAPITOLE, north_m=4).coords, offset(CAPITOLE, 100, 4).coords])
        box = ",".join(str(v) for v in (*offset(CAPITOLE, -30, -30).coords, *offset(CAPITOLE, 30, 30).coords))
        push(post(POTHOLE, id="place", place_name="Capitole", place_type="poi", place_bbox=box))
        push(post(POTHOLE, offset(CAPITOLE, east_m=12), paris(2014, 9, 8, 10), id="gps"))
        incident = incident_of("place")
        assert incident_of("gps") == incident
        assert incident.location.coords == pytest.approx(offset(CAPITOLE, east_m=12).coords)
        assert incident.segment == segment
        assert incident.segment_distance_m == pytest.approx(4, abs=0.5)

    def test_district(self, push, make_district):
        district = make_district("3155501", "Capitole", (1.43, 43.60, 1.45, 43.61))
        push(post(POTHOLE, CAPITOLE, id="p"))
        assert incident_of("p").district == district

    def test_works_links_measured_from_the_incident(self, push, make_works_zone):
        zone = make_works_zone(offset(CAPITOLE, east_m=60), buffer_m=25)
        push(post(WORKS, CAPITOLE, id="p"))
        (link,) = incident_of("p").works_links.all()
        assert link.works_zone == zone
        assert link.distance_m == pytest.approx(35, abs=1.5)


class TestPriority:
    def test_rises_with_posts_and_engagement(self, push):
        push(post(POTHOLE, CAPITOLE, id="one"))
        lone = incident_of("one").priority
        push(post(POTHOLE, offset(CAPITOLE, east_m=10), id="two"))
        two = incident_of("one").priority
        push(post(POTHOLE, offset(CAPITOLE, east_m=15), id="three", like_count=50))
        assert lone < two < incident_of("one").priority

    def test_rises_near_active_works_and_more_when_nearer(self, push, make_works_zone):
        far_away = offset(CAPITOLE, east_m=2000)
        make_works_zone(offset(CAPITOLE, east_m=40), buffer_m=5)
        make_works_zone(offset(far_away, east_m=90), buffer_m=5)
        push(
            post(POTHOLE, CAPITOLE, id="near-works"),
            post(POTHOLE, far_away, id="farther-works"),
            post(POTHOLE, offset(CAPITOLE, east_m=5000), id="no-works"),
        )
        assert incident_of("near-works").priority > incident_of("farther-works").priority
        assert incident_of("farther-works").priority > incident_of("no-works").priority

    def test_pedestrian_harm_weighs_more(self, push, make_works_zone):
        push(
            post("Trottoir impraticable, impossible de passer avec une poussette", CAPITOLE, id="pedestrians"),
            post(LIGHT, offset(CAPITOLE, east_m=3000), id="light"),
        )
        assert incident_of("pedestrians").category == "pedestrian_crossing_sidewalk"
        assert incident_of("pedestrians").priority > incident_of("light").priority

    def test_works_taking_the_pavement_weigh_more(self, push, make_works_zone):
        elsewhere = offset(CAPITOLE, east_m=3000)
        make_works_zone(CAPITOLE, impact_pedestrian=True)
        make_works_zone(elsewhere, impact_pedestrian=False)
        push(post(POTHOLE, CAPITOLE, id="pavement"), post(POTHOLE, elsewhere, id="road"))
        assert incident_of("pavement").priority > incident_of("road").priority


def test_batch_size_does_not_change_the_grouping_of_posts_in_time_order(push):
    rows = [
        post(
            POTHOLE if n % 3 else WORKS,
            offset(CAPITOLE, east_m=37 * (n % 7), north_m=23 * (n % 5)),
            paris(2014, 9, 8, n % 24, n),
        )
        for n in range(40)
    ]
    rows.sort(key=lambda row: row["posted_at"])

    def grouping():
        groups = {}
        for external_id, incident_id in Post.objects.values_list("external_id", "incident_id"):
            groups.setdefault(incident_id, set()).add(external_id)
        return sorted(sorted(group) for group in groups.values())

    push(*rows, batch_size=1000)
    in_one_batch = grouping()
    Post.objects.all().delete()
    Incident.objects.all().delete()
    push(*rows, batch_size=1)
    assert grouping() == in_one_batch
    assert len(in_one_batch) > 2


def test_a_crowded_spot_in_one_batch_is_one_incident(push):
    """Hundreds of reports of one pothole in one batch: each post must still find the incident's point.

    The batch's neighbour probe keeps a bounded number of posts per post; with 600 posts within
    a few metres, the nearest ones are rarely the incident's representative post.
    """
    rows = [
        post(
            POTHOLE,
            offset(CAPITOLE, east_m=(n * 7) % 11, north_m=(n * 3) % 9),
            paris(2014, 9, 8, 6 + n % 14, n % 60),
            id=f"crowd{n}",
        )
        for n in range(600)
    ]
    push(*rows, batch_size=1000)
    assert Incident.objects.count() == 1
    assert Incident.objects.get().post_count == 600


@pytest.mark.django_db(transaction=True)
def test_the_incident_table_is_analysed_again_once_it_grew():
    """An import grows the incidents faster than autovacuum analyses them; the pipeline's probes
    are planned from those statistics, so each batch first brings them up to date."""
    table = Incident._meta.db_table

    def estimated_rows(cursor) -> float:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        return cursor.fetchone()[0]

    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")
        assert keep_statistics(cursor) == []
        cursor.execute(
            f"""
            INSERT INTO {table} (location, category, status, first_post_at, last_post_at, post_count, engagement,
                                 priority, created_at, updated_at)
            SELECT ST_SetSRID(ST_MakePoint(1.44 + n * 1e-5, 43.6), 4326), 'pothole', 'new', now(), now(), 1, 0, 0,
                   now(), now()
            FROM generate_series(1, 1500) AS n
            """
        )
        cursor.execute("SELECT pg_stat_force_next_flush()")  # the row counts reach the statistics views now
        cursor.execute("SELECT 1")
        assert estimated_rows(cursor) < 100
        assert keep_statistics(cursor) == [table]
        assert estimated_rows(cursor) == 1500
        assert keep_statistics(cursor) == []  # up to date: not analysed again


def test_an_incident_without_a_recorded_representative_is_recounted_in_full(push):
    """Rows written before incidents recorded their representative post get it from a full recount,
    not from the batch alone (which would hand the point to the batch's post)."""
    push(post(POTHOLE, CAPITOLE, paris(2014, 9, 8, 9), id="first"))
    incident = incident_of("first")
    Incident.objects.filter(pk=incident.pk).update(location_post=None, location_accuracy_m=None)
    push(post(POTHOLE, offset(CAPITOLE, east_m=10), paris(2014, 9, 8, 10), id="second"))
    incident.refresh_from_db()
    assert incident_of("second") == incident
    assert incident.post_count == 2
    first = Post.objects.get(external_id="first")
    assert incident.location_post == first  # the earlier of two equally accurate posts
    assert incident.location_accuracy_m == first.location_accuracy_m
    assert incident.location == first.location
