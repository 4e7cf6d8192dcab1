"""The map and the triage in a real browser: Debian's Chromium driven by Playwright against a live server.

Few and purposeful: the demo map (clusters, a cluster and a works zone clicked, time and
category filters, the list view), escaping of what people wrote, and a triage flow end to
end. Screenshots go to ``test-output/``. The basemap points at nothing: the map must stay
usable from the city's own data.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from incidents.models import Incident, IncidentEvent, IncidentReply, ReplyTemplate
from incidents.web.state import latest_data_day
from tests.browser import launch
from tests.conftest import CAPITOLE, offset, paris
from tests.web.conftest import XSS

pytestmark = pytest.mark.browser

OUTPUT = Path(settings.BASE_DIR) / "test-output"
TIMEOUT_MS = 20_000


@pytest.fixture(scope="session")
def playwright():
    """Playwright's sync API runs an event loop in this thread; Django's ORM calls in the test are
    still synchronous (the loop only drives the browser), so its async-safety guard is lifted."""
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as instance:
            yield instance
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def browser(playwright, tmp_path):
    """A fresh Chromium profile per test, in English, with console errors collected."""
    context = launch(playwright, str(tmp_path / "profile"), locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    context.page_errors = []
    context.console_errors = []
    yield context
    context.close()


def new_page(context):
    page = context.new_page()
    page.on("pageerror", lambda error: context.page_errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and context.console_errors.append(message.text))
    return page


def shot(page, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    page.wait_for_timeout(300)  # let Leaflet's fade and zoom animations end
    page.screenshot(path=str(OUTPUT / name), full_page=False)


def refreshes(page) -> int:
    return int(page.get_attribute("#map", "data-refreshed") or 0)


def wait_refresh(page, after: int) -> None:
    """Wait until the map finished a refresh started after ``after`` refreshes, for the view it
    shows now (a refresh of the view before a move may still land first), and check it went well."""
    page.wait_for_function(
        """n => {
          const node = document.getElementById('map');
          return Number(node.dataset.refreshed || 0) > n && node.dataset.view === window.incidentsMap.viewKey();
        }""",
        arg=after,
    )
    assert page.get_attribute("#map", "data-state") == "ready", page.context.console_errors


def count(page, selector: str) -> int:
    return int(page.get_attribute(selector, "data-count"))


def test_demo_map_clusters_works_filters_and_list_view(live_server, browser):
    call_command("load_demo", verbosity=0)
    latest = latest_data_day()
    busiest = Counter(Incident.objects.values_list("category", flat=True)).most_common(1)[0][0]
    page = new_page(browser)
    page.goto(live_server.url + "/")
    wait_refresh(page, 0)
    # Opens on the latest data (September 2014 in the demo) with clusters and active works.
    assert page.input_value("#asof") == latest.isoformat()
    assert latest.year == 2014
    assert page.locator(".leaflet-marker-icon.cluster").count() > 0
    incidents = count(page, "#incident-count")
    works = count(page, "#works-count")
    assert incidents > 20
    assert works > 50
    assert page.locator("path.works").count() > 0
    # No basemap here: the notice says so and our own streets are drawn (canvas).
    assert page.is_visible("#basemap-notice")
    assert page.locator("canvas").count() >= 1
    shot(page, "map-demo.png")

    # A works zone: click it on the map; its popup shows dates, declarant and impact.
    target = page.evaluate(
        """() => {
          const {map, worksLayer} = window.incidentsMap;
          const box = map.getContainer().getBoundingClientRect();
          for (const layer of worksLayer.getLayers()) {
            const point = map.latLngToContainerPoint(layer.getLatLng ? layer.getLatLng() : layer.getCenter());
            const x = box.left + point.x, y = box.top + point.y;
            const hit = document.elementFromPoint(x, y);
            if (hit && hit === layer.getElement()) return {x, y, id: layer.feature.id};
          }
          return null;
        }"""
    )
    assert target is not None
    page.mouse.click(target["x"], target["y"])
    page.wait_for_selector(f".works-popup[data-works='{target['id']}'] table.impact")
    assert "Declarant" in page.inner_text(".works-popup")
    shot(page, "map-works-popup.png")
    page.keyboard.press("Escape")
    page.evaluate("() => { window.incidentsMap.map.closePopup(); }")

    # The works impact panel ranks zones in view; each entry opens its zone.
    assert page.locator("#impact-ranking button").count() > 0

    # A cluster: clicking zooms in to where it splits. The works popup may have panned the map:
    # wait until the clusters drawn are those of the view shown.
    page.wait_for_function(
        """() => {
          const node = document.getElementById('map');
          return node.dataset.view === window.incidentsMap.viewKey() && node.dataset.state === 'ready';
        }"""
    )
    zoom = page.evaluate("window.incidentsMap.map.getZoom()")
    before = refreshes(page)
    # The biggest cluster that nothing covers (the page header may overlap the map's edge).
    cluster = page.evaluate(
        """() => {
          let best = null;
          for (const el of document.querySelectorAll('.leaflet-marker-icon.cluster')) {
            const r = el.getBoundingClientRect();
            const x = r.left + r.width / 2, y = r.top + r.height / 2;
            const n = Number(el.dataset.count);
            if (el.contains(document.elementFromPoint(x, y)) && (!best || n > best.n)) best = {x, y, n};
          }
          return best;
        }"""
    )
    assert cluster is not None
    page.mouse.click(cluster["x"], cluster["y"])
    # The zoom is animated; a refresh started before it (by that pan) may land first.
    page.wait_for_function("zoom => window.incidentsMap.map.getZoom() > zoom", arg=zoom)
    wait_refresh(page, before)
    assert page.evaluate("window.incidentsMap.map.getZoom()") > zoom
    assert "z=" in page.url
    assert f"asof={latest.isoformat()}" in page.url  # the permalink follows
    shot(page, "map-cluster-zoomed.png")
    before = refreshes(page)
    page.evaluate("() => { window.incidentsMap.map.setView([43.6045, 1.444], 13); }")
    wait_refresh(page, before)
    assert count(page, "#incident-count") == incidents

    # Category filter: without the most reported category there are fewer incidents; the URL says so.
    before = refreshes(page)
    page.uncheck(f"#categories input[value={busiest}]")
    wait_refresh(page, before)
    without_busiest = count(page, "#incident-count")
    assert 0 < without_busiest < incidents
    assert re.search(r"category=[a-z_,]+", page.url)
    assert busiest not in page.url.split("category=")[1].split("&")[0].split(",")

    # Time: three weeks earlier, with a one-week window: other counts of incidents and works.
    before = refreshes(page)
    page.fill("#asof", (latest - dt.timedelta(days=21)).isoformat())
    page.select_option("#days", "7")
    wait_refresh(page, before)
    assert count(page, "#incident-count") < without_busiest
    assert count(page, "#works-count") != works
    shot(page, "map-filtered.png")

    # The list view shows the same incidents for keyboard and screen-reader users.
    listed = count(page, "#incident-count")
    page.click("#list-view-link")
    page.wait_for_selector("#incidents-title")
    assert f"{listed} incident" in page.inner_text("#incidents-title")
    assert page.locator("#incident-list tbody tr").count() == min(listed, 50)
    assert page.locator("#works-list tbody tr").count() > 0
    shot(page, "list-view.png")
    assert browser.page_errors == []


def test_what_people_wrote_shows_as_text_everywhere(
    live_server, browser, make_incident, make_post, make_works_zone, make_segment
):
    from django.contrib.auth import get_user_model

    incident = make_incident(first_post_at=paris(2014, 9, 8, 9), segment=make_segment(XSS), segment_distance_m=4)
    make_post(XSS, incident=incident, posted_at=paris(2014, 9, 8, 9))
    zone = make_works_zone(title=XSS, declarant=XSS, contractor=XSS)
    incident.works_links.create(works_zone=zone, distance_m=3)
    get_user_model().objects.create_user("operator", "op@example.org", "pw-operator-1", is_staff=True)
    page = new_page(browser)

    page.goto(f"{live_server.url}/?lat=43.6045&lon=1.444&z=18&sel=incident:{incident.pk}")
    page.wait_for_selector(".incident-popup .post-text")
    page.wait_for_selector(".incident-popup .linked-works dl")
    assert page.inner_text(".incident-popup .post-text") == XSS
    assert XSS in page.inner_text(".incident-popup .linked-works")
    assert f"{XSS} (4 m)" in page.inner_text(".incident-popup .details")
    # The selected incident's street segment is drawn, and the permalink names the incident.
    page.wait_for_function("window.incidentsMap.segmentLayer.getLayers().length === 1")
    assert f"sel=incident:{incident.pk}" in page.url
    shot(page, "xss-map-popup.png")

    page.goto(f"{live_server.url}/list/?asof=2014-09-08")
    page.click("#incident-list summary")
    assert page.inner_text("#incident-list .post-text") == XSS
    assert XSS in page.inner_text("#works-list")
    shot(page, "xss-list-view.png")

    page.goto(f"{live_server.url}/admin/login/?next=/triage/{incident.pk}/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", "pw-operator-1")
    page.click("input[type=submit]")
    page.wait_for_selector("#incident-posts")
    assert page.inner_text("#incident-posts .post-text") == XSS
    shot(page, "xss-triage.png")
    assert page.evaluate("window.__xss") is None
    assert browser.page_errors == []


def test_a_street_level_incident_is_drawn_as_its_street(live_server, browser, make_incident, make_segment):
    """Its posts only name the street: the map shows the street in the category's colour, not a pin."""
    west = make_segment("BD DE STRASBOURG", [CAPITOLE.coords, offset(CAPITOLE, east_m=150).coords])
    make_segment("BD DE STRASBOURG", [offset(CAPITOLE, east_m=150).coords, offset(CAPITOLE, east_m=300).coords])
    make_segment("RUE DE METZ", [offset(CAPITOLE, north_m=40).coords, offset(CAPITOLE, 150, 40).coords])
    incident = make_incident(
        location=offset(CAPITOLE, east_m=150),
        segment=west,
        location_accuracy_m=160,
        category="lighting",
        first_post_at=paris(2014, 9, 8, 9),
    )
    page = new_page(browser)
    page.goto(f"{live_server.url}/?lat=43.6045&lon=1.4458&z=17&asof=2014-09-08")
    # (a level line has an empty box: Playwright calls it hidden, so wait for it in the page)
    page.wait_for_selector(f'path.street-incident[data-incident="{incident.pk}"]', state="attached")
    assert page.locator(".incident-dot").count() == 0  # no pin in its middle
    assert page.locator("path.street-incident").count() == 2  # both segments of the boulevard, not rue de Metz
    page.locator("path.street-incident").first.click(force=True)
    page.wait_for_selector(".incident-popup .details")
    assert "the whole street" in page.inner_text(".incident-popup .details")
    shot(page, "street-level-incident.png")
    assert browser.page_errors == []


