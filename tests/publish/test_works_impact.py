"""The works impact table gives the counts of the distance queries, and follows every write."""

from __future__ import annotations

import contextlib
import datetime as dt
import random

import pytest
from django.core.management import call_command
from django.db import connection

from incidents.categories import Category
from incidents.models import Incident, WorksZone, WorksZoneNeighbour
from incidents.publish.impact import rank_zones, zone_impact
from incidents.publish.works_impact import catch_up, rebuild, set_table_radius, table_radius
from incidents.services.works import refresh_impact_areas
from tests.conftest import CAPITOLE, offset, paris

pytestmark = pytest.mark.django_db

CATEGORIES = [code for code, _ in Category.choices]


@contextlib.contextmanager
def measured():
    """The distance queries of before the table: the same functions with the table switched off."""
    radius = table_radius()
    with connection.cursor() as cursor:
        set_table_radius(cursor, None)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            set_table_radius(cursor, radius)


def counts(impact: dict) -> dict:
    """A zone's impact without the bounds of its periods (an open-ended zone's run to now, which moves)."""
    return {**impact, **{p: {**impact[p], "from": None, "to": None} for p in ("before", "during")}}


def rows() -> set[tuple]:
    catch_up()
    return {
        (row.incident_id, row.works_zone_id, row.first_post_at, row.category, round(row.distance_m, 6))
        for row in WorksZoneNeighbour.objects.all()
    }


def assert_table_is_rebuilt():
    kept = rows()
    rebuild()
    assert kept == rows()


@pytest.fixture
def city(make_works_zone, make_incident):
    """Works around the Capitole over 2014 (one open-ended, one withdrawn) and incidents all around."""
    rng = random.Random(16)
    zones = []
    for n in range(12):
        start = paris(2014, 1, 1) + dt.timedelta(days=rng.randrange(0, 300))
        end = None if n == 0 else start + dt.timedelta(days=rng.randrange(0, 90))
        zone = make_works_zone(
            offset(CAPITOLE, east_m=rng.uniform(-500, 500), north_m=rng.uniform(-500, 500)),
            starts_at=start,
            ends_at=end,
            title=f"Works {n}",
            withdrawn_at=start + dt.timedelta(days=5) if n == 1 else None,
        )
        zones.append(zone)
    for _ in range(400):
        first = paris(2013, 11, 1) + dt.timedelta(minutes=rng.randrange(0, 500 * 24 * 60))
        make_incident(
            location=offset(CAPITOLE, east_m=rng.uniform(-700, 700), north_m=rng.uniform(-700, 700)),
            first_post_at=first,
            category=rng.choice(CATEGORIES),
        )
    return zones


def test_counts_equal_the_distance_queries_on_random_windows(city):
    assert len(rows()) > 100
    rng = random.Random(4287)
    for _ in range(12):
        start = paris(2013, 12, 1) + dt.timedelta(hours=rng.randrange(0, 400 * 24))
        end = start + dt.timedelta(hours=rng.randrange(1, 60 * 24))
        radius = rng.choice([100.0, 100.0, 61.5, 25.0, 150.0])  # the table's, smaller ones, a larger one
        categories = rng.choice([None, ["lighting", "works_obstruction", "other"]])
        bbox = rng.choice([None, (1.440, 43.600, 1.448, 43.608)])
        ranked = rank_zones(start, end, radius, categories=categories, bbox=bbox, limit=100)
        with measured():
            assert rank_zones(start, end, radius, categories=categories, bbox=bbox, limit=100) == ranked
    for zone in city:
        for radius, categories in [(100.0, None), (73.0, None), (100.0, ["lighting"]), (400.0, None)]:
            impact = counts(zone_impact(zone, radius, categories))
            with measured():
                assert counts(zone_impact(zone, radius, categories)) == impact


