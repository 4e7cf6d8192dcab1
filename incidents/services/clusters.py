"""Keep the map's cluster index current: record which incidents changed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from incidents.models import IncidentChange


@transaction.atomic
def mark_incidents_changed(incident_ids: Iterable[int] | None = None) -> int:
    """Record that ``incident_ids`` were created, changed or deleted (``None``: possibly all of them).

    Call it in the transaction that changes incidents (the pipeline after grouping, the
    triage service, bulk imports): every API process replays these notes into its
    cluster index within ``INCIDENTS_CLUSTER_CHECK_SECONDS``. Returns the number of notes.
    """
    now = timezone.now()
    if incident_ids is None:
        notes = [IncidentChange(incident_id=None, changed_at=now)]
    else:
        notes = [IncidentChange(incident_id=pk, changed_at=now) for pk in sorted(set(incident_ids))]
    IncidentChange.objects.bulk_create(notes, batch_size=5000)
    keep = dt.timedelta(hours=settings.INCIDENTS_CHANGES_KEEP_HOURS)
    IncidentChange.objects.filter(changed_at__lt=now - keep).delete()
    return len(notes)
