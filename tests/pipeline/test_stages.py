"""Processing: classification decides relevance, posts out of the service area are recognised,
located posts link to the nearest segment and to the works active nearby, with distances."""

from __future__ import annotations

import json

import pytest
from django.contrib.gis.geos import Point

from incidents.models import Post, PostState, PostWorksZone
from incidents.pipeline.process import process
from incidents.pipeline.store import store
from incidents.services.areas import set_service_area_from_streets
from tests.conftest import CAPITOLE, offset, paris
from tests.fixture_streets import load_fixture_streets
from tests.pipeline.conftest import manage, manage_env, post

pytestmark = pytest.mark.django_db

WORKS_TEXT = "Chantier : barrière de travaux en travers du trottoir"


def stored(external_id: str) -> Post:
    return Post.objects.get(external_id=external_id)


class TestStates:
    def test_located_posts_record_method_accuracy_and_category(self, push):
        push(post(WORKS_TEXT, CAPITOLE, id="p"))
        p = stored("p")
        assert p.state == PostState.LOCATED
        assert p.location_method == "gps"
        assert p.location.coords == pytest.approx(CAPITOLE.coords)
        assert p.location_accuracy_m > 0
        # A works barrier across the sidewalk harms people on foot (docs/taxonomy.md).
        assert p.category == "pedestrian_crossing_sidewalk"
        assert 0 < p.category_score <= 1
        assert p.relevance > 0.9
        assert any("chantier" in evidence for evidence in p.category_evidence)
        assert p.processed_at is not None

    def test_place_bounding_boxes_locate_but_a_city_does_not(self, push):
        push(
            post(
                WORKS_TEXT, id="poi", place_name="École", place_type="poi", place_bbox="1.4395,43.6131,1.4403,43.6137"
            ),
            post(WORKS_TEXT, id="city", place_name="Toulouse", place_type="city", place_bbox="1.35,43.53,1.51,43.67"),
        )
        assert stored("poi").location_method == "place"
        assert stored("poi").location_text == "École"
        assert stored("city").state == PostState.UNLOCATED

    def test_out_of_area(self, push, make_segment):
        make_segment(coords=[CAPITOLE.coords, offset(CAPITOLE, east_m=300).coords])
        set_service_area_from_streets(buffer_m=200)
        push(post(WORKS_TEXT, offset(CAPITOLE, north_m=100), id="in"), post(WORKS_TEXT, Point(2.35, 48.85), id="paris"))
        assert stored("in").state == PostState.LOCATED
        paris_post = stored("paris")
        assert paris_post.state == PostState.OUT_OF_AREA
        assert paris_post.location is not None  # where it is stays known
        assert paris_post.incident is None

    def test_processing_twice_changes_nothing(self, push):
        report = push(post(WORKS_TEXT, CAPITOLE, id="p"))
        post_id = report.results[0].post_id
        again = process([post_id])
        assert again.posts == 0
        assert again.incidents_created == 0
        assert stored("p").incident.post_count == 1


class TestSegmentLink:
    def test_nearest_segment_within_the_limit_with_its_distance(self, push, make_segment):
        near = make_segment("RUE NEAR", [offset(CAPITOLE, north_m=10).coords, offset(CAPITOLE, 100, 10).coords])
        make_segment("RUE FAR", [offset(CAPITOLE, north_m=-20).coords, offset(CAPITOLE, 100, -20).coords])
        push(post(WORKS_TEXT, offset(CAPITOLE, east_m=50), id="p"))
        p = stored("p")
        assert p.segment == near
        assert p.segment_distance_m == pytest.approx(10, abs=0.5)

    def test_a_post_located_by_a_street_it_names_is_on_that_street(self, push, make_segment):
        # A square whose line runs over the junction is as near the crossing's point as the
        # street named first (and older: it would win the tie).
        west, east = offset(CAPITOLE, east_m=-100), offset(CAPITOLE, east_m=100)
        make_segment("PL ETIENNE ESQUIROL", [offset(CAPITOLE, east_m=-20).coords, offset(CAPITOLE, east_m=20).coords])
        metz = make_segment("RUE DE METZ", [west.coords, east.coords])
        make_segment("RUE DES CHANGES", [offset(CAPITOLE, north_m=-100).coords, offset(CAPITOLE, north_m=100).coords])
        push(post("Nid de poule à l'angle rue de Metz / rue des Changes", None, id="p"))
        p = stored("p")
        assert p.location_method == "text"
        assert p.segment == metz
        assert p.segment_distance_m == pytest.approx(0, abs=0.5)

    def test_no_segment_beyond_the_limit(self, push, make_segment, settings):
        settings.INCIDENTS_SEGMENT_MAX_DISTANCE_M = 30
        make_segment(coords=[offset(CAPITOLE, north_m=40).coords, offset(CAPITOLE, 100, 40).coords])
        push(post(WORKS_TEXT, offset(CAPITOLE, east_m=50), id="p"))
        assert stored("p").segment is None
        assert stored("p").segment_distance_m is None