def test_triage_flow_end_to_end(live_server, browser, make_incident, make_post, make_works_zone):
    from django.contrib.auth import get_user_model

    operator = get_user_model().objects.create_user("operator", "op@example.org", "pw-operator-1", is_staff=True)
    zone = make_works_zone(title="Réseau de chaleur, allées Jean Jaurès", impact_pedestrian=True)
    blocked = make_incident(category="works_obstruction", priority=2)
    blocked.works_links.create(works_zone=zone, distance_m=12)
    make_post("Trottoir complètement bloqué par le chantier", incident=blocked)
    again = make_incident(category="works_obstruction", priority=1, first_post_at=paris(2014, 9, 8, 10))
    elsewhere = make_incident(category="lighting", priority=9)
    with contextlib.suppress(Exception):  # templates come from a data migration; a flushed database lacks them
        ReplyTemplate.objects.get_or_create(
            name="Acknowledgement",
            language="en",
            defaults={"body": "Hello, thank you for letting us know. Your report is number {incident}."},
        )
    page = new_page(browser)

    # Log in; the queue puts the new incident near active works first.
    page.goto(f"{live_server.url}/triage/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", "pw-operator-1")
    page.click("input[type=submit]")
    page.wait_for_selector("#triage-queue")
    rows = page.locator("#triage-queue tbody tr")
    assert [rows.nth(i).get_attribute("data-incident") for i in range(3)] == [
        str(blocked.pk),
        str(elsewhere.pk),
        str(again.pk),
    ]
    shot(page, "triage-queue.png")

    # Acknowledge from the queue.
    page.click(f"#queue-{blocked.pk} button")
    page.wait_for_selector(".message.success")
    assert page.get_attribute(f"#queue-{blocked.pk} td[data-status]", "data-status") == "acknowledged"

    # Dispatch a crew with a note, then reply from a template (edited before sending).
    page.click(f"#queue-{blocked.pk} a")
    page.fill("#status-form textarea[name=note]", "Équipe voirie nord : dégager le trottoir")
    page.click("#status-form button[value=dispatched]")
    page.wait_for_selector("#incident-status[data-status=dispatched]")
    page.select_option("#reply-form select[name=template]", label="Acknowledgement (en)")
    assert f"number {blocked.pk}" in page.input_value("#reply-form textarea")
    page.fill("#reply-form textarea", page.input_value("#reply-form textarea") + " A crew is on its way.")
    page.click("#reply-form button[type=submit]")
    page.wait_for_selector("#replies .post-text")
    assert "A crew is on its way." in page.inner_text("#replies")
    shot(page, "triage-incident.png")

    # From the map popup: resolve it, and mark the other report as its duplicate.
    page.goto(f"{live_server.url}/?lat=43.6045&lon=1.444&z=18&sel=incident:{blocked.pk}")
    page.wait_for_selector(".incident-popup .triage-actions")
    page.click(".incident-popup button[data-status=resolved]")
    page.wait_for_selector(".incident-popup span.status[data-status=resolved]")
    shot(page, "triage-map-popup.png")
    page.goto(f"{live_server.url}/?lat=43.6045&lon=1.444&z=18&sel=incident:{again.pk}")
    page.wait_for_selector(".incident-popup .triage-actions")
    page.fill(".incident-popup input[name=duplicate_of]", str(blocked.pk))
    page.click(".incident-popup button[data-status=duplicate]")
    page.wait_for_selector(".incident-popup span.status[data-status=duplicate]")

    events = IncidentEvent.objects.filter(incident=blocked).values_list("to_status", "actor", "note")
    assert list(events) == [
        ("acknowledged", operator.pk, ""),
        ("dispatched", operator.pk, "Équipe voirie nord : dégager le trottoir"),
        ("resolved", operator.pk, ""),
    ]
    again.refresh_from_db()
    assert again.status == "duplicate"
    assert again.duplicate_of_id == blocked.pk
    reply = IncidentReply.objects.get(incident=blocked)
    assert reply.actor == operator
    assert reply.text.endswith("A crew is on its way.")

    # The queue's metrics now count a reaction and a resolution.
    page.goto(f"{live_server.url}/triage/?status=")
    overall = page.inner_text("#metrics-overall")
    assert "3 incidents" in overall
    assert "—" not in overall
    shot(page, "triage-metrics.png")
    assert Incident.objects.get(pk=elsewhere.pk).status == "new"
    assert browser.page_errors == []


