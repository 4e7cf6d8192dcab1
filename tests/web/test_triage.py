"""Triage pages: staff only, the queue's order and filters, status changes and replies through the services."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from incidents.models import IncidentEvent, IncidentReply, ReplyState, ReplyTemplate
from incidents.services.replies import Delivery, fill_template, send_reply
from tests.conftest import CAPITOLE, offset, paris
from tests.web.conftest import XSS

pytestmark = pytest.mark.django_db


class FailingBackend:
    def deliver(self, reply):
        raise ConnectionError("platform unreachable")


class SendingBackend:
    def deliver(self, reply):
        return Delivery(ReplyState.SENT, external_id=f"reply-{reply.pk}")


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_triage_is_for_staff_only(client, plain_client, make_incident):
    incident = make_incident()
    for url in (reverse("web:triage"), reverse("web:triage-incident", args=[incident.pk])):
        for anonymous_or_plain in (client, plain_client):
            response = anonymous_or_plain.get(url)
            assert response.status_code == 302
            assert "/admin/login/" in response["Location"]
    response = client.post(reverse("web:triage-status", args=[incident.pk]), {"status": "acknowledged"})
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    incident.refresh_from_db()
    assert incident.status == "new"


def test_queue_puts_new_incidents_near_active_works_first(staff_client, make_incident, make_works_zone, make_district):
    zone = make_works_zone()
    urgent_elsewhere = make_incident(priority=9)
    near_works = make_incident(priority=1)
    near_works.works_links.create(works_zone=zone, distance_m=10)
    acknowledged_near_works = make_incident(priority=5, status="acknowledged")
    acknowledged_near_works.works_links.create(works_zone=zone, distance_m=10)
    make_incident(priority=8, status="resolved")
    district = make_district("31555-01", "Capitole", (1.4, 43.5, 1.5, 43.7))
    lighting = make_incident(priority=2, category="lighting", district=district, location=offset(CAPITOLE, north_m=50))

    def queue(**params):
        return [incident.pk for incident in staff_client.get(reverse("web:triage"), params).context["page"]]

    assert queue() == [near_works.pk, urgent_elsewhere.pk, acknowledged_near_works.pk, lighting.pk]
    assert queue(category="lighting") == [lighting.pk]
    assert queue(district=district.pk) == [lighting.pk]
    assert len(queue(status="")) == 5
    assert len(queue(status="resolved")) == 1


def test_status_changes_go_through_the_service_with_the_actor(staff_client, operator, make_incident):
    incident = make_incident()
    original = make_incident(location=offset(CAPITOLE, east_m=30))
    url = reverse("web:triage-status", args=[incident.pk])

    response = staff_client.post(url, {"status": "dispatched", "note": ""})
    assert "Say what the crew is sent to do." in " ".join(messages_of(response))
    staff_client.post(url, {"status": "acknowledged"})
    staff_client.post(url, {"status": "dispatched", "note": "Équipe voirie nord"})
    response = staff_client.post(url, {"status": "duplicate", "duplicate_of": "999999"})
    assert "No incident has the number 999999." in " ".join(messages_of(response))
    staff_client.post(url, {"status": "duplicate", "duplicate_of": str(original.pk)})
    response = staff_client.post(url, {"status": "resolved", "next": "https://evil.example/"})
    # A duplicate is final: the service refuses, and the page never redirects off-site.
    assert response["Location"] == reverse("web:triage-incident", args=[incident.pk])
    assert "cannot go from duplicate to resolved" in " ".join(messages_of(response))

    incident.refresh_from_db()
    assert incident.status == "duplicate"
    assert incident.duplicate_of == original
    events = IncidentEvent.objects.filter(incident=incident).values_list("to_status", "actor", "note")
    assert list(events) == [
        ("acknowledged", operator.pk, ""),
        ("dispatched", operator.pk, "Équipe voirie nord"),
        ("duplicate", operator.pk, ""),
    ]


def test_incident_page_escapes_what_people_wrote(staff_client, make_incident, make_post, make_works_zone):
    incident = make_incident()
    make_post(XSS, incident=incident, author_handle="<b>jd</b>", url="javascript:alert(1)")
    zone = make_works_zone(title=XSS, declarant="<script>alert(2)</script>")
    incident.works_links.create(works_zone=zone, distance_m=5)
    html = staff_client.get(reverse("web:triage-incident", args=[incident.pk])).content.decode()
    assert XSS not in html
    assert "<script>alert(2)" not in html
    assert "<b>jd</b>" not in html
    assert "&lt;img src=x onerror=&quot;window.__xss = 1&quot;&gt;" in html
    assert 'href="javascript:' not in html


def test_default_reply_templates_come_in_both_languages_and_are_not_duplicated():
    # The data migration's function, run here: browser tests flush the database it filled.
    from django.apps import apps

    defaults = importlib.import_module("incidents.migrations.0001_squashed_0012_planners")
    ReplyTemplate.objects.all().delete()
    ReplyTemplate.objects.create(name="Accusé de réception", language="fr", body="Texte modifié par la ville")
    defaults.create_defaults(apps, None)
    defaults.create_defaults(apps, None)
    assert ReplyTemplate.objects.count() == len(defaults.DEFAULTS)
    assert set(ReplyTemplate.objects.active().values_list("language", flat=True)) == {"fr", "en"}
    # A template the city edited is kept as it is.
    assert ReplyTemplate.objects.get(name="Accusé de réception", language="fr").body == "Texte modifié par la ville"


def test_templates_fill_their_placeholders_in_their_language(make_incident, make_segment):
    incident = make_incident(category="lighting", segment=make_segment("RUE DE METZ"))
    template = ReplyTemplate.objects.create(
        name="t",
        language="fr",
        body="N°{incident} — {category} — {street} — {status} — {unknown} — {incident.__class__}",
    )
    assert fill_template(template, incident) == (
        f"N°{incident.pk} — Éclairage public — RUE DE METZ — Nouveau — {{unknown}} — {{incident.__class__}}"
    )


def test_reply_is_stored_and_recorded_by_default(staff_client, operator, make_incident, make_post):
    incident = make_incident()
    first = make_post(incident=incident, posted_at=paris(2014, 9, 8, 8))
    make_post(incident=incident, posted_at=paris(2014, 9, 8, 10))
    template = ReplyTemplate.objects.create(
        name="Ack", language="en", body="Hello, thank you for letting us know. Your report is number {incident}."
    )
    # No text: the template is the reply (what a browser without JavaScript sends).
    staff_client.post(reverse("web:triage-reply", args=[incident.pk]), {"template": template.pk, "text": ""})
    reply = IncidentReply.objects.get(incident=incident)
    assert reply.state == ReplyState.RECORDED
    assert reply.sent_at is None
    assert reply.actor == operator
    assert reply.template == template
    assert reply.language == "en"
    assert reply.in_reply_to == first
    assert reply.text.startswith("Hello, thank you for letting us know.")
    assert f"number {incident.pk}" in reply.text
    assert reply.backend == "incidents.services.replies.RecordOnlyBackend"
    response = staff_client.post(reverse("web:triage-reply", args=[incident.pk]), {"text": "  "})
    assert "Write the reply, or choose a template." in " ".join(messages_of(response))
    assert IncidentReply.objects.count() == 1


def test_reply_backends_are_pluggable_and_failures_are_kept(settings, make_incident):
    incident = make_incident()
    settings.INCIDENTS_REPLY_BACKEND = "tests.web.test_triage.SendingBackend"
    sent = send_reply(incident, "Merci !", language="fr")
    assert sent.state == ReplyState.SENT
    assert sent.external_id == f"reply-{sent.pk}"
    assert sent.sent_at is not None
    settings.INCIDENTS_REPLY_BACKEND = "tests.web.test_triage.FailingBackend"
    failed = send_reply(incident, "Merci encore !", language="fr")
    failed.refresh_from_db()
    assert failed.state == ReplyState.FAILED
    assert failed.error == "platform unreachable"
    assert IncidentReply.objects.filter(incident=incident).count() == 2


def _events(incident, operator, *steps):
    """Status changes at given delays (hours after the incident's creation), with their recorded times."""
    from incidents.services.incidents import change_incident_status

    for status, hours in steps:
        event = change_incident_status(incident, status, actor=operator)
        IncidentEvent.objects.filter(pk=event.pk).update(created_at=incident.created_at + dt.timedelta(hours=hours))


def test_metrics_are_medians_per_category_and_week(client, staff_client, operator, make_incident):
    lights = [make_incident(category="lighting") for _ in range(3)]
    pothole = make_incident(category="road_surface_pothole")
    make_incident(category="road_surface_pothole")  # never acknowledged: counts, but not in the medians
    _events(lights[0], operator, ("acknowledged", 1), ("resolved", 10))
    _events(lights[1], operator, ("acknowledged", 2), ("dispatched", 3), ("resolved", 20))
    _events(lights[2], operator, ("rejected", 4))  # a rejection is a reaction too
    _events(pothole, operator, ("dispatched", 6))

    body = client.get("/api/triage/metrics/").json()
    assert body["overall"] == {
        "incidents": 5, "open": 2, "acknowledged": 4, "resolved": 2,
        "median_acknowledge_s": 3 * 3600.0, "median_resolve_s": 15 * 3600.0,
    }  # fmt: skip
    by_category = {row["category"]: row for row in body["by_category"]}
    assert by_category["lighting"]["median_acknowledge_s"] == 2 * 3600.0
    assert by_category["road_surface_pothole"]["median_acknowledge_s"] == 6 * 3600.0
    assert by_category["road_surface_pothole"]["median_resolve_s"] is None
    assert [row["incidents"] for row in body["by_week"]] == [5]
    assert client.get("/api/triage/metrics/", {"category": "lighting"}).json()["overall"]["incidents"] == 3
    assert client.get("/api/triage/metrics/", {"datetime": "2000-01-01/2000-12-31"}).json()["overall"]["incidents"] == 0
    assert client.get("/api/triage/metrics/", {"catgory": "lighting"}).status_code == 400
    assert client.get("/api/triage/metrics/", {"category": "nope"}).status_code == 400

    page = staff_client.get(reverse("web:triage"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "median time to acknowledge 3 h 00, to resolve 15 h 00" in page


def test_metrics_are_in_the_openapi_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/triage/metrics/"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TriageMetrics"
    }
    assert {parameter["name"] for parameter in operation["parameters"]} == {"datetime", "category", "district"}
    assert "median_resolve_s" in schema["components"]["schemas"]["TriageMetrics"]["properties"]["overall"]["properties"]


def test_reply_templates_are_edited_in_the_admin_and_replies_are_read_only(make_incident):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("admin", "admin@example.org", "pw-admin-1")
    client = Client()
    client.force_login(admin)
    template = ReplyTemplate.objects.create(name="Merci", language="fr", body="Merci {incident}")
    reply = send_reply(make_incident(), "Merci !", actor=admin, template=template)
    assert client.get("/admin/incidents/replytemplate/").status_code == 200
    response = client.post(
        f"/admin/incidents/replytemplate/{template.pk}/change/",
        {"name": "Merci", "language": "fr", "body": "Merci beaucoup {incident}", "is_active": "on", "position": "5"},
    )
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.body == "Merci beaucoup {incident}"
    assert client.get(f"/admin/incidents/incidentreply/{reply.pk}/change/").status_code == 200
    assert client.post(f"/admin/incidents/incidentreply/{reply.pk}/change/", {"text": "changed"}).status_code == 403


def test_incident_page_shows_its_conversation(staff_client, push):
    from incidents.models import Post
    from tests.pipeline.conftest import post

    push(
        post("Énorme nid de poule sur la chaussée", CAPITOLE, paris(2014, 9, 8, 9), id="report"),
        post("toujours pas réparé ce matin", None, paris(2014, 9, 12, 8), id="still", reply_to="report"),
        post("haha bonne soirée à tous", None, paris(2014, 9, 12, 20), id="chat", reply_to="report"),
        post(f"pareil pour moi {XSS}", None, paris(2014, 9, 13, 9), id="same", reply_to="still"),
    )
    report, still, chat, same = (Post.objects.get(external_id=name) for name in ("report", "still", "chat", "same"))
    html = staff_client.get(reverse("web:triage-incident", args=[report.incident_id])).content.decode()
    order = [html.index(f'data-post="{p.pk}"') for p in (report, still, same, chat)]
    assert order == sorted(order)  # each reply under the post it answers, the chit-chat last
    assert f'class="post depth-0" data-post="{report.pk}"' in html
    assert f'class="post depth-1" data-post="{still.pk}"' in html
    assert f'class="post depth-2" data-post="{same.pk}"' in html
    assert f'class="post depth-1 outside" data-post="{chat.pk}"' in html  # a reply in no incident, shown
    assert "not in this incident" in html
    assert XSS not in html
