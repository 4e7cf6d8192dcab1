from __future__ import annotations

from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from incidents.categories import Category


class WorksZoneNeighbour(models.Model):
    """An incident reported within the impact radius of a works zone, before, during or after the works.

    The read model of the works impact counts (``incidents.publish.works_impact``): each
    row copies what those counts filter on (the incident's first report and category)
    and measures the distance once, so a zone's counts for any time window are an index
    range instead of spheroid distances to every incident around. Rows are written in
    the statement that moves an incident or changes a zone (database triggers); the radius
    they were measured for is the database function ``incidents_works_impact_radius()``.
    """

    pk = models.CompositePrimaryKey("incident_id", "works_zone_id")
    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="+")
    works_zone = models.ForeignKey(
        "incidents.WorksZone", on_delete=models.CASCADE, related_name="+", db_index=False
    )  # led by the (works zone, first post) index
    first_post_at = models.DateTimeField(_("first post at"), help_text=_("The incident's first report, copied."))
    category = models.CharField(_("category"), max_length=32, choices=Category.choices)
    distance_m = models.FloatField(_("distance"), help_text=_("Metres from the incident to the zone's impact area."))

    class Meta:
        verbose_name = _("incident near a works zone")
        verbose_name_plural = _("incidents near works zones")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(distance_m__gte=0), name="workszoneneighbour_distance_non_negative"
            ),
        ]
        indexes = [
            # Every count is a range of one zone's rows by date; the rest is read from the index.
            models.Index(
                fields=["works_zone", "first_post_at"],
                include=["category", "distance_m", "incident"],
                name="workszoneneighbour_zone_first",
            ),
        ]


class WorksImpactPending(models.Model):
    """An incident inserted or moved since the works impact table last measured it.

    Written by the database (migration 0011's triggers) in the statement that inserts or
    moves the incident; the next read of the table measures it and deletes this row
    (``incidents.publish.works_impact.catch_up``), so the pipeline only writes an id.
    """

    incident_id = models.BigIntegerField(_("incident id"), primary_key=True)

    class Meta:
        verbose_name = _("incident to measure against works zones")
        verbose_name_plural = _("incidents to measure against works zones")
