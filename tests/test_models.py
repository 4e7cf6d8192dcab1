"""The data model holds its own rules: database constraints, derived works status, metric geometry."""

import datetime as dt

import pytest
from django.contrib.gis.geos import LineString, Point
from django.db import IntegrityError, connection, transaction

from incidents.models import Incident, Post, StreetSegment, WorksStatus, WorksZone
from tests.conftest import CAPITOLE, offset, paris

pytestmark = pytest.mark.django_db


class TestUniqueExternalIds:
    @pytest.mark.parametrize(
        ("factory", "key", "constraint"),
        [
            ("make_post", {"source": "x", "external_id": "1567"}, "post_unique_source_external_id"),
            ("make_segment", {"source": "toulouse", "source_id": "9288"}, "streetsegment_unique_source_id"),
            ("make_works_zone", {"source": "toulouse", "source_id": "T26TLS07084"}, "workszone_unique_source_id"),
        ],
    )
    def test_the_same_source_id_twice_is_rejected_by_the_database(self, request, factory, key, constraint):
        make = request.getfixturevalue(factory)
        make(**key)
        with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
            make(**key)

    def test_same_external_id_on_two_sources_is_two_posts(self, make_post):
        make_post(source="x", external_id="1567")
        make_post(source="mastodon", external_id="1567")
        assert Post.objects.filter(external_id="1567").count() == 2

    def test_bulk_insert_bypassing_python_still_hits_the_constraint(self, make_post):
        make_post(source="x", external_id="42")
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO incidents_post (source, external_id, url, author_handle, author_id, text, language,"
                " media_urls, posted_at, like_count, repost_count, reply_count, quote_count, repost_of, quote_of,"
                " reply_to, raw, location_method, location_text, category, state, received_at)"
                " VALUES ('x', '42', '', '', '', 'again', '', '{}', now(), 0, 0, 0, 0, '', '', '', '{}', 'none',"
                " '', '', 'pending', now())"
            )


class TestCheckConstraints:
    def test_a_located_post_must_have_a_location(self, make_post):
        with pytest.raises(IntegrityError, match="post_located_has_location"), transaction.atomic():
            make_post(state="located", location_method="text")

    def test_location_method_none_means_no_location(self, make_post):
        with pytest.raises(IntegrityError, match="post_location_method_matches_location"), transaction.atomic():
            make_post(location=CAPITOLE, location_method="none")

    def test_relevance_is_a_probability(self, make_post):
        with pytest.raises(IntegrityError, match="post_relevance_0_1"), transaction.atomic():
            make_post(relevance=1.5)

    def test_works_cannot_end_before_they_start(self, make_works_zone):
        with pytest.raises(IntegrityError, match="workszone_ends_after_start"), transaction.atomic():
            make_works_zone(starts_at=paris(2014, 9, 10), ends_at=paris(2014, 9, 1))

    def test_duplicate_status_requires_an_original(self, make_incident):
        with pytest.raises(IntegrityError, match="incident_duplicate_has_original"), transaction.atomic():
            make_incident(status="duplicate")

    def test_only_duplicates_point_at_an_original(self, make_incident):
        original = make_incident()
        with pytest.raises(IntegrityError, match="incident_duplicate_has_original"), transaction.atomic():
            make_incident(status="new", duplicate_of=original)

    def test_incident_cannot_duplicate_itself(self, make_incident):
        incident = make_incident()
        with pytest.raises(IntegrityError, match="incident_not_duplicate_of_itself"), transaction.atomic():
            Incident.objects.filter(pk=incident.pk).update(status="duplicate", duplicate_of=incident)


