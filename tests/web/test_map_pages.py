"""The map page, its list view and the street lines: state from the URL, filters, privacy, escaping."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from incidents.web.state import MapState, latest_data_day
from tests.conftest import CAPITOLE, offset, paris
from tests.web.conftest import XSS

pytestmark = pytest.mark.django_db


def map_config(response) -> dict:
    html = response.content.decode()
    start = html.index('<script id="map-config" type="application/json">') + len(
        '<script id="map-config" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def test_map_opens_on_the_latest_data_with_the_configured_basemap(client, settings, make_incident):
    settings.INCIDENTS_TILE_URL = "http://tiles.invalid/{z}/{x}/{y}.png"
    make_incident(first_post_at=paris(2014, 9, 12), last_post_at=paris(2014, 9, 20, 23, 30))
    make_incident(first_post_at=paris(2014, 6, 1))
    response = client.get("/")
    assert response.status_code == 200
    config = map_config(response)
    # 23:30 in Toulouse on the 20th is the 20th locally, whatever UTC says.
    assert config["state"]["asof"] == "2014-09-20"
    assert config["state"]["days"] == settings.INCIDENTS_MAP_WINDOW_DAYS
    assert config["tiles"]["url"] == "http://tiles.invalid/{z}/{x}/{y}.png"
    assert config["urls"]["clusters"] == "/api/incidents/clusters/"
    assert config["staff"] is False
    assert config["transitions"]["duplicate"] == []
    # Leaflet and the map script are served by the app, never a CDN.
    assert "/static/leaflet/leaflet.js" in response.content.decode()
    assert "unpkg" not in response.content.decode()
    assert "cdn" not in response.content.decode().lower()


def test_latest_data_falls_back_to_posts_then_today(make_post):
    from django.utils import timezone

    assert latest_data_day() == timezone.localdate()
    make_post(posted_at=paris(2014, 9, 8, 9))
    assert latest_data_day().isoformat() == "2014-09-08"


def test_state_from_the_url_keeps_valid_values_and_drops_the_rest(rf):
    state = MapState.from_query(
        rf.get("/", {"asof": "2014-09-15", "days": "7", "category": "lighting,bogus", "status": "new",
                     "near_works": "1", "bbox": "1.4,43.5,1.5,43.7", "z": "15", "lat": "43.6", "lon": "1.44"}).GET
    )  # fmt: skip
    assert state.asof.isoformat() == "2014-09-15"
    assert state.days == 7
    assert state.categories == ["lighting"]
    assert state.statuses == ["new"]
    assert state.near_works
    assert state.bbox == (1.4, 43.5, 1.5, 43.7)
    assert state.zoom == 15
    assert state.incident_params() == {
        "datetime": "2014-09-09/2014-09-15",
        "category": "lighting",
        "status": "new",
        "near_works": "true",
        "bbox": "1.4,43.5,1.5,43.7",
    }
    broken = MapState.from_query(rf.get("/", {"asof": "yesterday", "days": "-3", "bbox": "nope", "z": "99"}).GET)
    assert broken.days == 30
    assert broken.bbox is None
    assert broken.zoom is None


def test_list_view_shows_the_features_of_the_map_state(client, make_incident, make_works_zone):
    zone = make_works_zone(
        offset(CAPITOLE, east_m=20), title="Réseau de chaleur", declarant="Ville", impact_pedestrian=True
    )
    near = make_incident(category="works_obstruction", first_post_at=paris(2014, 9, 10))
    near.works_links.create(works_zone=zone, distance_m=20)
    lit = make_incident(category="lighting", first_post_at=paris(2014, 9, 12), location=offset(CAPITOLE, north_m=500))
    make_incident(category="lighting", first_post_at=paris(2014, 7, 1))  # outside the window

    def listed(**params):
        response = client.get(reverse("web:list"), {"asof": "2014-09-20", "days": "30", **params})
        assert response.status_code == 200
        return [incident.pk for incident in response.context["page"]], response

    ids, response = listed()
    assert ids == [lit.pk, near.pk]  # latest report first
    assert [zone.pk] == [works.pk for works in response.context["works"]]
    assert "Réseau de chaleur" in response.content.decode()
    # The works impact ranking of the map's panel is there too: one incident near the zone during its works.
    [ranked] = response.context["ranking"]
    assert ranked["id"] == zone.pk
    assert ranked["properties"]["incidents_during"] == 1
    assert listed(category="lighting")[0] == [lit.pk]
    assert listed(status="resolved")[0] == []
    assert listed(near_works="1")[0] == [near.pk]
    assert listed(days="1")[0] == []
    assert len(listed(asof="2014-07-01", days="1")[0]) == 1
    # The view of the map narrows the list too.
    assert listed(bbox="1.443,43.604,1.446,43.605")[0] == [near.pk]


def test_list_view_escapes_and_scrubs_post_texts(client, staff_client, make_incident, make_post):
    incident = make_incident(first_post_at=paris(2014, 9, 10))
    make_post(
        f"{XSS} @jdupont trottoir bloqué", incident=incident, author_handle="jdupont", posted_at=paris(2014, 9, 10)
    )
    public = client.get(reverse("web:list"), {"asof": "2014-09-20"}).content.decode()
    assert XSS not in public
    assert "&lt;img src=x onerror=&quot;window.__xss = 1&quot;&gt;" in public
    assert "jdupont" not in public
    assert "@[user]" in public
    staff = staff_client.get(reverse("web:list"), {"asof": "2014-09-20"}).content.decode()
    assert XSS not in staff
    assert "@jdupont" in staff


def test_streets_are_simplified_lines_of_the_view(client, make_segment):
    segment = make_segment("RUE DE METZ")
    url = reverse("web:streets")
    body = json.loads(client.get(url, {"bbox": "1.43,43.59,1.46,43.61", "zoom": "16"}).content)
    assert [feature["id"] for feature in body["features"]] == [segment.pk]
    assert body["features"][0]["geometry"]["type"] == "MultiLineString"
    assert json.loads(client.get(url, {"bbox": "1.0,43.0,1.1,43.1", "zoom": "16"}).content)["features"] == []
    # Below the streets zoom nothing is sent; a bad request says what it needs.
    assert json.loads(client.get(url, {"bbox": "1.43,43.59,1.46,43.61", "zoom": "10"}).content)["features"] == []
    assert client.get(url, {"zoom": "16"}).status_code == 400
    assert client.get(url, {"bbox": "1.43,43.59,1.46,43.61", "zoom": "40"}).status_code == 400


@pytest.mark.parametrize(("language", "text"), [("fr", "Carte"), ("en", "Map")])
def test_pages_follow_the_browser_language(client, language, text):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=language)
    assert f'<html lang="{language}" data-time-zone="Europe/Paris">' in response.content.decode()
    assert f">{text}</a>" in response.content.decode()


def test_language_can_be_switched(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/list/"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 302
    assert response["Location"] == "/list/"
    assert '<html lang="en"' in client.get("/list/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()


def test_javascript_catalog_is_translated(client):
    response = client.get(reverse("web:jsi18n"), HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    assert '"Could not load the details.": "Impossible de charger les d\\u00e9tails."' in response.content.decode()
