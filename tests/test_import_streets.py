"""import_streets: Toulouse layers, Opendatasoft JSON shapes, OpenStreetMap XML/PBF, generic GeoJSON."""

from __future__ import annotations

import io
import sys

import osmium
import pytest
from django.db import connection
from django.utils import translation

from incidents.importers import import_streets
from incidents.inputs import read_paths
from incidents.models import StreetSegment
from tests.importing import OSM, SENS, ZONES, collection, feature, line, load, run, write_json

pytestmark = pytest.mark.django_db


def segment(source_id: str, source: str = "toulouse") -> StreetSegment:
    return StreetSegment.objects.get(source=source, source_id=source_id)


class TestToulouseLayers:
    def test_sens_de_circulation_counts_names_and_lengths(self):
        out = run("import_streets", SENS)
        # 3,014 rows, 11 of them further pieces of a segment already read.
        assert "3,014 read, 3,003 created, 0 updated, 0 unchanged, 0 repaired, 0 rejected, 11 merged" in out
        assert StreetSegment.objects.filter(source="toulouse").count() == 3003
        aghonne = segment("31555:9288")
        assert aghonne.name == "RUE MIE D AGHONNE"
        assert aghonne.name_normalized == "rue mie aghonne"
        assert (aghonne.street_id, aghonne.commune, aghonne.insee_code) == ("315559000005", "TOULOUSE", "31555")
        assert aghonne.geom.geom_type == "MultiLineString"
        # Measured on the spheroid in PostGIS; Toulouse publishes 64 m.
        assert aghonne.length_m == pytest.approx(64, abs=2)
        assert aghonne.properties["motdir"] == "AGHONNE (RUE MIE D AGHONNE)"

    def test_the_table_is_analysed_after_the_import(self):
        """The pipeline's street joins are planned from these statistics: a table planned as empty
        was once joined with itself row by row (87 s per batch of 15 posts)."""
        run("import_streets", SENS)
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [StreetSegment._meta.db_table])
            (estimated,) = cursor.fetchone()
        assert estimated == pytest.approx(3003, rel=0.05)

    def test_segment_ids_are_scoped_by_commune(self):
        run("import_streets", SENS)
        assert segment("31555:2483").name == "BD PIERRE SEMARD"
        assert segment("31069:2483").name == "RUE DE LA CROIX BLANCHE"

    def test_pieces_published_as_several_rows_become_one_segment(self):
        run("import_streets", SENS)
        duportal = segment("31555:3100")
        assert duportal.geom.num_geom == 3
        assert duportal.length_m == pytest.approx(64 + 311 + 69, rel=0.05)

    def test_rows_without_managed_id_fall_back_to_the_observed_id(self):
        run("import_streets", SENS)
        assert segment("31069:obs27044").name == "PL GEORGES BRASSENS"
        assert segment("31555:obs7055").name == "RUE PAUL ELUARD"

    def test_both_layers_together_store_each_shared_segment_once(self):
        out = run("import_streets", SENS, ZONES)
        assert "3,785 read, 3,310 created" in out
        assert "475 merged" in out
        lejeune = segment("31555:3089")
        # One line, not the same line twice; attributes of both layers.
        assert lejeune.geom.num_geom == 1
        assert lejeune.properties["itineraire_desserte"] == "oui"
        assert lejeune.properties["type"] == "Zone de Rencontre"
        # Segments only in zones-de-rencontre are there too.
        assert segment("31555:4761").name == "RUE SAINTE ANNE"

    def test_reimport_changes_nothing(self):
        run("import_streets", SENS, ZONES)
        before = dict(StreetSegment.objects.values_list("id", "updated_at"))
        out = run("import_streets", SENS, ZONES)
        assert "0 created, 0 updated, 3,310 unchanged" in out
        assert dict(StreetSegment.objects.values_list("id", "updated_at")) == before

    def test_a_changed_record_is_updated_in_place(self, tmp_path):
        document = load(SENS)
        document["features"] = document["features"][:3]
        path = write_json(tmp_path / "streets.geojson", document)
        run("import_streets", path)
        original = segment("31555:9288")
        document["features"][0]["properties"]["street"] = "RUE MIE D'AGHONNE"
        write_json(path, document)
        result = import_streets(read_paths([str(path)]))
        assert (result.created, result.updated, result.unchanged) == (0, 1, 2)
        updated = segment("31555:9288")
        assert updated.pk == original.pk
        assert updated.name == "RUE MIE D'AGHONNE"
        assert result.updated_ids == [original.pk]
        assert result.changed_extent == pytest.approx(original.geom.extent)