class TestDerivedWorksStatus:
    @pytest.fixture
    def zone(self, make_works_zone):
        return make_works_zone(starts_at=paris(2014, 9, 5, 8), ends_at=paris(2014, 9, 12, 18))

    @pytest.mark.parametrize(
        ("instant", "expected"),
        [
            (paris(2014, 9, 5, 7, 59), WorksStatus.PLANNED),
            (paris(2014, 9, 5, 8), WorksStatus.ACTIVE),
            (paris(2014, 9, 12, 18), WorksStatus.ACTIVE),
            (paris(2014, 9, 12, 18, 1), WorksStatus.ENDED),
        ],
    )
    def test_status_at_an_instant_in_python_and_in_sql_agree(self, zone, instant, expected):
        assert zone.status_at(instant) == expected
        assert WorksZone.objects.with_status(instant).get(pk=zone.pk).status == expected
        assert WorksZone.objects.active_at(instant).filter(pk=zone.pk).exists() == (expected == WorksStatus.ACTIVE)

    def test_status_is_not_stored_so_it_follows_the_clock(self, zone):
        statuses = {zone.status_at(paris(2014, 9, day)) for day in (1, 8, 20)}
        assert statuses == {WorksStatus.PLANNED, WorksStatus.ACTIVE, WorksStatus.ENDED}

    def test_withdrawn_zone_ends_at_its_withdrawal(self, zone):
        WorksZone.objects.filter(pk=zone.pk).update(withdrawn_at=paris(2014, 9, 8))
        zone.refresh_from_db()
        assert zone.status_at(paris(2014, 9, 9)) == WorksStatus.ENDED
        assert not WorksZone.objects.active_at(paris(2014, 9, 9)).filter(pk=zone.pk).exists()
        assert WorksZone.objects.active_at(paris(2014, 9, 7)).filter(pk=zone.pk).exists()

    def test_open_ended_zone_stays_active(self, make_works_zone):
        zone = make_works_zone(starts_at=paris(2014, 9, 1), ends_at=None)
        assert zone.status_at(paris(2030, 1, 1)) == WorksStatus.ACTIVE
        assert WorksZone.objects.active_at(paris(2030, 1, 1)).filter(pk=zone.pk).exists()

    def test_grace_period_widens_activity(self, zone):
        late = paris(2014, 9, 12, 18) + dt.timedelta(hours=5)
        assert not WorksZone.objects.active_at(late).filter(pk=zone.pk).exists()
        assert WorksZone.objects.active_at(late, grace=dt.timedelta(hours=6)).filter(pk=zone.pk).exists()

    def test_active_on_uses_the_local_calendar_day(self, make_works_zone):
        # Ends at 00:30 Paris time on the 13th, i.e. 22:30 UTC on the 12th.
        zone = make_works_zone(starts_at=paris(2014, 9, 1), ends_at=paris(2014, 9, 13, 0, 30))
        assert WorksZone.objects.active_on(dt.date(2014, 9, 13)).filter(pk=zone.pk).exists()
        assert not WorksZone.objects.active_on(dt.date(2014, 9, 14)).filter(pk=zone.pk).exists()


class TestMetricGeometry:
    def test_a_50_m_impact_buffer_around_a_toulouse_point_reaches_50_m(self, make_works_zone):
        zone = make_works_zone(geom=CAPITOLE, buffer_m=50)
        # Points 49 m away in every direction are inside, 51 m away outside.
        for east, north in [(1, 0), (-1, 0), (0, 1), (0, -1), (0.7071, 0.7071)]:
            assert zone.impact_area.contains(offset(CAPITOLE, east * 49, north * 49))
            assert not zone.impact_area.contains(offset(CAPITOLE, east * 51, north * 51))
        # And measured on the spheroid, the ring is 50 m from the point (not 50 degrees).
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT ST_Distance(ST_Boundary(impact_area)::geography, %s::geography) FROM incidents_workszone"
                " WHERE id = %s",
                [CAPITOLE.ewkt, zone.pk],
            )
            (ring_distance,) = cursor.fetchone()
        assert ring_distance == pytest.approx(50, abs=1)

    def test_impact_area_of_a_line_is_a_corridor(self, make_works_zone):
        line = LineString([CAPITOLE.coords, offset(CAPITOLE, east_m=200).coords], srid=4326)
        zone = make_works_zone(geom=line, buffer_m=25)
        assert zone.impact_area.contains(offset(CAPITOLE, east_m=100, north_m=20))
        assert not zone.impact_area.contains(offset(CAPITOLE, east_m=100, north_m=30))

    def test_segment_length_is_in_metres(self, make_segment):
        segment = make_segment(coords=[CAPITOLE.coords, offset(CAPITOLE, east_m=100).coords])
        assert segment.length_m == pytest.approx(100, rel=0.01)

    def test_near_filters_and_sorts_by_metres(self, make_segment):
        close = make_segment("RUE A", [offset(CAPITOLE, north_m=10).coords, offset(CAPITOLE, 50, 10).coords])
        far = make_segment("RUE B", [offset(CAPITOLE, north_m=40).coords, offset(CAPITOLE, 50, 40).coords])
        make_segment("RUE C", [offset(CAPITOLE, north_m=300).coords, offset(CAPITOLE, 50, 300).coords])
        found = list(StreetSegment.objects.near(CAPITOLE, 50))
        assert [s.pk for s in found] == [close.pk, far.pk]
        assert found[0].distance_m == pytest.approx(10, abs=0.5)
        assert found[1].distance_m == pytest.approx(40, abs=0.5)

    def test_in_bbox(self, make_incident):
        inside = make_incident(location=CAPITOLE)
        make_incident(location=Point(2.35, 48.85, srid=4326))
        found = Incident.objects.in_bbox(1.4, 43.5, 1.5, 43.7)
        assert list(found) == [inside]
