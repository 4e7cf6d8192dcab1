"""A follow-up that names no problem but a street ("rien n'a bougé rue X") is news of the problem there."""

from __future__ import annotations

import pytest

from incidents.models import Post, PostState
from tests.conftest import CAPITOLE, offset, paris
from tests.pipeline.conftest import post

pytestmark = pytest.mark.django_db


def get(external_id: str) -> Post:
    return Post.objects.select_related("incident").get(external_id=external_id)


@pytest.fixture
def metz(make_segment):
    """Rue de Metz: 100 m east from the Capitole."""
    return make_segment("RUE DE METZ")


def test_a_follow_up_at_a_street_joins_the_open_incident_there(push, metz):
    push(
        post(
            "Trottoir fermé par le chantier rue de Metz, on marche sur la route 😡",
            None,
            paris(2014, 9, 1, 9),
            id="one",
        )
    )
    report = get("one")
    assert report.state == PostState.LOCATED
    push(post("Trois semaines plus tard rien n'a bougé rue de Metz.", None, paris(2014, 9, 22, 9), id="later"))
    later = get("later")
    assert later.state == PostState.LOCATED
    assert later.category == report.category == "pedestrian_crossing_sidewalk"
    assert later.incident_id == report.incident_id
    assert "relevant:follow-up at a named street" in later.category_evidence


def test_with_no_open_incident_there_it_is_a_report_of_its_own(push, metz):
    push(post("C'est réparé rue de Metz, enfin !", None, paris(2014, 9, 22, 9), id="fixed"))
    fixed = get("fixed")
    assert fixed.state == PostState.LOCATED
    assert fixed.category == "other"
    assert fixed.incident is not None


def test_a_follow_up_naming_no_street_is_no_report(push, metz):
    push(post("Rien n'a bougé depuis mon signalement...", None, paris(2014, 9, 22, 9), id="vague"))
    assert get("vague").state == PostState.IRRELEVANT


def test_an_incident_far_away_is_not_the_one_followed_up(push, make_segment):
    make_segment("RUE DE METZ")
    far = offset(CAPITOLE, east_m=3_000)
    make_segment("RUE DU TAUR", [(far.x, far.y), (offset(far, east_m=100).x, far.y)])
    push(post("Lampadaire en panne rue du Taur", None, paris(2014, 9, 1, 9), id="light"))
    push(post("Toujours rien rue de Metz, 5 jours après", None, paris(2014, 9, 6, 9), id="still"))
    still = get("still")
    assert still.state == PostState.LOCATED
    assert still.category == "other"
    assert still.incident_id != get("light").incident_id


def test_a_follow_up_in_the_same_batch_as_the_report_joins_it(push, metz):
    push(
        post("Trottoir fermé par le chantier rue de Metz, on marche sur la route", None, paris(2014, 9, 1), id="one"),
        post("Trois semaines plus tard rien n'a bougé rue de Metz.", None, paris(2014, 9, 22, 9), id="later"),
    )
    report, later = get("one"), get("later")
    assert later.category == report.category == "pedestrian_crossing_sidewalk"
    assert later.incident_id == report.incident_id


def test_a_follow_up_does_not_follow_up_a_later_report(push, metz):
    push(
        post("Trois semaines plus tard rien n'a bougé rue de Metz.", None, paris(2014, 9, 1, 9), id="early"),
        post("Lampadaire en panne rue de Metz", None, paris(2014, 9, 22, 9), id="light"),
    )
    assert get("early").category == "other"