def _layer_state() -> dict[str, tuple]:
    return {
        s.source_id: (s.name, s.street_id, s.commune, s.insee_code, s.geom.wkb, s.properties, s.retired_at)
        for s in StreetSegment.objects.filter(source="toulouse")
    }


class TestToulouseLayersOneAtATime:
    """sens-de-circulation and zones-de-rencontre share an id space: which layer wins each field is decided once."""

    def test_alternating_imports_write_nothing_the_second_time_round(self):
        run("import_streets", SENS)
        assert "307 created, 462 updated, 0 unchanged" in run("import_streets", ZONES)
        before = dict(StreetSegment.objects.values_list("id", "updated_at"))
        # 462 segments flipped between the two layers' attributes at each import until 2026-12.
        assert "0 created, 0 updated, 3,003 unchanged, 0 repaired, 0 rejected, 11 merged in" in run(
            "import_streets", SENS
        )
        assert "0 created, 0 updated, 769 unchanged, 0 repaired, 0 rejected, 2 merged in" in run(
            "import_streets", ZONES
        )
        assert dict(StreetSegment.objects.values_list("id", "updated_at")) == before
        # One layer alone retires nothing the other lists.
        assert StreetSegment.objects.current().count() == 3310

    def test_one_at_a_time_in_any_order_or_together_the_same_segments(self):
        run("import_streets", ZONES)
        run("import_streets", SENS)
        one_at_a_time = _layer_state()
        StreetSegment.objects.all().delete()
        run("import_streets", SENS, ZONES)
        assert _layer_state() == one_at_a_time
        lejeune = segment("31555:3089")
        # sens-de-circulation wins what both publish; zones-de-rencontre adds its own attributes.
        assert lejeune.properties["itineraire_desserte"] == "oui"
        assert lejeune.properties["type"] == "Zone de Rencontre"
        assert sorted(lejeune.layers) == ["sens-de-circulation", "zones-de-rencontre"]
        assert lejeune.properties["date_mes"] == lejeune.layers["sens-de-circulation"]["properties"]["date_mes"]

    def test_a_layer_that_no_longer_lists_a_segment(self, tmp_path):
        run("import_streets", SENS, ZONES)
        zones = load(ZONES)
        gone = {(31555, 3089), (31555, 4761)}  # rue Lejeune is in both layers, rue Sainte-Anne only in zones
        zones["features"] = [
            f for f in zones["features"] if (f["properties"]["code_insee"], f["properties"]["id_seg_ges"]) not in gone
        ]
        out = run("import_streets", write_json(tmp_path / "zones-de-rencontre.geojson", zones))
        assert "769 read, 0 created, 1 updated, 767 unchanged" in out
        assert "1 retired" in out
        assert segment("31555:4761").retired_at is not None
        lejeune = segment("31555:3089")
        assert lejeune.retired_at is None  # sens-de-circulation still lists it
        assert "type" not in lejeune.properties
        assert list(lejeune.layers) == ["sens-de-circulation"]
        # Listed again: back as it was.
        run("import_streets", ZONES)
        assert segment("31555:4761").retired_at is None
        assert segment("31555:3089").properties["type"] == "Zone de Rencontre"


def _sens_records(count: int = 2) -> list[dict]:
    """A few sens-de-circulation features as flat Opendatasoft records."""
    return [{**f["properties"], "geo_shape": f["geometry"]} for f in load(SENS)["features"][:count]]


class TestOpendatasoftJson:
    def test_v2_export_list_with_geo_shape_feature(self, tmp_path):
        records = [
            {**r, "geo_shape": {"type": "Feature", "geometry": r["geo_shape"], "properties": {}}}
            for r in _sens_records()
        ]
        out = run("import_streets", write_json(tmp_path / "export.json", records))
        assert "2 created" in out
        assert segment("31555:9288").geom.geom_type == "MultiLineString"
        assert "geo_shape" not in segment("31555:9288").properties

    def test_v2_api_results(self, tmp_path):
        answer = {"total_count": 2, "results": _sens_records()}
        assert "2 created" in run("import_streets", write_json(tmp_path / "api.json", answer))

    def test_v1_records(self, tmp_path):
        records = [{"recordid": "abc", "fields": r, "geometry": r["geo_shape"]} for r in _sens_records()]
        assert "2 created" in run("import_streets", write_json(tmp_path / "v1.json", {"nhits": 2, "records": records}))

    def test_filaire_de_voirie_fields(self, tmp_path):
        records = [
            {
                "id_troncon": 70112,
                "libelle": "ALL JEAN JAURES",
                "codsti": "315554215011",
                "mot_directeur": "JAURES",
                "code_insee": 31555,
                "geo_shape": line((1.4485, 43.6060), (1.4510, 43.6075)),
            }
        ]
        out = run("import_streets", write_json(tmp_path / "filaire-de-voirie.json", records))
        assert "1 created" in out
        jaures = segment("31555:70112")
        assert (jaures.name, jaures.name_normalized, jaures.street_id) == (
            "ALL JEAN JAURES",
            "allees jean jaures",
            "315554215011",
        )
        assert jaures.geom.geom_type == "MultiLineString"
        assert jaures.length_m == pytest.approx(252, abs=10)