def test_works_page_of_the_demos_busiest_site_shows_the_chart_and_its_table(live_server, playwright, tmp_path):
    """Read without JavaScript, as a screen reader or a text browser gets it; then reached from the map."""
    from django.db.models import Count

    from incidents.models import WorksZoneNeighbour
    from incidents.publish.works_impact import catch_up

    call_command("load_demo", verbosity=0)
    catch_up()
    busiest = (
        WorksZoneNeighbour.objects.values("works_zone").annotate(n=Count("incident")).order_by("-n", "works_zone")[0]
    )
    zone_id = busiest["works_zone"]
    context = launch(playwright, str(tmp_path / "no-js"), locale="en-GB", java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/works/{zone_id}/")
        chart = page.locator("#chart-1 svg")
        assert chart.is_visible()
        assert chart.get_attribute("role") == "img"
        assert page.locator("#chart-1 svg rect[fill]").count() >= 1
        assert page.locator("#chart-2 svg").is_visible()
        table = page.locator("#chart-1-table")
        assert table.is_visible()
        totals = [int(text) for text in table.locator("tbody tr td:last-child").all_inner_texts()]
        listed = page.locator("#works-incidents tbody tr").count()
        assert listed > 0
        assert sum(totals) == listed  # the chart counts the incidents the page lists
        assert page.get_by_role("img", name="Reports by category").count() == 1
        OUTPUT.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT / "works-page.png"), full_page=True)
    finally:
        context.close()

    # The map's popup of the zone links to the page.
    browser = launch(playwright, str(tmp_path / "js"), locale="en-GB")
    browser.set_default_timeout(TIMEOUT_MS)
    try:
        page = browser.new_page()
        page.goto(f"{live_server.url}/?sel=works:{zone_id}")
        link = page.wait_for_selector(f".works-popup[data-works='{zone_id}'] a.works-page-link")
        assert link.get_attribute("href") == f"/works/{zone_id}/"
    finally:
        browser.close()
