"""Writes on works zones that are not tied to one import format."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from incidents.geo import BufferMetres
from incidents.models import WorksZone
from incidents.models.works import WorksZoneQuerySet


@transaction.atomic
def refresh_impact_areas(zones: WorksZoneQuerySet | None = None, buffer_m: float | None = None) -> int:
    """Recompute the impact area of ``zones`` (default: all) as their geometry grown by ``buffer_m`` metres.

    Runs as one UPDATE in PostGIS; returns the number of zones updated.
    """
    if buffer_m is None:
        buffer_m = settings.INCIDENTS_WORKS_IMPACT_BUFFER_M
    zones = WorksZone.objects.all() if zones is None else zones
    return zones.update(impact_area=BufferMetres("geom", buffer_m))
