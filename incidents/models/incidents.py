from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.gis.geos import GEOSGeometry
from django.contrib.postgres.indexes import GistIndex
from django.db.models import Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.categories import Category
from incidents.geo import DistanceMetres, Geography, WithinMetres, bbox_polygon, point_value
from incidents.models.common import Timestamped, affects_field, optional_link, segment_distance_field


class IncidentStatus(models.TextChoices):
    NEW = "new", _("New")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    DISPATCHED = "dispatched", _("Crew dispatched")
    RESOLVED = "resolved", _("Resolved")
    REJECTED = "rejected", _("Rejected")
    DUPLICATE = "duplicate", _("Duplicate")


# Statuses in which the city still has something to do.
OPEN_STATUSES = frozenset({IncidentStatus.NEW, IncidentStatus.ACKNOWLEDGED, IncidentStatus.DISPATCHED})


class IncidentQuerySet(models.QuerySet["Incident"]):
    def in_bbox(self, min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> IncidentQuerySet:
        return self.filter(location__bboverlaps=bbox_polygon(min_lon, min_lat, max_lon, max_lat))

    def near(self, point: GEOSGeometry, metres: float) -> IncidentQuerySet:
        target = point_value(point)
        return (
            self.filter(WithinMetres("location", target, metres))
            .annotate(distance_m=DistanceMetres("location", target))
            .order_by("distance_m")
        )

    def open(self) -> IncidentQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def by_priority(self) -> IncidentQuerySet:
        return self.order_by("-priority", "-last_post_at", "id")

    def with_near_works(self) -> IncidentQuerySet:
        """Annotate ``near_works``: works were active nearby while it was reported (it has works links).

        ``id IN (links)`` rather than a correlated ``EXISTS``: PostgreSQL hashes the linked
        ids once, so sorting a whole queue by it stays cheap (bench: 650k open incidents).
        """
        linked = IncidentWorksZone.objects.values("incident_id")
        return self.annotate(
            near_works=models.Case(
                models.When(pk__in=linked, then=models.Value(True)),
                default=models.Value(False),
                output_field=models.BooleanField(),
            )
        )

    def triage_queue(self) -> IncidentQuerySet:
        """The operators' queue: new incidents near active works first, then by priority, latest first."""
        return (
            self.with_near_works()
            .annotate(
                new_near_works=models.Case(
                    models.When(models.Q(status=IncidentStatus.NEW, near_works=True), then=models.Value(True)),
                    default=models.Value(False),
                    output_field=models.BooleanField(),
                )
            )
            .order_by("-new_near_works", "-priority", "-last_post_at", "id")
        )


class Incident(Timestamped):
    """One problem in public space, reported by one or more posts."""

    location = models.PointField(_("location"), srid=4326, help_text=_("Representative point of the incident."))
    # Both indexed in Meta.indexes, without the LIKE (varchar_pattern_ops) twins that db_index adds:
    # every index is rewritten each time an incident gains a post.
    category = models.CharField(
        _("category"),
        max_length=32,
        choices=Category.choices,
        help_text=_("The most frequent category of its posts (docs/taxonomy.md: related codes, ties)."),
    )
    category_counts = models.JSONField(
        _("posts per category"),
        default=dict,
        db_default=Value({}, output_field=models.JSONField()),
        editable=False,
        help_text=_("Number of its posts in each category, by code; its category follows from them."),
    )
    affects = affects_field(_("Who its posts say the problem harms."))
    status = models.CharField(_("status"), max_length=16, choices=IncidentStatus.choices, default=IncidentStatus.NEW)
    segment = optional_link(
        "incidents.StreetSegment",
        _("street segment"),
        related_name="incidents",
    )
    segment_distance_m = segment_distance_field(_("Metres from the incident to its segment."))
    # The post whose point stands for the incident's: its most accurately located post, the
    # earliest on ties. Kept so that a batch of new posts is compared with it alone instead of
    # reading every post of the incident again (incidents.pipeline.totals.add_batch_posts).
    location_post = optional_link(
        "incidents.Post",
        _("located by"),
        editable=False,
        db_index=False,  # only followed from the incident; posts are never deleted by the app
        related_name="+",
        help_text=_("The post whose point stands for the incident's."),
    )
    location_accuracy_m = models.FloatField(
        _("location accuracy"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Metres: how precisely its most accurately located post is placed (empty: unknown)."),
    )
    works_zones = models.ManyToManyField(
        "incidents.WorksZone", through="incidents.IncidentWorksZone", related_name="incidents", blank=True
    )
    district = optional_link(
        "incidents.District",
        _("district"),
        related_name="incidents",
    )
    first_post_at = models.DateTimeField(_("first post at"))
    last_post_at = models.DateTimeField(_("last post at"), db_index=True)
    post_count = models.PositiveIntegerField(_("posts"), default=0)
    engagement = models.PositiveIntegerField(
        _("engagement"), default=0, help_text=_("Likes, reposts, replies and quotes of all its posts.")
    )
    priority = models.FloatField(_("priority"), default=0, db_index=True, help_text=_("Higher means act sooner."))
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("duplicate of"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
    )
    recurrence_of = optional_link(
        "self",
        _("reported again after"),
        editable=False,
        db_index=False,  # see Meta.indexes: only the few incidents that recur
        related_name="recurrences",
        help_text=_("The resolved incident, same problem at the same place, that this one reports again."),
    )

    objects = IncidentQuerySet.as_manager()

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-last_post_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="duplicate", duplicate_of__isnull=False)
                | (~models.Q(status="duplicate") & models.Q(duplicate_of__isnull=True)),
                name="incident_duplicate_has_original",
            ),
            models.CheckConstraint(
                condition=~models.Q(duplicate_of=models.F("id")), name="incident_not_duplicate_of_itself"
            ),
            models.CheckConstraint(
                condition=~models.Q(recurrence_of=models.F("id")), name="incident_not_recurrence_of_itself"
            ),
            models.CheckConstraint(
                condition=models.Q(last_post_at__gte=models.F("first_post_at")), name="incident_posts_in_order"
            ),
            models.CheckConstraint(
                condition=models.Q(segment_distance_m__isnull=True) | models.Q(segment_distance_m__gte=0),
                name="incident_segment_distance_non_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(location_accuracy_m__isnull=True) | models.Q(location_accuracy_m__gte=0),
                name="incident_location_accuracy_non_negative",
            ),
        ]
        indexes = [
            GistIndex(Geography("location"), name="incident_location_geog_gist"),
            models.Index(fields=["status", "-priority"], name="incident_status_priority_idx"),  # also: status
            models.Index(fields=["category"], name="incident_category_idx"),
            models.Index(
                fields=["recurrence_of"],
                condition=models.Q(recurrence_of__isnull=False),
                name="incident_recurrence_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_category_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class IncidentWorksZone(models.Model):
    """A works zone active near an incident while its posts arrived."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="works_links")
    works_zone = models.ForeignKey("incidents.WorksZone", on_delete=models.CASCADE, related_name="incident_links")
    distance_m = models.FloatField(_("distance"), help_text=_("Metres from the incident to the zone's impact area."))

    class Meta:
        verbose_name = _("incident works zone link")
        verbose_name_plural = _("incident works zone links")
        constraints = [
            models.UniqueConstraint(fields=["incident", "works_zone"], name="incidentworkszone_unique"),
            models.CheckConstraint(
                condition=models.Q(distance_m__gte=0), name="incidentworkszone_distance_non_negative"
            ),
        ]


class IncidentEvent(models.Model):
    """One status change of an incident: who did what, when, and why."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(_("from"), max_length=16, choices=IncidentStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=16, choices=IncidentStatus.choices)
    actor = optional_link(
        settings.AUTH_USER_MODEL,
        _("actor"),
        related_name="incident_events",
    )
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("incident event")
        verbose_name_plural = _("incident events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["incident", "created_at"], name="incidentevent_incident_at_idx")]

    def __str__(self) -> str:
        return f"{self.incident_id}: {self.from_status or '-'} → {self.to_status}"
