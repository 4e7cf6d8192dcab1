from __future__ import annotations

from django.contrib.gis.db import models
from django.contrib.gis.geos import GEOSGeometry
from django.utils.translation import gettext_lazy as _

from incidents.geo import AreaSquareMetres, point_value


class District(models.Model):
    """A district of the city (Toulouse: INSEE 'grands quartiers'), for filters and reporting."""

    code = models.CharField(_("code"), max_length=32, unique=True, help_text=_("Official code, e.g. INSEE IRIS code."))
    name = models.CharField(_("name"), max_length=255)
    geom = models.MultiPolygonField(_("geometry"), srid=4326)
    properties = models.JSONField(_("properties"), default=dict, blank=True)

    class Meta:
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ServiceAreaSource(models.TextChoices):
    DISTRICTS = "districts", _("Union of the districts")
    STREETS = "streets", _("Extent of the loaded streets")
    MANUAL = "manual", _("Drawn or imported boundary")


class ServiceAreaQuerySet(models.QuerySet["ServiceArea"]):
    def covering(self, point: GEOSGeometry) -> ServiceAreaQuerySet:
        return self.filter(geom__intersects=point_value(point))

    def with_area(self) -> ServiceAreaQuerySet:
        """Annotate ``area_m2``, measured on the spheroid."""
        return self.annotate(area_m2=AreaSquareMetres("geom"))


class ServiceArea(models.Model):
    """The territory the city answers for; posts located outside it are 'out of area'.

    Several areas may exist (e.g. a city and a neighbouring commune it serves): a point
    is in the service area when any of them covers it. With no area at all, nothing is
    treated as out of area.
    """

    name = models.CharField(_("name"), max_length=128, unique=True)
    source = models.CharField(_("source"), max_length=16, choices=ServiceAreaSource.choices)
    geom = models.MultiPolygonField(_("geometry"), srid=4326)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ServiceAreaQuerySet.as_manager()

    class Meta:
        verbose_name = _("service area")
        verbose_name_plural = _("service areas")

    def __str__(self) -> str:
        return self.name
