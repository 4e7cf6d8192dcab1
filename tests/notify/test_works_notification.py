"""Tell the works: from the triage, one click sends the incident to the works zone's contact, kept in its history."""

from __future__ import annotations

import pytest
from django.test import Client

from incidents.models import IncidentWorksZone, ReplyState, WorksNotification
from tests.conftest import CAPITOLE, logged_in, offset

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(staff_user) -> Client:
    return logged_in(staff_user)


@pytest.fixture
def linked(make_works_zone, make_incident, make_post, make_segment):
    zone = make_works_zone(CAPITOLE, title="Rue de Metz", contact="chantier@example.org")
    incident = make_incident(location=offset(CAPITOLE, east_m=10), segment=make_segment("RUE DE METZ"))
    make_post("Barrière sur le trottoir", incident=incident, media_urls=["https://media.example/p1.jpg"])
    IncidentWorksZone.objects.create(incident=incident, works_zone=zone, distance_m=10)
    return incident, zone


def test_one_click_sends_summary_photos_and_map_link_and_records_it(operator_client, linked, smtp, staff_user):
    incident, zone = linked
    page = operator_client.get(f"/triage/{incident.pk}/").content.decode()
    assert "Notify the works (chantier@example.org)" in page
    response = operator_client.post(f"/triage/{incident.pk}/notify-works/", {"works_zone": zone.pk})
    assert response.status_code == 302
    (message,) = smtp.messages
    assert smtp.recipients == [["chantier@example.org"]]
    text = message.get_payload(decode=True).decode()
    assert f"#{incident.pk}" in message["Subject"]
    assert "RUE DE METZ" in text
    assert "https://media.example/p1.jpg" in text
    assert f"sel=incident:{incident.pk}" in text
    assert f"/works/{zone.pk}/" in text
    notification = WorksNotification.objects.get()
    assert (notification.state, notification.actor, notification.contact) == (
        ReplyState.SENT, staff_user, "chantier@example.org",
    )  # fmt: skip
    history = operator_client.get(f"/triage/{incident.pk}/").content.decode()
    assert "Rue de Metz told at chantier@example.org" in history


def test_a_mail_server_down_is_recorded_as_failed(operator_client, linked, settings):
    incident, zone = linked
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1  # nothing listens
    operator_client.post(f"/triage/{incident.pk}/notify-works/", {"works_zone": zone.pk})
    notification = WorksNotification.objects.get()
    assert notification.state == ReplyState.FAILED
    assert notification.error


def test_only_staff_and_only_zones_of_the_incident(client, plain_user, operator_client, linked, make_works_zone):
    incident, _zone = linked
    other = make_works_zone(offset(CAPITOLE, east_m=3000), contact="autre@example.org")
    response = operator_client.post(f"/triage/{incident.pk}/notify-works/", {"works_zone": other.pk}, follow=True)
    assert "choose one of the works zones nearby" in response.content.decode()
    client.force_login(plain_user)
    assert client.post(f"/triage/{incident.pk}/notify-works/", {"works_zone": other.pk}).status_code == 302
    assert not WorksNotification.objects.exists()
