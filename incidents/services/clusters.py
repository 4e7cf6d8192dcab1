"""Keep the map's cluster index current: record which incidents changed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, transaction
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
    ids = None if incident_ids is None else sorted(set(incident_ids))
    table = IncidentChange._meta.db_table
    with connection.cursor() as cursor:
        # One statement however many ids: the pipeline calls this for every batch.
        cursor.execute(
            f"INSERT INTO {table} (incident_id, changed_at) SELECT unnest(%s::bigint[]), %s",
            [[None] if ids is None else ids, now],
        )
        written = cursor.rowcount
        keep = dt.timedelta(hours=settings.INCIDENTS_CHANGES_KEEP_HOURS)
        cursor.execute(f"DELETE FROM {table} WHERE changed_at < %s", [now - keep])
    return written
