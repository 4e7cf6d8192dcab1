from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.gis.geos import GEOSGeometry
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GistIndex
from django.db.models.functions import Least
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.geo import DistanceMetres, Geography, WithinMetres, bbox_polygon, point_value
from incidents.models.common import Timestamped


class WorksStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")


def effective_end():
    """SQL for the moment a zone stops: its announced end or its withdrawal, whichever is first.

    PostgreSQL's LEAST ignores NULLs, so a zone with neither is open-ended.
    """
    return Least("ends_at", "withdrawn_at")


def default_grace() -> dt.timedelta:
    return dt.timedelta(hours=settings.INCIDENTS_WORKS_GRACE_HOURS)


class WorksZoneQuerySet(models.QuerySet["WorksZone"]):
    def with_effective_end(self) -> WorksZoneQuerySet:
        return self.annotate(effective_end=effective_end())

    def active_at(self, instant: dt.datetime, grace: dt.timedelta | None = None) -> WorksZoneQuerySet:
        """Zones running at ``instant``; ``grace`` widens both ends (default: no grace)."""
        grace = grace or dt.timedelta(0)
        return (
            self.with_effective_end()
            .filter(starts_at__lte=instant + grace)
            .filter(models.Q(effective_end__isnull=True) | models.Q(effective_end__gte=instant - grace))
        )

    def active_between(self, start: dt.datetime, end: dt.datetime) -> WorksZoneQuerySet:
        """Zones running at some moment of ``[start, end]``."""
        return (
            self.with_effective_end()
            .filter(starts_at__lte=end)
            .filter(models.Q(effective_end__isnull=True) | models.Q(effective_end__gte=start))
        )

    def active_on(self, day: dt.date) -> WorksZoneQuerySet:
        """Zones running at some moment of the local calendar day ``day``."""
        tz = timezone.get_current_timezone()
        start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
        return self.active_between(start, start + dt.timedelta(days=1) - dt.timedelta(microseconds=1))

    def with_status(self, instant: dt.datetime | None = None) -> WorksZoneQuerySet:
        """Annotate ``status`` (planned / active / ended) as of ``instant`` (default: now)."""
        instant = instant or timezone.now()
        return self.with_effective_end().annotate(
            status=models.Case(
                models.When(starts_at__gt=instant, then=models.Value(WorksStatus.PLANNED)),
                models.When(effective_end__lt=instant, then=models.Value(WorksStatus.ENDED)),
                default=models.Value(WorksStatus.ACTIVE),
                output_field=models.CharField(),
            )
        )

    def in_bbox(self, min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> WorksZoneQuerySet:
        return self.filter(impact_area__bboverlaps=bbox_polygon(min_lon, min_lat, max_lon, max_lat))

    def near(self, point: GEOSGeometry, metres: float) -> WorksZoneQuerySet:
        """Zones whose impact area lies within ``metres`` of ``point``, with ``distance_m``, nearest first."""
        target = point_value(point)
        return (
            self.filter(WithinMetres("impact_area", target, metres))
            .annotate(distance_m=DistanceMetres("impact_area", target))
            .order_by("distance_m")
        )

    def affecting_pedestrians(self) -> WorksZoneQuerySet:
        return self.filter(impact_pedestrian=True)


class WorksZone(Timestamped):
    """A roadworks site as published by a works feed, with the area it affects around it."""

    source = models.CharField(
        _("source"), max_length=64, help_text=_("Feed the zone comes from, e.g. 'toulouse' or 'wzdx'.")
    )
    source_id = models.CharField(_("source id"), max_length=128, help_text=_("Identifier in the source feed."))
    reference = models.CharField(
        _("reference"), max_length=128, blank=True, help_text=_("Public reference of the works permit.")
    )
    title = models.CharField(_("title"), max_length=500, blank=True)
    description = models.TextField(_("description"), blank=True)
    nature = models.CharField(_("nature"), max_length=500, blank=True, help_text=_("Kind of works."))
    road_names = ArrayField(models.CharField(max_length=255), default=list, blank=True, verbose_name=_("road names"))
    commune = models.CharField(_("commune"), max_length=128, blank=True)
    declarant = models.CharField(_("declarant"), max_length=255, blank=True, help_text=_("Owner of the works."))
    contractor = models.CharField(_("contractor"), max_length=255, blank=True)
    contact = models.EmailField(
        _("contact"),
        blank=True,
        db_default="",  # bulk writers (importers, COPY) leave it out
        help_text=_("E-mail address of the works site (crew or contractor), told about incidents from the triage."),
    )
    starts_at = models.DateTimeField(_("starts at"), db_index=True)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True, help_text=_("Announced end; empty if open."))
    withdrawn_at = models.DateTimeField(
        _("withdrawn at"),
        null=True,
        blank=True,
        help_text=_("When the zone vanished from a full snapshot of its feed before its announced end."),
    )
    geom = models.GeometryField(_("geometry"), srid=4326, help_text=_("Geometry as published (point, line, polygon)."))
    impact_area = models.MultiPolygonField(
        _("impact area"),
        srid=4326,
        help_text=_("The geometry buffered by INCIDENTS_WORKS_IMPACT_BUFFER_M metres, computed in PostGIS."),
    )
    impact_vehicle = models.BooleanField(_("vehicle lanes affected"), default=False)
    impact_pedestrian = models.BooleanField(_("pavement or pedestrians affected"), default=False)
    impact_cycle = models.BooleanField(_("cycle lanes affected"), default=False)
    impact_parking = models.BooleanField(_("parking affected"), default=False)
    impact_closure = models.BooleanField(_("full closure"), default=False)
    impact_text = models.TextField(_("impact text"), blank=True, help_text=_("Impact as published, unparsed."))
    first_seen_at = models.DateTimeField(_("first seen at"), null=True, blank=True)
    last_seen_at = models.DateTimeField(_("last seen at"), null=True, blank=True)
    properties = models.JSONField(
        _("properties"), default=dict, blank=True, help_text=_("Source attributes kept as published.")
    )

    objects = WorksZoneQuerySet.as_manager()

    class Meta:
        verbose_name = _("works zone")
        verbose_name_plural = _("works zones")
        ordering = ["-starts_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "source_id"], name="workszone_unique_source_id"),
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True) | models.Q(ends_at__gte=models.F("starts_at")),
                name="workszone_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(last_seen_at__isnull=True)
                | models.Q(first_seen_at__isnull=False, last_seen_at__gte=models.F("first_seen_at")),
                name="workszone_seen_in_order",
            ),
        ]
        indexes = [
            GistIndex(Geography("impact_area"), name="workszone_impact_geog_gist"),
            models.Index(fields=["ends_at"], name="workszone_ends_at_idx"),
        ]

    def __str__(self) -> str:
        return self.title or self.reference or f"{self.source}:{self.source_id}"

    def status_at(self, instant: dt.datetime | None = None) -> WorksStatus:
        """Return the zone's status at ``instant`` (default: now), derived from its dates."""
        instant = instant or timezone.now()
        if self.starts_at > instant:
            return WorksStatus.PLANNED
        # Mirrors effective_end(): the earlier of the announced end and the withdrawal.
        ends = [moment for moment in (self.ends_at, self.withdrawn_at) if moment is not None]
        if ends and min(ends) < instant:
            return WorksStatus.ENDED
        return WorksStatus.ACTIVE
