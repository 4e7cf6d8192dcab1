from __future__ import annotations

from django.contrib.gis.db import models
from django.contrib.gis.geos import GEOSGeometry
from django.contrib.postgres.indexes import GistIndex
from django.utils.translation import gettext_lazy as _

from incidents.geo import DistanceMetres, Geography, WithinMetres, bbox_polygon, point_value
from incidents.models.common import Timestamped


class StreetSegmentQuerySet(models.QuerySet["StreetSegment"]):
    def in_bbox(self, min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> StreetSegmentQuerySet:
        return self.filter(geom__bboverlaps=bbox_polygon(min_lon, min_lat, max_lon, max_lat))

    def near(self, point: GEOSGeometry, metres: float) -> StreetSegmentQuerySet:
        """Segments within ``metres`` of ``point``, annotated with ``distance_m``, nearest first."""
        target = point_value(point)
        return (
            self.filter(WithinMetres("geom", target, metres))
            .annotate(distance_m=DistanceMetres("geom", target))
            .order_by("distance_m")
        )

    def named(self, normalized_name: str) -> StreetSegmentQuerySet:
        return self.filter(name_normalized=normalized_name)

    def of_street(self, segment_id: int) -> StreetSegmentQuerySet:
        """The segments of the street segment ``segment_id`` belongs to (same name in the same commune)."""
        street = self.model.objects.filter(pk=segment_id).values("name_normalized", "insee_code")
        return self.filter(
            name_normalized=models.Subquery(street.values("name_normalized")[:1]),
            insee_code=models.Subquery(street.values("insee_code")[:1]),
        )

    def current(self) -> StreetSegmentQuerySet:
        """Segments their source still lists: the ones new posts are linked to and located on."""
        return self.filter(retired_at__isnull=True)


class StreetSegment(Timestamped):
    """A stretch of street between two junctions (or a whole way, depending on the source).

    A source published in several layers sharing one id space (Toulouse's
    sens-de-circulation and zones-de-rencontre) keeps what each layer says of the segment
    in ``layers``; name, geometry and properties are their merge (see
    :mod:`incidents.importers.streets`). Empty for a source published whole.
    """

    source = models.CharField(
        _("source"), max_length=64, help_text=_("Dataset the segment comes from, e.g. 'toulouse' or 'osm'.")
    )
    source_id = models.CharField(_("source id"), max_length=128, help_text=_("Identifier in the source dataset."))
    name = models.CharField(_("name"), max_length=255, help_text=_("Official name as published by the source."))
    name_normalized = models.CharField(
        _("normalized name"),
        max_length=255,
        db_index=True,
        help_text=_("Comparable key of the name (lower case, no accents, canonical street type)."),
    )
    street_id = models.CharField(
        _("street id"),
        max_length=64,
        blank=True,
        db_index=True,
        help_text=_("Identifier of the whole street, shared by its segments (Toulouse 'codsti')."),
    )
    commune = models.CharField(_("commune"), max_length=128, blank=True)
    insee_code = models.CharField(_("INSEE code"), max_length=5, blank=True, help_text=_("Commune INSEE code."))
    geom = models.MultiLineStringField(_("geometry"), srid=4326)
    length_m = models.FloatField(_("length"), help_text=_("Length in metres, measured on the spheroid."))
    properties = models.JSONField(
        _("properties"), default=dict, blank=True, help_text=_("Source attributes kept as published.")
    )
    layers = models.JSONField(
        _("layers"), default=dict, blank=True, help_text=_("What each layer of the source listing it publishes.")
    )
    retired_at = models.DateTimeField(
        _("retired at"),
        null=True,
        blank=True,
        help_text=_(
            "When a newer full import of its source (or of every layer that listed it) no longer listed the "
            "segment. Retired segments are kept for history: posts keep their links to them, new posts are not "
            "linked to them. Empty while the source lists it."
        ),
    )

    objects = StreetSegmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("street segment")
        verbose_name_plural = _("street segments")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "source_id"], name="streetsegment_unique_source_id"),
            models.CheckConstraint(condition=models.Q(length_m__gte=0), name="streetsegment_length_non_negative"),
        ]
        indexes = [GistIndex(Geography("geom"), name="streetsegment_geog_gist")]

    def __str__(self) -> str:
        return f"{self.name} ({self.commune})" if self.commune else self.name
