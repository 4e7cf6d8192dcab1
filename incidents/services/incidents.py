"""Status changes of incidents (triage), recorded as events."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from incidents.models import Incident, IncidentEvent, IncidentStatus
from incidents.notify.outbox import enqueue_incident_events
from incidents.publish.clusters import mark_incidents_changed

S = IncidentStatus

# Which status may follow which. Resolved/rejected incidents may be reopened (back to
# acknowledged) when the problem comes back; a duplicate is final.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.ACKNOWLEDGED, S.DISPATCHED, S.RESOLVED, S.REJECTED, S.DUPLICATE}),
    S.ACKNOWLEDGED: frozenset({S.DISPATCHED, S.RESOLVED, S.REJECTED, S.DUPLICATE}),
    S.DISPATCHED: frozenset({S.ACKNOWLEDGED, S.RESOLVED, S.REJECTED, S.DUPLICATE}),
    S.RESOLVED: frozenset({S.ACKNOWLEDGED}),
    S.REJECTED: frozenset({S.ACKNOWLEDGED}),
    S.DUPLICATE: frozenset(),
}


@transaction.atomic
def change_incident_status(
    incident: Incident,
    to_status: str,
    *,
    actor: AbstractBaseUser | None = None,
    note: str = "",
    duplicate_of: Incident | None = None,
) -> IncidentEvent:
    """Move ``incident`` to ``to_status`` and record who did it; raise ``ValidationError`` if not allowed.

    The incident row is locked so two operators acting at once are serialised, and the
    transition is checked against the status actually stored.
    """
    if to_status not in S.values:
        raise ValidationError(_("Unknown status %(status)r.") % {"status": to_status}, code="invalid_status")
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    from_status = locked.status
    if to_status not in ALLOWED_TRANSITIONS[from_status]:
        raise ValidationError(
            _("An incident cannot go from %(from)s to %(to)s.") % {"from": from_status, "to": to_status},
            code="invalid_transition",
        )
    if to_status == S.DUPLICATE:
        if duplicate_of is None:
            raise ValidationError(_("Say which incident this one duplicates."), code="duplicate_of_required")
        if duplicate_of.pk == locked.pk:
            raise ValidationError(_("An incident cannot duplicate itself."), code="duplicate_of_self")
        if duplicate_of.status == S.DUPLICATE:
            # Point at the original, never at another duplicate, so chains stay one step long.
            duplicate_of = duplicate_of.duplicate_of
    elif duplicate_of is not None:
        raise ValidationError(_("Only a duplicate has an original incident."), code="duplicate_of_unexpected")

    locked.status = to_status
    locked.duplicate_of = duplicate_of
    locked.save(update_fields=["status", "duplicate_of", "updated_at"])
    incident.status, incident.duplicate_of = locked.status, locked.duplicate_of
    mark_incidents_changed([locked.pk])
    enqueue_incident_events(updated=[locked.pk])
    return IncidentEvent.objects.create(
        incident=locked, from_status=from_status, to_status=to_status, actor=actor, note=note
    )
