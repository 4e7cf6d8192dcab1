from __future__ import annotations

from django.contrib.gis.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.categories import Category


class WorksZoneNeighbour(models.Model):
    """An incident reported within the impact radius of a works zone, before, during or after the works.

    The read model of the works impact counts (``incidents.publish.works_impact``): each
    row copies what those counts filter on (the incident's first report and category)
    and measures the distance once, so a zone's counts for any time window are an index
    range instead of spheroid distances to every incident around. Rows are written in
    the transaction that moves an incident or changes a zone; the radius they were
    measured for is :class:`WorksImpactTable`'s.
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


class WorksImpactTable(models.Model):
    """The one row saying for which radius :class:`WorksZoneNeighbour` was built."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    radius_m = models.FloatField(
        _("radius"), help_text=_("Metres around each impact area within which incidents are kept.")
    )
    built_at = models.DateTimeField(_("built at"), default=timezone.now)

    class Meta:
        verbose_name = _("works impact table")
        verbose_name_plural = _("works impact tables")
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="worksimpacttable_single_row"),
            models.CheckConstraint(condition=models.Q(radius_m__gte=0), name="worksimpacttable_radius_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.radius_m:g} m"