def test_counts_are_not_all_zero(city):
    # The comparison above would hold on an empty table too: it has to count something.
    start, end = paris(2013, 11, 1), paris(2015, 3, 1)
    features, total = rank_zones(start, end, 100.0, limit=100)
    assert total == len(city)
    assert sum('"incidents_during": 0,' not in feature for feature in features) >= 6


def test_an_incident_at_the_radius_boundary_is_measured_again(make_works_zone, make_incident):
    zone = make_works_zone(CAPITOLE)
    incident = make_incident(location=offset(CAPITOLE, east_m=50), first_post_at=paris(2014, 9, 5))
    catch_up()
    distance = WorksZoneNeighbour.objects.get(incident=incident).distance_m
    radii = (distance - 1e-4, distance, distance + 1e-4)
    counted = [zone_impact(zone, radius)["during"]["total"] for radius in radii]
    # At the stored distance itself, ST_DWithin may say no (ST_Distance is rounded): its answer is the one kept.
    assert counted[0] == 0
    assert counted[2] == 1
    with measured():
        assert [zone_impact(zone, radius)["during"]["total"] for radius in radii] == counted


def test_incidents_are_queued_and_measured_by_the_next_read(city, make_incident):
    from incidents.models import WorksImpactPending

    incident = make_incident(location=offset(city[3].geom, north_m=10))
    assert WorksImpactPending.objects.filter(incident_id=incident.pk).exists()
    assert not WorksZoneNeighbour.objects.filter(incident=incident).exists()
    zone_impact(city[3], 100.0)  # a read catches up
    assert not WorksImpactPending.objects.exists()
    assert WorksZoneNeighbour.objects.filter(incident=incident, works_zone=city[3]).exists()


def test_the_table_follows_incidents_and_zones_whatever_writes_them(city, make_incident):
    assert_table_is_rebuilt()
    incidents = list(Incident.objects.order_by("id")[:40])
    for n, incident in enumerate(incidents[:10]):  # moved (in or out of range)
        Incident.objects.filter(pk=incident.pk).update(location=offset(incident.location, east_m=60 + n * 10))
    Incident.objects.filter(pk__in=[i.pk for i in incidents[10:20]]).update(first_post_at=paris(2013, 10, 1))
    Incident.objects.filter(pk__in=[i.pk for i in incidents[20:30]]).update(category="vegetation")
    Incident.objects.filter(pk__in=[i.pk for i in incidents[30:40]]).update(priority=7)  # nothing to do
    Incident.objects.filter(pk=incidents[0].pk).delete()
    make_incident(location=offset(city[3].geom, north_m=10))
    assert_table_is_rebuilt()

    refresh_impact_areas(WorksZone.objects.filter(pk__in=[city[0].pk, city[1].pk]), buffer_m=80)
    WorksZone.objects.filter(pk=city[2].pk).update(title="Renamed")  # same area: nothing to measure
    WorksZone.objects.filter(pk=city[4].pk).delete()
    assert_table_is_rebuilt()


def test_pipeline_and_importers_keep_the_table(db):
    call_command("load_demo", verbosity=0)
    assert rows()
    assert_table_is_rebuilt()


def test_rebuild_for_another_radius(city):
    counted = rank_zones(paris(2014, 1, 1), paris(2014, 12, 31), 150.0, limit=100)
    within_100 = sum(1 for row in rows() if row[4] <= 100)
    assert rebuild(150.0) > within_100
    assert table_radius() == 150.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(distance_m) FROM incidents_workszoneneighbour")
        assert 100 < cursor.fetchone()[0] <= 150
    assert rank_zones(paris(2014, 1, 1), paris(2014, 12, 31), 150.0, limit=100) == counted


def test_rebuild_command(city):
    from io import StringIO

    from django.core.management.base import CommandError

    out = StringIO()
    call_command("rebuild_works_impact", "--radius", "120", stdout=out)
    assert "within 120 m" in out.getvalue()
    assert table_radius() == 120
    with pytest.raises(CommandError, match="between 0 and 5000"):
        call_command("rebuild_works_impact", "--radius", "-3")