class TestOpenStreetMap:
    def test_named_streets_split_at_junctions(self):
        out = run("import_streets", OSM)
        assert "10 created" in out
        assert "skipped 23: unnamed highway ways" in out
        monplaisir = StreetSegment.objects.filter(source="osm", name="Rue Monplaisir").order_by("source_id")
        # Rue Bègué David and Rue Jean Stieltjes start on Rue Monplaisir: three stretches.
        assert list(monplaisir.values_list("source_id", flat=True)) == [
            "way/22540738/241773232-241773238",
            "way/22540738/241773238-241773240",
            "way/22540738/241773240-241773242",
        ]
        assert {s.street_id for s in monplaisir} == {"way/22540738"}
        stieltjes = StreetSegment.objects.get(source="osm", name="Rue Jean Stieltjes")
        assert stieltjes.properties["highway"] == "residential"
        assert stieltjes.name_normalized == "rue jean stieltjes"
        assert stieltjes.length_m == pytest.approx(71.8, abs=1)

    def test_pbf_gives_the_same_segments_as_xml(self, tmp_path):
        pbf = tmp_path / "extract.osm.pbf"
        with osmium.SimpleWriter(str(pbf)) as writer:
            for obj in osmium.FileProcessor(str(OSM)):
                writer.add(obj)
        run("import_streets", OSM)
        out = run("import_streets", pbf, "--source", "osm-pbf")
        assert "10 created" in out
        xml = dict(StreetSegment.objects.filter(source="osm").values_list("source_id", "geom"))
        from_pbf = dict(StreetSegment.objects.filter(source="osm-pbf").values_list("source_id", "geom"))
        assert xml.keys() == from_pbf.keys()
        # PBF stores coordinates to 1e-7 degrees, as OSM does.
        assert all(xml[key].equals_exact(from_pbf[key], 1e-7) for key in xml)

    def test_reimport_changes_nothing(self):
        run("import_streets", OSM)
        assert "0 created, 0 updated, 10 unchanged" in run("import_streets", OSM)

    def test_output_follows_the_language(self):
        with translation.override("fr"):
            out = run("import_streets", OSM, "--map", "name=nom")
        assert "--map est ignoré pour l’OSM" in out
        assert "ignorés 23 : voies highway sans nom" in out


class TestGenericGeojson:
    def test_map_reads_any_schema(self, tmp_path):
        document = collection(
            feature(
                {"OBJECTID": 7, "NOM_VOIE": "Rue de Metz", "INSEE": "31555"}, line((1.444, 43.600), (1.446, 43.600))
            )
        )
        path = write_json(tmp_path / "bdtopo.geojson", document)
        out = run("import_streets", path, "--map", "id=OBJECTID", "--map", "name=NOM_VOIE", "--map", "insee=INSEE")
        assert "streets (source bdtopo): 1 read, 1 created" in out
        metz = segment("7", source="bdtopo")
        assert (metz.name, metz.name_normalized, metz.insee_code) == ("Rue de Metz", "rue metz", "31555")

    def test_feature_id_and_name_by_default(self, tmp_path):
        document = collection(feature({"name": "Rue d'Alsace-Lorraine"}, line((1.445, 43.60), (1.445, 43.61)), id="a1"))
        run("import_streets", write_json(tmp_path / "x.geojson", document), "--source", "city")
        assert segment("a1", source="city").name_normalized == "rue alsace lorraine"

    def test_stdin(self, monkeypatch):
        document = collection(feature({"id": 1, "name": "Rue Alsace"}, line((1.445, 43.60), (1.445, 43.61))))
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(str(document).replace("'", '"').encode())))
        out = run("import_streets", "-", "--source", "piped")
        assert "streets (source piped): 1 read, 1 created" in out

    def test_folder_is_one_batch(self, tmp_path):
        folder = tmp_path / "layers"
        folder.mkdir()
        write_json(
            folder / "a.geojson", collection(feature({"id": 1, "name": "Rue A"}, line((1.44, 43.6), (1.45, 43.6))))
        )
        write_json(
            folder / "b.geojson", collection(feature({"id": 2, "name": "Rue B"}, line((1.44, 43.61), (1.45, 43.61))))
        )
        (folder / "notes.txt").write_text("ignored")
        out = run("import_streets", folder)
        assert "streets (source layers): 2 read, 2 created" in out
