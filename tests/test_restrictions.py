"""Impact texts and WZDx events become the impact flags of a works zone; the text is kept."""

import pytest

from incidents.importers.restrictions import parse_circulation, parse_wzdx, unread_clauses


def flags(impact) -> set[str]:
    return {name for name in ("vehicle", "pedestrian", "cycle", "parking", "closure") if getattr(impact, name)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Alternat - Occupation de 1 file - Occupation du trottoir", {"vehicle", "pedestrian"}),
        ("Route barrée", {"vehicle", "closure"}),
        ("Rue barrée - Occupation du trottoir", {"vehicle", "closure", "pedestrian"}),
        ("Gêne de la circulation", {"vehicle"}),
        ("Piste cyclable neutralisée", {"cycle"}),
        (
            "Occupation de la piste cyclable - Occupation du trottoir - Occupation de couloir de bus",
            {"cycle", "pedestrian", "vehicle"},
        ),
        ("Occupation du trottoir", {"pedestrian"}),
        ("Rue traversée par 1/2 chaussée - Occupation de 1 file", {"vehicle"}),
        ("Demi-chaussée barrée", {"vehicle"}),
        ("Occupation de 2 files", {"vehicle"}),
        ("Neutralisation du stationnement", {"parking"}),
        ("Cheminement piétons dévié", {"pedestrian"}),
        ("Sans incidence sur la circulation", set()),
        ("", set()),
        ("ROUTE BARREE", {"vehicle", "closure"}),
    ],
)
def test_circulation_text(text, expected):
    impact = parse_circulation(text)
    assert flags(impact) == expected
    assert impact.text == text


def test_clauses_nobody_understands_are_reported():
    assert unread_clauses("Occupation du trottoir - Présence de grue") == ["Présence de grue"]


def test_wzdx_all_lanes_closed_is_a_closure():
    assert flags(parse_wzdx({"vehicle_impact": "all-lanes-closed"})) == {"vehicle", "closure"}


def test_wzdx_lanes_and_restrictions():
    event = {
        "vehicle_impact": "some-lanes-closed",
        "lanes": [
            {"order": 2, "type": "general", "status": "closed"},
            {"order": 1, "type": "general", "status": "open"},
            {"order": 3, "type": "sidewalk", "status": "closed"},
            {"order": 4, "type": "bike-lane", "status": "merge-left"},
            {"order": 5, "type": "parking", "status": "open", "restrictions": [{"type": "no-parking"}]},
        ],
        "restrictions": [{"type": "reduced-width", "value": 10, "unit": "feet"}],
    }
    impact = parse_wzdx(event)
    assert flags(impact) == {"vehicle", "pedestrian", "cycle", "parking"}
    assert impact.text == (
        "vehicle impact: some-lanes-closed; lanes: 1 general open, 2 general closed, 3 sidewalk closed, "
        "4 bike-lane merge-left, 5 parking open; restrictions: reduced-width 10 feet"
    )


def test_wzdx_every_general_lane_closed_is_a_closure_whatever_vehicle_impact_says():
    lanes = [{"order": 1, "type": "general", "status": "closed"}, {"order": 2, "type": "shoulder", "status": "open"}]
    assert "closure" in flags(parse_wzdx({"vehicle_impact": "unknown", "lanes": lanes}))


def test_wzdx_open_lanes_affect_nobody():
    assert flags(parse_wzdx({"vehicle_impact": "all-lanes-open"})) == set()
