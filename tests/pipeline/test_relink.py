"""When streets or works are (re)imported, the links of the incidents nearby are recomputed."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import LineString, MultiLineString
from django.core.management import call_command

from incidents.models import Post, StreetSegment
from incidents.pipeline.link import relink_incidents
from tests.conftest import CAPITOLE, offset, paris
from tests.pipeline.conftest import post

pytestmark = pytest.mark.django_db

WORKS = "Chantier : barrière de travaux en travers du trottoir"
FAR = offset(CAPITOLE, east_m=3000)


def incident_of(external_id: str):
    return Post.objects.get(external_id=external_id).incident


def test_new_works_zone_links_and_raises_priority(push, make_works_zone):
    push(post(WORKS, CAPITOLE, paris(2014, 9, 8), id="p"), post(WORKS, FAR, paris(2014, 9, 8), id="far"))
    before = incident_of("p").priority
    zone = make_works_zone(offset(CAPITOLE, east_m=30), starts_at=paris(2014, 9, 1), ends_at=paris(2014, 9, 20))
    report = relink_incidents(works_zone_ids=[zone.pk])
    assert report.posts == 1
    assert report.incidents == 1
    incident = incident_of("p")
    assert list(incident.works_zones.all()) == [zone]
    assert incident.priority > before
    assert not incident_of("far").works_zones.exists()


def test_works_moved_away_are_unlinked(push, make_works_zone):
    zone = make_works_zone(offset(CAPITOLE, east_m=30))
    push(post(WORKS, CAPITOLE, id="p"))
    assert incident_of("p").works_zones.count() == 1
    zone.geom = offset(CAPITOLE, east_m=900)
    zone.save()
    from incidents.services.works import refresh_impact_areas

    refresh_impact_areas(type(zone).objects.filter(pk=zone.pk))
    relink_incidents(works_zone_ids=[zone.pk])
    assert not incident_of("p").works_zones.exists()
    assert not Post.objects.get(external_id="p").works_zones.exists()


def test_reimported_streets_in_an_extent(push, make_segment):
    push(post(WORKS, offset(CAPITOLE, north_m=8), id="p"), post(WORKS, FAR, id="far"))
    assert incident_of("p").segment is None
    segment = make_segment(coords=[offset(CAPITOLE, east_m=-50).coords, offset(CAPITOLE, east_m=50).coords])
    make_segment(coords=[offset(FAR, north_m=5).coords, offset(FAR, 50, 5).coords])
    report = relink_incidents(extent=(CAPITOLE.x - 0.001, CAPITOLE.y - 0.001, CAPITOLE.x + 0.001, CAPITOLE.y + 0.001))
    assert report.posts == 1
    assert Post.objects.get(external_id="p").segment == segment
    assert incident_of("p").segment == segment
    assert incident_of("p").segment_distance_m == pytest.approx(8, abs=0.5)
    assert incident_of("far").segment is None  # outside the extent: untouched


def test_deleted_segment_is_replaced_by_the_next_nearest(push, make_segment):
    nearest = make_segment("RUE A", [offset(CAPITOLE, north_m=5).coords, offset(CAPITOLE, 50, 5).coords])
    other = make_segment("RUE B", [offset(CAPITOLE, north_m=-15).coords, offset(CAPITOLE, 50, -15).coords])
    push(post(WORKS, offset(CAPITOLE, east_m=20), id="p"))
    assert incident_of("p").segment == nearest
    StreetSegment.objects.filter(pk=nearest.pk).delete()
    relink_incidents(segment_ids=[other.pk])
    assert incident_of("p").segment == other


def test_a_segment_moved_away_is_unlinked(push, make_segment):
    # The batch and relinking choose the nearest segment with the same per-process cache:
    # a street changed in place (same rows, new geometry) must not be answered from it.
    segment = make_segment(coords=[offset(CAPITOLE, north_m=5).coords, offset(CAPITOLE, 50, 5).coords])
    push(post(WORKS, CAPITOLE, id="p"))
    assert incident_of("p").segment == segment
    segment.geom = MultiLineString(LineString(offset(FAR, north_m=5).coords, offset(FAR, 50, 5).coords), srid=4326)
    segment.save()
    relink_incidents(segment_ids=[segment.pk])
    assert Post.objects.get(external_id="p").segment is None
    assert incident_of("p").segment is None


def test_empty_lists_mean_nothing_changed(push, make_segment):
    push(post(WORKS, CAPITOLE, id="p"))
    make_segment(coords=[CAPITOLE.coords, offset(CAPITOLE, east_m=50).coords])
    assert relink_incidents(segment_ids=[], works_zone_ids=[]).posts == 0
    assert incident_of("p").segment is None


def test_command_relinks_everything_by_default(push, make_segment, capsys):
    push(post(WORKS, CAPITOLE, id="p"))
    segment = make_segment(coords=[CAPITOLE.coords, offset(CAPITOLE, east_m=50).coords])
    call_command("relink_incidents")
    assert "1 post relinked; 1 incident refreshed." in capsys.readouterr().out
    assert incident_of("p").segment == segment


def test_command_rejects_a_bad_bbox():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--bbox expects min_lon,min_lat,max_lon,max_lat"):
        call_command("relink_incidents", bbox="1.4,43.6")


def test_a_post_located_by_the_street_it_names_stays_on_that_street(push, make_segment):
    # A square whose line runs over the junction is as near the crossing's point as the street.
    make_segment("PL ETIENNE ESQUIROL", [offset(CAPITOLE, east_m=-20).coords, offset(CAPITOLE, east_m=20).coords])
    line = [offset(CAPITOLE, east_m=-100).coords, offset(CAPITOLE, east_m=100).coords]
    metz = make_segment("RUE DE METZ", line)
    make_segment("RUE DES CHANGES", [offset(CAPITOLE, north_m=-100).coords, offset(CAPITOLE, north_m=100).coords])
    push(post("Nid de poule à l'angle rue de Metz / rue des Changes", None, id="p"))
    assert incident_of("p").segment == metz
    # The street imported again, its line redrawn: relinking keeps the post on the street it named.
    metz.geom = MultiLineString(LineString([*line, offset(CAPITOLE, east_m=150).coords]), srid=4326)
    metz.save()
    relink_incidents(segment_ids=[metz.pk])
    assert Post.objects.get(external_id="p").segment == metz
    assert incident_of("p").segment == metz
