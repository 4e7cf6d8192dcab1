"""Status changes go through one service that checks transitions and records who did what."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from incidents.models import IncidentEvent
from incidents.services.incidents import change_incident_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator():
    return get_user_model().objects.create_user("operator", is_staff=True)


def test_acknowledge_dispatch_resolve_records_each_step(make_incident, operator):
    incident = make_incident()
    change_incident_status(incident, "acknowledged", actor=operator)
    change_incident_status(incident, "dispatched", actor=operator, note="Équipe voirie nord")
    change_incident_status(incident, "resolved", actor=operator)
    incident.refresh_from_db()
    assert incident.status == "resolved"
    events = list(IncidentEvent.objects.filter(incident=incident).values_list("from_status", "to_status", "note"))
    assert events == [
        ("new", "acknowledged", ""),
        ("acknowledged", "dispatched", "Équipe voirie nord"),
        ("dispatched", "resolved", ""),
    ]
    assert set(IncidentEvent.objects.values_list("actor__username", flat=True)) == {"operator"}


def test_unknown_status_is_refused(make_incident):
    with pytest.raises(ValidationError, match="Unknown status"):
        change_incident_status(make_incident(), "teleported")


def test_forbidden_transition_is_refused_and_nothing_is_recorded(make_incident):
    incident = make_incident(status="resolved")
    with pytest.raises(ValidationError) as error:
        change_incident_status(incident, "dispatched")
    assert error.value.code == "invalid_transition"
    assert not IncidentEvent.objects.exists()


def test_transition_is_checked_against_the_stored_status(make_incident):
    incident = make_incident()
    stale_copy = type(incident).objects.get(pk=incident.pk)
    change_incident_status(incident, "duplicate", duplicate_of=make_incident())
    with pytest.raises(ValidationError):
        change_incident_status(stale_copy, "acknowledged")


def test_duplicate_needs_an_original_and_points_at_the_root(make_incident):
    root, middle, leaf = make_incident(), make_incident(), make_incident()
    with pytest.raises(ValidationError, match="Say which incident"):
        change_incident_status(leaf, "duplicate")
    change_incident_status(middle, "duplicate", duplicate_of=root)
    change_incident_status(leaf, "duplicate", duplicate_of=middle)
    leaf.refresh_from_db()
    assert leaf.duplicate_of == root


def test_resolved_incident_can_be_reopened(make_incident):
    incident = make_incident(status="resolved")
    change_incident_status(incident, "acknowledged", note="Le problème est revenu")
    assert incident.status == "acknowledged"