class TestWorksLinks:
    def test_active_works_nearby_are_linked_with_the_distance_to_their_impact_area(self, push, make_works_zone):
        zone = make_works_zone(offset(CAPITOLE, east_m=60), buffer_m=25)
        push(post(WORKS_TEXT, CAPITOLE, paris(2014, 9, 8, 9), id="p"))
        link = PostWorksZone.objects.get(post=stored("p"))
        assert link.works_zone == zone
        assert link.distance_m == pytest.approx(35, abs=1.5)

    def test_inside_the_impact_area_is_distance_zero(self, push, make_works_zone):
        make_works_zone(CAPITOLE, buffer_m=25)
        push(post(WORKS_TEXT, offset(CAPITOLE, north_m=10), id="p"))
        assert PostWorksZone.objects.get(post=stored("p")).distance_m == 0

    def test_works_beyond_the_radius_are_not_linked(self, push, make_works_zone, settings):
        settings.INCIDENTS_WORKS_RADIUS_M = 100
        make_works_zone(offset(CAPITOLE, east_m=140), buffer_m=25)  # impact area 115 m away
        push(post(WORKS_TEXT, CAPITOLE, id="p"))
        assert not PostWorksZone.objects.exists()

    def test_only_works_active_at_the_post_time_give_or_take_the_grace(self, push, make_works_zone, settings):
        settings.INCIDENTS_WORKS_GRACE_HOURS = 24
        when = paris(2014, 9, 10, 12)
        ended_yesterday = make_works_zone(starts_at=paris(2014, 9, 1), ends_at=paris(2014, 9, 9, 18))
        make_works_zone(starts_at=paris(2014, 9, 1), ends_at=paris(2014, 9, 8, 9))  # ended 2 days before
        starts_tomorrow = make_works_zone(starts_at=paris(2014, 9, 11, 8), ends_at=paris(2014, 9, 30))
        make_works_zone(starts_at=paris(2014, 9, 15), ends_at=paris(2014, 9, 30))  # starts in 5 days
        withdrawn = make_works_zone(starts_at=paris(2014, 9, 1), ends_at=paris(2014, 9, 30))
        withdrawn.withdrawn_at = paris(2014, 9, 5)
        withdrawn.save()
        push(post(WORKS_TEXT, CAPITOLE, when, id="p"))
        linked = set(PostWorksZone.objects.values_list("works_zone", flat=True))
        assert linked == {ended_yesterday.pk, starts_tomorrow.pk}


class TestDeclaredCategory:
    """A category the reporter chose (Open311) decides over the classifier, on every path."""

    def record(self, external_id: str):
        from incidents.sources.record import PostRecord

        return PostRecord(
            source="open311",
            external_id=external_id,
            text="Il y a un souci ici",  # says nothing the classifier could use
            posted_at=paris(2014, 9, 8, 9),
            lon=CAPITOLE.x,
            lat=CAPITOLE.y,
            declared_category="lighting",
        )

    def test_processed_where_stored(self, db):
        from incidents.pipeline.ingest import ingest
        from incidents.sources.parsing import ParsedItem

        ingest([ParsedItem(position="request", record=self.record("here"))], synchronous=True)
        p = stored("here")
        assert (p.category, p.category_score, p.relevance, p.state) == ("lighting", 1, 1, PostState.LOCATED)

    def test_processed_from_the_stored_row_as_a_worker_would(self, db):
        # Stored first, decided later from what the database holds (the Celery path, process_pending).
        stored_batch = store([self.record("later")])
        process(stored_batch.created_post_ids)
        p = stored("later")
        assert (p.declared_category, p.category, p.category_score, p.state) == (
            "lighting",
            "lighting",
            1,
            PostState.LOCATED,
        )


# Typos one edit away from several street names: the readings come from sets of strings.
TIED_TYPOS = ("Énorme nid de poule rue de la Bouse", "Bouchon monstre rue Rille ce matin")
DECIDE_SCRIPT = """
import json
from incidents.pipeline.decide import decide
from incidents.sources.record import PostRecord
from tests.conftest import paris
records = [PostRecord(source="t", external_id=str(n), text=text, posted_at=paris(2014, 9, 8)) for n, text in
           enumerate({texts!r})]
decided = decide(dict(enumerate(records)))
print(json.dumps([[c.category, l.lon, l.lat, l.accuracy_m, l.note] for _, (c, l), _ in decided.values()]))
"""


@pytest.mark.django_db(transaction=True)
def test_every_process_decides_a_post_the_same_way():
    """A worker and the ingesting process must agree, whatever each one's string hashing."""
    load_fixture_streets(["RUE DE LA BOULE", "RUE DE LA BOURSE", "RUE REILLE", "RUE DE LILLE"])
    answers = {}
    for seed in ("1", "2", "3", "4"):
        process = manage(
            "shell", "-c", DECIDE_SCRIPT.format(texts=TIED_TYPOS), env={**manage_env(), "PYTHONHASHSEED": seed}
        )
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        answers[seed] = json.loads(out.strip().splitlines()[-1])
    assert all(answer[1] is not None for answer in answers["1"])  # both located
    assert len({json.dumps(answer) for answer in answers.values()}) == 1, answers
