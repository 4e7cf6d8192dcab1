"""import_works: Toulouse snapshots and API, WZDx feeds, generic GeoJSON, snapshots and withdrawal."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management.base import CommandError
from django.utils import timezone

from incidents.importers import import_works
from incidents.inputs import read_paths
from incidents.models import WorksStatus, WorksZone
from tests.conftest import PARIS, paris
from tests.importing import WORKS_2014, WORKS_2026, WZDX, collection, feature, line, load, run, write_json

pytestmark = pytest.mark.django_db


def zone(source_id: str, source: str = "toulouse") -> WorksZone:
    return WorksZone.objects.get(source=source, source_id=source_id)


def end_of_day(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, 23, 59, 59, 999999, tzinfo=PARIS)


class TestToulouse2014Snapshots:
    def test_counts_one_zone_per_works_across_snapshots(self):
        out = run("import_works", WORKS_2014)
        # 7 snapshots of ~380 rows: 478 distinct works.
        assert "2,676 read, 478 created, 0 updated, 0 unchanged, 0 repaired, 0 rejected, 2,198 merged" in out
        assert WorksZone.objects.filter(source="toulouse").count() == 478

    def test_dates_are_aware_paris_times_and_snapshots_give_first_and_last_seen(self):
        run("import_works", WORKS_2014)
        daurade = WorksZone.objects.get(source="toulouse", road_names=["IMP CIMETIERE CRX DAURADE"])
        assert daurade.source_id.startswith("45.10368920951468:")
        # datedebut 20140715, datefin 20150116: from the start of the first day to the end of the last.
        assert daurade.starts_at == paris(2014, 7, 15, 0, 0)
        assert daurade.ends_at == end_of_day(2015, 1, 16)
        assert daurade.first_seen_at == paris(2014, 9, 5, 9, 43).replace(second=3)
        assert daurade.last_seen_at == paris(2014, 9, 12, 9, 43).replace(second=4)
        assert timezone.is_aware(daurade.starts_at)
        assert daurade.withdrawn_at is None
        assert daurade.status_at(paris(2014, 9, 8)) == WorksStatus.ACTIVE
        assert (daurade.title, daurade.declarant) == (
            "Electricité, enfouissement article 8 - IMP CIMETIERE CRX DAURADE",
            "VT - DEP",
        )
        assert daurade.nature == "Electricité, enfouissement article 8"

    def test_points_with_impact_areas_and_flags(self):
        run("import_works", WORKS_2014)
        daurade = WorksZone.objects.get(source="toulouse", road_names=["IMP CIMETIERE CRX DAURADE"])
        assert daurade.geom.geom_type == "Point"
        assert daurade.geom.coords == pytest.approx((1.46433515203358, 43.6393540574811))
        assert daurade.impact_area.geom_type == "MultiPolygon"
        # "Gêne de la circulation": vehicles only.
        assert (daurade.impact_vehicle, daurade.impact_pedestrian, daurade.impact_closure) == (True, False, False)
        pavement = WorksZone.objects.filter(
            source="toulouse", impact_text="Occupation du trottoir - Alternat - Occupation de 1 file"
        ).first()
        assert (pavement.impact_pedestrian, pavement.impact_vehicle, pavement.impact_closure) == (True, True, False)
        closed = WorksZone.objects.filter(source="toulouse", impact_text="Rue barrée").first()
        assert (closed.impact_closure, closed.impact_vehicle, closed.impact_pedestrian) == (True, True, False)

    def test_street_lists_become_road_names(self):
        run("import_works", WORKS_2014)
        raudelauzette = WorksZone.objects.get(source="toulouse", road_names=["CHE DE RAUDELAUZETTE", "RTE DE FRONTON"])
        assert raudelauzette.properties["voie"] == "CHE DE RAUDELAUZETTE(  - ) | RTE DE FRONTON(  - )"

    def test_reimport_changes_nothing(self):
        run("import_works", WORKS_2014)
        before = dict(WorksZone.objects.values_list("id", "updated_at"))
        assert "0 created, 0 updated, 478 unchanged" in run("import_works", WORKS_2014)
        assert dict(WorksZone.objects.values_list("id", "updated_at")) == before


class TestToulouseApi:
    def test_current_api_records(self):
        out = run("import_works", WORKS_2026)
        assert "3 read, 3 created" in out
        assert "a partial answer (3 of 987 records): what is missing from it is kept as it is" in out
        maguelonnes = zone("T26VLT04616")
        assert maguelonnes.reference == "T26VLT04616"
        assert maguelonnes.geom.geom_type == "LineString"
        assert (maguelonnes.commune, maguelonnes.declarant, maguelonnes.contractor) == (
            "Villeneuve-Tolosane",
            "ORANGE",
            "SPIE",
        )
        assert maguelonnes.description.startswith("Tirage et raccordement fibre")
        assert maguelonnes.road_names == ["RUE DE MAGUELONNES"]
        # Served as UTC midnight, meant as Toulouse calendar days.
        assert maguelonnes.starts_at == paris(2026, 8, 3, 0, 0)
        assert maguelonnes.ends_at == end_of_day(2026, 8, 21)
        # "Alternat - Occupation de 1 file - Occupation du trottoir", raw text kept.
        assert maguelonnes.impact_text == "Alternat - Occupation de 1 file - Occupation du trottoir"
        assert (maguelonnes.impact_vehicle, maguelonnes.impact_pedestrian, maguelonnes.impact_closure) == (
            True,
            True,
            False,
        )
        assert zone("T26TLS07026").impact_closure  # "Rue barrée"
        assert zone("T26TLS07084").impact_pedestrian  # "Occupation du trottoir"
        assert maguelonnes.first_seen_at is None  # no snapshot time, no --as-of

    def test_as_of_records_sightings(self):
        run("import_works", WORKS_2026, "--as-of", "2026-09-07T08:00")
        assert zone("T26TLS07084").last_seen_at == paris(2026, 9, 7, 8, 0)


def _snapshot_row(site: float, voie: str, stamp: str, end: str = "20141231") -> dict:
    return {
        "X_WGS84": 1.444,
        "Y_WGS84": 43.604,
        "id": site,
        "voie": f"{voie}(  - )",
        "nature": "Voirie",
        "libelle": f"Voirie - {voie}",
        "circulation": "Occupation du trottoir",
        "datedebut": "20140901",
        "datefin": end,
        "declarant": "TM",
        "date": stamp,
    }


class TestSnapshots:
    def test_zone_missing_from_a_newer_snapshot_is_withdrawn_not_deleted(self, tmp_path):
        day1 = write_json(
            tmp_path / "day1.json",
            [_snapshot_row(1.5, "RUE A", "2014-09-05T09:00:00"), _snapshot_row(2.5, "RUE B", "2014-09-05T09:00:00")],
        )
        day2 = write_json(tmp_path / "day2.json", [_snapshot_row(1.5, "RUE A", "2014-09-06T09:00:00")])
        run("import_works", day1)
        out = run("import_works", day2)
        assert "0 created, 1 updated, 0 unchanged" in out
        assert "1 withdrawn" in out
        gone = WorksZone.objects.get(road_names=["RUE B"])
        assert gone.withdrawn_at == paris(2014, 9, 6, 9, 0)
        assert gone.status_at(paris(2014, 9, 6, 10)) == WorksStatus.ENDED
        assert gone.status_at(paris(2014, 9, 5, 10)) == WorksStatus.ACTIVE
        kept = WorksZone.objects.get(road_names=["RUE A"])
        assert (kept.first_seen_at, kept.last_seen_at, kept.withdrawn_at) == (
            paris(2014, 9, 5, 9, 0),
            paris(2014, 9, 6, 9, 0),
            None,
        )
        # Again: nothing changes.
        assert "0 created, 0 updated, 1 unchanged, 0 repaired, 0 rejected, 0 withdrawn" in run("import_works", day2)

    def test_an_older_snapshot_does_not_roll_back(self, tmp_path):
        day1 = write_json(
            tmp_path / "day1.json",
            [_snapshot_row(1.5, "RUE A", "2014-09-05T09:00:00"), _snapshot_row(2.5, "RUE B", "2014-09-05T09:00:00")],
        )
        day2 = write_json(tmp_path / "day2.json", [_snapshot_row(1.5, "RUE A", "2014-09-06T09:00:00", end="20150101")])
        run("import_works", day1)
        run("import_works", day2)
        run("import_works", day1)
        a, b = WorksZone.objects.get(road_names=["RUE A"]), WorksZone.objects.get(road_names=["RUE B"])
        assert a.ends_at == end_of_day(2015, 1, 1)
        assert a.last_seen_at == paris(2014, 9, 6, 9, 0)
        assert b.withdrawn_at == paris(2014, 9, 6, 9, 0)

    def test_a_zone_seen_again_is_no_longer_withdrawn(self, tmp_path):
        rows = [_snapshot_row(1.5, "RUE A", "2014-09-05T09:00:00"), _snapshot_row(2.5, "RUE B", "2014-09-05T09:00:00")]
        rows += [_snapshot_row(1.5, "RUE A", "2014-09-07T09:00:00")]
        rows += [_snapshot_row(1.5, "RUE A", "2014-09-08T09:00:00"), _snapshot_row(2.5, "RUE B", "2014-09-08T09:00:00")]
        run("import_works", write_json(tmp_path / "week.json", rows))
        b = WorksZone.objects.get(road_names=["RUE B"])
        assert (b.last_seen_at, b.withdrawn_at) == (paris(2014, 9, 8, 9, 0), None)

    def test_works_that_ended_before_the_snapshot_are_not_withdrawn(self, tmp_path):
        day1 = write_json(tmp_path / "d1.json", [_snapshot_row(2.5, "RUE B", "2014-09-05T09:00:00", end="20140905")])
        day2 = write_json(tmp_path / "d2.json", [_snapshot_row(1.5, "RUE A", "2014-09-06T09:00:00")])
        run("import_works", day1)
        assert "0 withdrawn" in run("import_works", day2)
        assert WorksZone.objects.get(road_names=["RUE B"]).withdrawn_at is None

    def test_result_tells_what_changed_for_relinking(self, tmp_path):
        day1 = write_json(
            tmp_path / "day1.json",
            [_snapshot_row(1.5, "RUE A", "2014-09-05T09:00:00"), _snapshot_row(2.5, "RUE B", "2014-09-05T09:00:00")],
        )
        day2 = write_json(tmp_path / "day2.json", [_snapshot_row(1.5, "RUE A", "2014-09-06T09:00:00")])
        import_works(read_paths([str(day1)]))
        result = import_works(read_paths([str(day2)]))
        b = WorksZone.objects.get(road_names=["RUE B"])
        assert result.withdrawn_ids == [b.pk]
        assert set(result.changed_ids) == set(WorksZone.objects.values_list("pk", flat=True))
        min_lon, min_lat, max_lon, max_lat = result.changed_extent
        assert min_lon < 1.444 < max_lon
        assert min_lat < 43.604 < max_lat
        # The box covers the 25 m impact area, not just the point.
        assert (max_lat - min_lat) * 111_320 == pytest.approx(50, abs=2)


class TestWzdx:
    def test_linestring_feed(self):
        out = run("import_works", WZDX / "scenario1_simple_linestring_example.geojson")
        assert "works (source wzdx-testdot): 5 read, 5 created, 0 updated" in out
        event = zone("af2e3f51-611f-4ce0-9282-2f28ca68e62f", source="wzdx-testdot")
        assert event.road_names == ["I-80", "I-35"]
        assert event.starts_at == dt.datetime(2010, 1, 1, 1, 0, tzinfo=dt.UTC)
        assert event.ends_at == dt.datetime(2010, 1, 2, 1, 0, tzinfo=dt.UTC)
        assert event.geom.geom_type == "LineString"
        assert event.declarant == "Test City 1"
        assert event.impact_vehicle
        assert not event.impact_closure
        assert event.impact_text == "vehicle impact: some-lanes-closed"
        assert event.last_seen_at == dt.datetime(2020, 6, 18, 15, 0, tzinfo=dt.UTC)
        lanes = zone("6f57aded-7291-462e-9892-607b2b7d116c", source="wzdx-testdot")
        assert lanes.nature == "surface-work"
        assert "lanes: 1 shoulder closed, 2 general closed, 3 general open" in lanes.impact_text

    def test_restrictions_and_lanes_become_flags(self):
        run("import_works", WZDX / "scenario3_shoulder_bidirectional_linestring_example.geojson")
        westbound = zone("62c5fa4b-11ee-45e6-a740-bc32d3b846e9", source="wzdx-testdot")
        assert westbound.impact_parking  # restriction no-parking
        assert not westbound.impact_vehicle  # all lanes open, only the shoulder is closed
        run("import_works", WZDX / "scenario6_multi_lane_closure_linestring_example.geojson")
        closure = zone("8fed746d-8f4f-4e0c-8d9b-fa4db7c3c2d8", source="wzdx-testdot")
        assert closure.impact_vehicle
        assert not closure.impact_closure
        assert "reduced-width 16 feet" in closure.impact_text

    def test_detours_are_skipped(self):
        out = run("import_works", WZDX / "scenario4_detour_linestring_example.geojson")
        assert "4 read, 1 created" in out
        assert "skipped 3: detour road events" in out

    def test_multipoint_geometry_kept_as_published(self):
        run("import_works", WZDX / "scenario1_simple_multipoint_example.geojson")
        assert zone("af2e3f51-611f-4ce0-9282-2f28ca68e62f", source="wzdx-testdot").geom.geom_type == "MultiPoint"

    def test_every_example_feed_validates(self):
        for path in sorted(WZDX.glob("scenario*.geojson")):
            assert "0 rejected" in run("import_works", path), path.name

    def test_schema_violations_are_reported_per_feature_and_valid_features_imported(self, tmp_path):
        feed = load(WZDX / "scenario1_simple_linestring_example.geojson")
        feed["features"][1]["properties"]["vehicle_impact"] = "everything-closed"
        del feed["features"][3]["properties"]["start_date"]
        out = run("import_works", write_json(tmp_path / "feed.geojson", feed))
        assert "5 read, 3 created" in out
        assert "2 rejected" in out
        assert (
            "rejected " + str(tmp_path / "feed.geojson") + ": features[1] (id edf2162b-1f5d-4ddd-a731-78fb81a22e6a): "
            "WZDx 4.2 schema: properties/vehicle_impact: 'everything-closed' is not one of"
        ) in out
        assert "features[3] (id 8bfb0ce0-98cd-4e92-924d-f0a9d3a4ba8f): WZDx 4.2 schema:" in out

    def test_feed_level_violation_is_a_note(self, tmp_path):
        feed = load(WZDX / "scenario2_laneshift_linestring_example.geojson")
        del feed["feed_info"]["version"]
        out = run("import_works", write_json(tmp_path / "feed.geojson", feed))
        assert "note: " in out
        assert "schema violation outside the features: feed_info: 'version' is a required property" in out
        assert "1 created" in out

    def test_device_feeds_are_refused_with_an_explanation(self):
        with pytest.raises(CommandError, match=r"a WZDx device feed .* import_works reads WorkZoneFeed files"):
            run("import_works", WZDX / "camera_error_example.geojson")

    def test_reimport_changes_nothing(self):
        path = WZDX / "scenario5_recurring_linestring_example.geojson"
        run("import_works", path)
        assert "0 created, 0 updated, 4 unchanged" in run("import_works", path)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


class TestWzdx3AndConnectedWorkZones:
    """Older WZDx (3.x: road_event_feed_info, flat properties) and CWZ 1.0 (camelCase) feeds are read too."""

    def test_wzdx_3_1_feed(self):
        out = run("import_works", WZDX / "wzdx_3.1_example.geojson")
        assert "works (source wzdx-exampledot): 3 read, 2 created, 0 updated" in out
        assert "skipped 1: detour road events" in out
        eastbound = zone("b0f4c2a6-6f3e-4c61-9a53-3d2a8e1f7c01", source="wzdx-exampledot")
        assert eastbound.road_names == ["Grand Avenue", "US 6"]
        assert (eastbound.starts_at, eastbound.ends_at) == (utc(2021, 3, 15, 12), utc(2021, 4, 30, 22))
        assert eastbound.declarant == "Example County Public Works"
        assert eastbound.nature == "below-road-work"
        assert eastbound.title == "Grand Avenue, US 6 eastbound"
        assert eastbound.last_seen_at == utc(2021, 3, 15, 14)
        # 3.x lane types ("lane") read as 4.x general lanes; plain restriction codes as restrictions.
        assert "lanes: 1 general open, 2 general closed, 3 sidewalk closed" in eastbound.impact_text
        assert "restrictions: no-parking" in eastbound.impact_text
        flags = (eastbound.impact_vehicle, eastbound.impact_pedestrian, eastbound.impact_parking)
        assert flags == (True, True, True)
        assert not eastbound.impact_closure
        assert eastbound.properties["lanes"][0]["restrictions"][0]["restriction_type"] == "reduced-width"
        westbound = zone("b0f4c2a6-6f3e-4c61-9a53-3d2a8e1f7c02", source="wzdx-exampledot")
        assert westbound.geom.geom_type == "MultiPoint"
        assert westbound.impact_closure  # every general lane closed

    def test_wzdx_3_0_feed_with_road_event_ids_and_a_single_road_name(self):
        out = run("import_works", WZDX / "wzdx_3.0_example.geojson")
        assert "2 read, 2 created, 0 updated, 0 unchanged, 0 repaired, 0 rejected" in out
        locust = zone("CITY-2020-1187", source="wzdx-exampledot")
        assert locust.road_names == ["Locust Street"]
        assert locust.declarant == "Example City Streets Division"
        assert locust.impact_text == "vehicle impact: alternating-one-way; restrictions: reduced-width, no-trucks"
        assert locust.impact_vehicle
        walnut = zone("CITY-2020-1190", source="wzdx-exampledot")
        assert walnut.impact_cycle  # the bike lane is closed
        assert not walnut.impact_closure

    def test_connected_work_zones_feed(self):
        out = run("import_works", WZDX / "cwz_1.0_example.geojson")
        assert "works (source wzdx-exampledot): 3 read, 2 created, 0 updated" in out
        assert "skipped 1: detour road events" in out
        resurfacing = zone("5d1e2f0a-8c4b-4d8e-b1a7-0c9e6f2a4b10", source="wzdx-exampledot")
        assert resurfacing.title == "I-235 EB resurfacing"
        assert (resurfacing.starts_at, resurfacing.ends_at) == (utc(2024, 6, 3, 2), utc(2024, 6, 21, 10))
        assert resurfacing.declarant == "ExampleDOT District 4"
        assert resurfacing.nature == "surface-work"
        assert resurfacing.last_seen_at == utc(2024, 6, 3, 9, 15)
        assert "lanes: 1 general closed, 2 general open, 3 shoulder open" in resurfacing.impact_text
        assert (resurfacing.impact_vehicle, resurfacing.impact_closure) == (True, False)
        # Kept as published, camelCase.
        assert resurfacing.properties["coreDetails"]["roadNames"] == ["I-235"]
        sidewalk = zone("5d1e2f0a-8c4b-4d8e-b1a7-0c9e6f2a4b11", source="wzdx-exampledot")
        assert (sidewalk.impact_pedestrian, sidewalk.impact_parking, sidewalk.impact_vehicle) == (True, True, False)

    def test_reimport_changes_nothing(self):
        for name in ("wzdx_3.1_example.geojson", "wzdx_3.0_example.geojson", "cwz_1.0_example.geojson"):
            run("import_works", WZDX / name)
            assert "0 created, 0 updated, 2 unchanged" in run("import_works", WZDX / name), name

    @pytest.mark.parametrize("name", ["wzdx_3.1_example.geojson", "cwz_1.0_example.geojson"])
    def test_what_cannot_be_read_is_rejected_per_feature(self, tmp_path, name):
        feed = load(WZDX / name)
        cwz = "feedInfo" in feed
        start = "startDate" if cwz else "start_date"
        good = feed["features"][0]
        unreadable = [
            "not a feature",
            {**good, "id": None},
            {**good, "id": "bad-date", "properties": {**good["properties"], start: "soon"}},
            {
                **good,
                "id": "polygon",
                "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 1], [0, 0]]]},
            },
            {"type": "Feature", "id": "no-properties", "geometry": good["geometry"]},
        ]
        # Garbage where codes and lists are expected sets no flag, and costs nothing else.
        odd = {**good["properties"], "lanes": ["x", {"order": "first", "type": ["general"], "restrictions": [5]}]}
        odd["vehicleImpact" if cwz else "vehicle_impact"] = {"not": "a code"}
        odd["restrictions"] = "no-parking"
        feed["features"] = [*unreadable, {**good, "id": "odd", "properties": odd}, good]
        (feed["feedInfo"] if cwz else feed["road_event_feed_info"])["dataSources" if cwz else "data_sources"] = 5
        out = run("import_works", write_json(tmp_path / "feed.geojson", feed))
        assert "7 read, 2 created" in out
        assert "5 rejected" in out
        assert "features[0]: not a GeoJSON Feature with properties" in out
        assert "features[1]: no id (a road event is known by its feature id)" in out
        assert f"features[2] (id bad-date): {start}: 'soon' is not a date-time" in out
        assert "features[3] (id polygon): Polygon geometry where a line or points is expected" in out
        assert "features[4] (id no-properties): not a GeoJSON Feature with properties" in out
        assert zone("odd", source="wzdx-exampledot").impact_text.startswith("lanes: first")


class TestGenericWorks:
    def test_polygons_lines_and_points_through_map(self, tmp_path):
        square = {"type": "Polygon", "coordinates": [[[1.44, 43.60], [1.441, 43.60], [1.441, 43.601], [1.44, 43.60]]]}
        props = {"ref": "P1", "quoi": "Réseau gaz", "debut": "2024-03-01", "fin": "15/03/2024", "gene": "Route barrée"}
        document = collection(
            feature(props, square),
            feature({**props, "ref": "P2"}, line((1.44, 43.60), (1.45, 43.60))),
            feature({**props, "ref": "P3"}, {"type": "Point", "coordinates": [1.44, 43.60]}),
        )
        path = write_json(tmp_path / "permits.geojson", document)
        maps = ["id=ref", "title=quoi", "start=debut", "end=fin", "impact=gene"]
        out = run("import_works", path, *[arg for m in maps for arg in ("--map", m)])
        assert "works (source permits): 3 read, 3 created" in out
        polygon = zone("P1", source="permits")
        assert polygon.geom.geom_type == "Polygon"
        assert (polygon.starts_at, polygon.ends_at) == (paris(2024, 3, 1, 0, 0), end_of_day(2024, 3, 15))
        assert polygon.impact_closure
        assert polygon.title == "Réseau gaz"
        assert {z.geom.geom_type for z in WorksZone.objects.filter(source="permits")} == {
            "Polygon",
            "LineString",
            "Point",
        }

    def test_contact_through_map_and_kept_when_the_feed_has_none(self, tmp_path):
        point = {"type": "Point", "coordinates": [1.44, 43.60]}
        document = collection(
            feature({"ref": "C1", "debut": "2024-03-01", "mail": "mailto:chantier@example.org"}, point),
            feature({"ref": "C2", "debut": "2024-03-01", "mail": "pas une adresse"}, point),
        )
        maps = ["--map", "id=ref", "--map", "start=debut", "--map", "contact=mail"]
        out = run("import_works", write_json(tmp_path / "contacts.geojson", document), *maps)
        assert "contact 'pas une adresse' is not an e-mail address" in out
        assert zone("C1", source="contacts").contact == "chantier@example.org"
        # Staff set a contact; the same feed without contacts does not erase it.
        WorksZone.objects.filter(source="contacts").update(contact="equipe@example.org")
        document = collection(feature({"ref": "C1", "debut": "2024-03-02"}, point))
        run("import_works", write_json(tmp_path / "contacts.geojson", document), *maps)
        changed = zone("C1", source="contacts")
        assert (changed.contact, changed.starts_at) == ("equipe@example.org", paris(2024, 3, 2, 0, 0))

    def test_as_of_makes_a_full_snapshot(self, tmp_path):
        first = collection(
            feature({"id": "a", "start": "2024-03-01"}, line((1.44, 43.60), (1.45, 43.60))),
            feature({"id": "b", "start": "2024-03-01"}, line((1.44, 43.61), (1.45, 43.61))),
        )
        second = collection(feature({"id": "a", "start": "2024-03-01"}, line((1.44, 43.60), (1.45, 43.60))))
        run(
            "import_works",
            write_json(tmp_path / "w1.geojson", first),
            "--source",
            "city",
            "--as-of",
            "2024-03-02T08:00",
        )
        out = run(
            "import_works", write_json(tmp_path / "w2.geojson", second), "--source", "city", "--as-of", "2024-03-03"
        )
        assert "1 withdrawn" in out
        assert zone("b", source="city").withdrawn_at == paris(2024, 3, 3, 0, 0)
