"""The demo posts tell the founding story through the whole pipeline; the grouping keeps its quality."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bench.city import load_streets, load_works
from bench.eval_grouping import evaluate
from incidents.models import Incident, Post, PostState, Repost
from incidents.services.demo_posts import load_demo_posts
from tests.pipeline.conftest import ROOT

pytestmark = pytest.mark.django_db

FOUNDING_POST = "508135678014390273"  # marie_tls31, Saturday 6 September 2014, 08:12


def test_the_generator_is_deterministic_and_its_output_committed():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_demo_posts.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture
def toulouse(db):
    load_streets()
    load_works()


def test_demo_posts_become_incidents_with_the_founding_story_first(toulouse):
    report = load_demo_posts()
    assert report.rejected == 0
    assert report.reposts > 30
    assert report.created == Post.objects.count()
    assert Post.objects.filter(state=PostState.LOCATED).count() > 150
    assert Post.objects.filter(state=PostState.OUT_OF_AREA).count() == 2  # Paris and Bordeaux
    assert Post.objects.filter(state=PostState.IRRELEVANT).exists()

    founding = Post.objects.get(source="x", external_id=FOUNDING_POST)
    assert founding.text.startswith("Une barrière de chantier posée en plein sur le seul passage piéton")
    assert founding.media_urls
    assert founding.repost_count == 7  # retweeted seven times in the file
    incident = founding.incident
    assert incident.category == "works_obstruction"
    assert incident.post_count >= 5
    assert incident.segment.name == "RUE DE LA BALANCE"
    (works,) = incident.works_zones.all()
    assert "RUE DE LA BALANCE" in works.road_names
    assert incident.works_links.get().distance_m == 0
    assert Incident.objects.by_priority().first() == incident

    # Many posts are about works running on the day they were posted.
    located = Post.objects.filter(state=PostState.LOCATED)
    assert located.exclude(works_zones=None).distinct().count() > located.count() * 0.3


def test_loading_the_demo_twice_changes_nothing(toulouse):
    load_demo_posts()
    counts = (Post.objects.count(), Repost.objects.count(), Incident.objects.count())
    again = load_demo_posts()
    assert again.created == 0
    assert (Post.objects.count(), Repost.objects.count(), Incident.objects.count()) == counts


def test_grouping_quality_on_the_labelled_set(db):
    load_streets()
    scores = evaluate()
    assert scores["pair_precision"] >= 0.9
    assert scores["pair_recall"] >= 0.9
    assert scores["nothing_grouped"] <= 3
