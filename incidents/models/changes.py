from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IncidentChange(models.Model):
    """A note that an incident was created, changed or deleted, for read models kept outside the table.

    The in-memory cluster index of the API (``incidents/publish/clusters.py``) replays these
    to stay current without reloading a million incidents. Rows are written by
    :func:`incidents.publish.clusters.mark_incidents_changed` in the same transaction as
    the change, and pruned after ``INCIDENTS_CHANGES_KEEP_HOURS``.
    """

    incident_id = models.BigIntegerField(
        _("incident id"), null=True, blank=True, help_text=_("Empty means every incident may have changed.")
    )
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("incident change")
        verbose_name_plural = _("incident changes")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.incident_id or '*'} @ {self.changed_at:%Y-%m-%d %H:%M:%S}"
