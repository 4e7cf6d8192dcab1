"""A works site's page: announced facts, the server-drawn timeline and its table, incidents, exports, languages."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from django.urls import reverse

from tests.conftest import CAPITOLE, offset, paris
from tests.web.conftest import XSS

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(make_works_zone, make_incident, make_segment):
    """Works in September 2014 beside the Capitole; incidents before, during, after and far away."""
    segment = make_segment("RUE DE METZ")
    zone = make_works_zone(
        CAPITOLE, starts_at=paris(2014, 9, 1), ends_at=paris(2014, 9, 30), title=f"Metz {XSS}",
        nature="Réseau d'eau", declarant="Eau de Toulouse", contractor="BTP Sud", contact="crew@example.org",
        impact_pedestrian=True, impact_text="Occupation du trottoir",
    )  # fmt: skip
    near = offset(CAPITOLE, east_m=30)
    incidents = [
        make_incident(location=near, first_post_at=paris(2014, 8, 25), segment=segment, category="lighting"),
        make_incident(location=near, first_post_at=paris(2014, 9, 5), segment=segment, affects=["pedestrians"]),
        make_incident(
            location=near,
            first_post_at=paris(2014, 9, 5, 18),
            category="road_surface_pothole",
            affects=["cyclists", "pedestrians"],
        ),
        make_incident(location=near, first_post_at=paris(2014, 10, 10), category="waste_cleanliness"),
        make_incident(location=offset(CAPITOLE, east_m=900), first_post_at=paris(2014, 9, 6)),  # too far
    ]
    return zone, incidents


def table(html: str, table_id: str) -> list[list[str]]:
    body = html[html.index(f'id="{table_id}"') :]
    body = body[: body.index("</table>")]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in rows]  # fmt: skip


def test_page_shows_what_was_announced_and_what_was_reported(client, site):
    zone, _incidents = site
    response = client.get(f"/works/{zone.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert XSS not in html
    assert "&lt;img src=x" in html  # escaped
    for text in (
        "Réseau d&#x27;eau",
        "Eau de Toulouse",
        "BTP Sud",
        "Occupation du trottoir",
        "pedestrians or pavement",
    ):
        assert text in html
    assert "crew@example.org" not in html  # the contact is for staff
    assert f'<link rel="canonical" href="http://testserver/works/{zone.pk}/">' in html
    assert f'href="/feeds/works/{zone.pk}.atom"' in html
    # The summary: one incident before, two during (the far one and the one after are not counted).
    summary = table(html, "impact-summary")
    assert summary[-1][1:] == ["1", "2"]


def test_timeline_is_an_svg_with_a_table_twin_of_the_same_numbers(client, site):
    zone, _incidents = site
    html = client.get(f"/works/{zone.pk}/").content.decode()
    assert html.count("<svg") == 2
    assert 'role="img"' in html
    assert '<title id="chart-1-title">Reports by category</title>' in html
    assert 'class="works-band"' in html
    rows = table(html, "chart-1-table")
    header, body = rows[0], rows[1:]
    assert header[:2] == ["Day", "Works"]
    assert header[-1] == "Total"
    assert {"Street lighting", "Works obstruction", "Road surface or pothole", "Waste or cleanliness"} <= set(header)
    by_day = {row[0]: row for row in body}
    assert by_day["09/05/2014"][1] == "during"
    assert by_day["09/05/2014"][-1] == "2"
    assert by_day["08/25/2014"][1] == "before"
    assert by_day["08/25/2014"][-1] == "1"
    assert by_day["10/10/2014"][1] == "after"
    assert by_day["10/10/2014"][-1] == "1"
    assert sum(int(row[-1]) for row in body) == 4
    # The chart draws a bar per category and day with a count, each with its title.
    assert len(re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+" fill=', html)) >= 4 * 2
    # Who the posts say they harm: an incident harming two groups counts in both.
    affected = table(html, "chart-2-table")
    assert affected[0][2:-1] == ["Pedestrians", "Cyclists", "Not said"]
    assert next(row for row in affected[1:] if row[0] == "09/05/2014")[2:] == ["2", "1", "0", "3"]


def test_incident_links_go_to_triage_for_staff_and_to_the_map_for_everyone(client, staff_client, site):
    zone, incidents = site
    public = client.get(f"/works/{zone.pk}/").content.decode()
    assert f"sel=incident:{incidents[1].pk}" in public
    assert f"/triage/{incidents[1].pk}/" not in public
    staff = staff_client.get(f"/works/{zone.pk}/").content.decode()
    assert f'href="/triage/{incidents[1].pk}/"' in staff
    assert "crew@example.org" in staff


def test_exports_hold_the_incidents_of_the_page(client, site):
    zone, incidents = site
    geojson = client.get(reverse("web:works-export", args=[zone.pk, "geojson"]))
    assert geojson.status_code == 200
    body = json.loads(b"".join(geojson.streaming_content) if geojson.streaming else geojson.content)
    assert [feature["id"] for feature in body["features"]] == [incident.pk for incident in incidents[:4]]
    assert body["works_zone"] == zone.pk
    csv_response = client.get(reverse("web:works-export", args=[zone.pk, "csv"]))
    rows = list(csv.DictReader(io.StringIO(b"".join(csv_response.streaming_content).decode())))
    assert [int(row["id"]) for row in rows] == [incident.pk for incident in incidents[:4]]
    assert client.get(f"/works/{zone.pk}/incidents.xml").status_code == 404


def test_page_in_french(client, site):
    zone, _incidents = site
    html = client.get(f"/works/{zone.pk}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Signalements par catégorie" in html
    assert "Ce qu’annonçait le chantier" in html or "Ce qu'annonçait le chantier" in html


def test_missing_works_zone(client, db):
    assert client.get("/works/424242/").status_code == 404


def test_map_popup_and_triage_link_to_the_page(client, staff_client, site):
    zone, incidents = site
    config = client.get("/").content.decode()
    assert '"worksPage": "/works/{id}/"' in config
    from incidents.models import IncidentWorksZone

    IncidentWorksZone.objects.create(incident=incidents[1], works_zone=zone, distance_m=5)
    triage = staff_client.get(f"/triage/{incidents[1].pk}/").content.decode()
    assert f'href="/works/{zone.pk}/"' in triage
