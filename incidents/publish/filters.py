"""
Filters of the published layers and the parsing of their values (django-filter, Django forms).

Every value is validated: one that cannot be understood is refused with a message saying
what is expected. The same filter sets serve the REST API, the OGC API (``bbox`` and
``datetime``), the clusters endpoint and the map's list view; the HTTP adapters also
refuse parameters nobody reads (:func:`incidents.api.http.reject_unknown`: a typo such
as ``catgory=`` must not silently return everything).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

import django_filters
from django import forms
from django.conf import settings
from django.contrib.gis.geos import Point
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from incidents.categories import Affected, Category
from incidents.geo import bbox_polygon
from incidents.models import IncidentStatus, IncidentWorksZone, WorksStatus
from incidents.publish.layers import (
    INCIDENTS,
    STREET_SEGMENTS,
    WORKS_IMPACT_AREAS,
    WORKS_LINES,
    WORKS_POINTS,
    WORKS_POLYGONS,
    WORKS_ZONES,
    Layer,
)

# Largest database id (bigint): ids in URLs and parameters run from 1 to this.
MAX_ID = 2**63 - 1
# Farthest `radius` accepted by `near`, in metres: a city, not a continent.
MAX_NEAR_RADIUS_M = 50_000


# --- Parsing (shared with the OGC API, the clusters endpoint and the map's state) ------


def parse_bbox(value: str) -> tuple[float, float, float, float]:
    """Parse ``minlon,minlat,maxlon,maxlat`` (WGS84 degrees); raise ``forms.ValidationError``."""
    parts = value.split(",")
    if len(parts) != 4:
        raise forms.ValidationError(_("Give four numbers: minlon,minlat,maxlon,maxlat."))
    try:
        min_lon, min_lat, max_lon, max_lat = (float(part) for part in parts)
    except ValueError:
        raise forms.ValidationError(_("Give four numbers: minlon,minlat,maxlon,maxlat.")) from None
    if not all(math.isfinite(v) for v in (min_lon, min_lat, max_lon, max_lat)):
        raise forms.ValidationError(_("Coordinates must be finite numbers."))
    if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180 and -90 <= min_lat <= 90 and -90 <= max_lat <= 90):
        raise forms.ValidationError(_("Longitudes lie in [-180, 180] and latitudes in [-90, 90]."))
    if min_lon > max_lon or min_lat > max_lat:
        raise forms.ValidationError(_("The minimum comes first: minlon,minlat,maxlon,maxlat."))
    return min_lon, min_lat, max_lon, max_lat


def parse_point(value: str) -> Point:
    """Parse ``lon,lat``; raise ``forms.ValidationError``."""
    parts = value.split(",")
    try:
        lon, lat = (float(part) for part in parts)
    except ValueError:
        raise forms.ValidationError(_("Give a point as lon,lat in degrees, e.g. 1.444,43.604.")) from None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise forms.ValidationError(_("Longitude lies in [-180, 180] and latitude in [-90, 90]."))
    return Point(lon, lat, srid=4326)


def parse_instant(text: str, *, end: bool) -> dt.datetime:
    """An RFC 3339 date-time; a bare date means the start (or end) of that local day."""
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            moment = timezone.make_aware(dt.datetime.combine(day, dt.time.max if end else dt.time.min))
            # Before standard time zones (Paris: 1911) the local offset has seconds (+00:09:21),
            # which RFC 3339 cannot write: such days are given in UTC.
            return moment.astimezone(dt.UTC) if moment.utcoffset().seconds % 60 else moment
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise forms.ValidationError(
            _("%(value)r is not an RFC 3339 date-time such as 2024-05-01T08:00:00Z.") % {"value": text}
        ) from None
    if moment.tzinfo is None:
        raise forms.ValidationError(
            _("%(value)r has no time zone: add Z or an offset such as +02:00.") % {"value": text}
        )
    try:
        # The database compares in UTC: 0001-01-01T00:00+14:00 has no UTC equivalent. The same
        # instant goes on in UTC: PostgreSQL takes offsets up to 15:59 only, RFC 3339 up to 23:59.
        return moment.astimezone(dt.UTC)
    except OverflowError:
        raise forms.ValidationError(_("%(value)r is out of range.") % {"value": text}) from None


def parse_datetime_interval(value: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Parse an RFC 3339 instant or an interval ``start/end`` where either end may be ``..`` (open)."""
    if "/" not in value:
        instant = parse_instant(value, end=False)
        # A bare date is the whole day, an instant is itself.
        return instant, (parse_instant(value, end=True) if len(value) == 10 else instant)
    parts = value.split("/")
    if len(parts) != 2:
        raise forms.ValidationError(_("An interval is start/end, with '..' for an open end."))
    start = None if parts[0] in ("", "..") else parse_instant(parts[0], end=False)
    end = None if parts[1] in ("", "..") else parse_instant(parts[1], end=True)
    if start is None and end is None:
        raise forms.ValidationError(_("An interval needs at least one end."))
    if start and end and start > end:
        raise forms.ValidationError(_("The interval ends before it starts."))
    return start, end


def filter_datetime(
    queryset: QuerySet, layer: Layer, interval: tuple[dt.datetime | None, dt.datetime | None]
) -> QuerySet:
    """Keep features whose time span meets ``interval`` (an open end of a feature never ends)."""
    if layer.temporal is None:
        return queryset
    start_expr, end_expr = layer.temporal
    start, end = interval
    queryset = queryset.alias(_t_start=start_expr, _t_end=end_expr)
    if end is not None:
        queryset = queryset.filter(_t_start__lte=end)
    if start is not None:
        queryset = queryset.filter(Q(_t_end__isnull=True) | Q(_t_end__gte=start))
    return queryset


def filter_bbox(queryset: QuerySet, layer: Layer, bbox: tuple[float, float, float, float]) -> QuerySet:
    """Keep features whose geometry intersects ``bbox`` (index-assisted).

    For points the bounding-box test (``&&``) is already exact and cheaper than ST_Intersects.
    """
    if layer.is_point:
        return queryset.in_bbox(*bbox)
    return queryset.filter(**{f"{layer.geometry}__intersects": bbox_polygon(*bbox)})


# --- Form fields ------------------------------------------------------------------------


class ParsedField(forms.CharField):
    """A text parameter turned into a value by ``parse``, which raises ``forms.ValidationError``."""

    @staticmethod
    def parse(value: str):
        return value

    def clean(self, value):
        value = super().clean(value)
        return self.parse(value) if value else None


class BBoxField(ParsedField):
    parse = staticmethod(parse_bbox)


class PointField(ParsedField):
    parse = staticmethod(parse_point)


class DateTimeIntervalField(ParsedField):
    parse = staticmethod(parse_datetime_interval)


class StrictBooleanField(ParsedField):
    @staticmethod
    def parse(value: str) -> bool:
        lowered = value.lower()
        if lowered in {"true", "1", "yes"}:
            return True
        if lowered in {"false", "0", "no"}:
            return False
        raise forms.ValidationError(_("Use true or false."))


class CodeListField(ParsedField):
    """Comma-separated codes, each one of ``choices`` (``-`` in front too, when ``signed``)."""

    def __init__(self, *args, choices: Iterable[str] = (), signed: bool = False, **kwargs):
        self.valid = list(choices)
        self.signed = signed
        super().__init__(*args, **kwargs)

    def parse(self, value: str) -> list[str]:
        codes = [code.strip() for code in value.split(",") if code.strip()]
        unknown = [code for code in codes if (code.lstrip("-") if self.signed else code) not in self.valid]
        if unknown or not codes:
            message = (
                _("Cannot order by %(unknown)s; use %(valid)s, with '-' for descending.")
                if self.signed
                else _("Unknown value %(unknown)s; use one or more of: %(valid)s (comma-separated).")
            )
            raise forms.ValidationError(
                message % {"unknown": ", ".join(repr(code) for code in unknown) or "''", "valid": ", ".join(self.valid)}
            )
        return codes


class OrderingField(CodeListField):
    """Comma-separated sort keys, ``-`` in front for descending."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, signed=True, **kwargs)


# --- Filters ----------------------------------------------------------------------------


class LayerFilter(django_filters.Filter):
    """A filter whose form field parses the value and whose action is a function of the layer."""

    def __init__(self, *args, action=None, field_class=None, help_text="", **kwargs):
        self.action = action
        if field_class is not None:
            self.field_class = field_class
        kwargs.setdefault("label", help_text)
        super().__init__(*args, **kwargs)
        self.help_text = help_text

    def filter(self, qs, value):
        if value in (None, "", []):
            return qs
        return self.action(qs, self.parent.layer, value)


class LayerFilterSet(django_filters.FilterSet):
    """Filters of one layer; subclasses set ``layer``."""

    layer: Layer

    bbox = LayerFilter(
        field_class=BBoxField,
        action=filter_bbox,
        help_text="Only features intersecting minlon,minlat,maxlon,maxlat (WGS84 degrees).",
    )
    near = LayerFilter(
        field_class=PointField,
        action=lambda qs, layer, value: qs,  # applied with `radius` in filter_queryset
        help_text="lon,lat: only features within `radius` metres of this point (give both).",
    )
    radius = django_filters.NumberFilter(
        method=lambda qs, name, value: qs,
        min_value=0,
        max_value=MAX_NEAR_RADIUS_M,
        label=f"Metres around `near` (0 to {MAX_NEAR_RADIUS_M}).",
    )
    ordering = LayerFilter(
        field_class=OrderingField,
        action=lambda qs, layer, keys: qs,  # applied last, in filter_queryset
        help_text="Comma-separated sort keys, '-' for descending.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["ordering"].valid = list(self.layer.ordering_fields)
        self.form.fields["ordering"].help_text = ", ".join(self.layer.ordering_fields)

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        if (data.get("near") is None) != (data.get("radius") is None):
            raise ValidationError({"near": [_("Give both near=lon,lat and radius=metres.")]})
        queryset = super().filter_queryset(queryset)
        if data.get("near") is not None:
            queryset = queryset.near(data["near"], float(data["radius"]))
        ordering = data.get("ordering")
        if ordering:
            keys = ["pk" if key.lstrip("-") == "id" else key for key in ordering]
            keys = [("-pk" if key == "-id" else key) for key in keys]
            queryset = queryset.order_by(*keys, "pk")
        elif data.get("near") is None:
            queryset = queryset.order_by(*self.layer.default_ordering)
        return queryset


def _interval_filter(help_text: str) -> LayerFilter:
    return LayerFilter(field_class=DateTimeIntervalField, action=filter_datetime, help_text=help_text)


def _codes(choices) -> list[str]:
    return [value for value, _label in choices]


def _filter_codes(field: str):
    return lambda qs, layer, codes: qs.filter(**{f"{field}__in": codes})


class IdFilter(django_filters.Filter):
    """A database id: 1 to 2**63 - 1, as documented; a larger number is a 400, not an empty page."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


def _filter_near_works(qs, layer, value):
    linked = Exists(IncidentWorksZone.objects.filter(incident=OuterRef("pk")))
    return qs.filter(linked) if value else qs.exclude(linked)


class IncidentFilterSet(LayerFilterSet):
    layer = INCIDENTS

    datetime = _interval_filter(
        "RFC 3339 instant or interval start/end ('..' for open): incidents reported during that time."
    )
    category = LayerFilter(
        field_class=CodeListField,
        choices=_codes(Category.choices),
        action=_filter_codes("category"),
        help_text="Comma-separated category codes.",
    )
    status = LayerFilter(
        field_class=CodeListField,
        choices=_codes(IncidentStatus.choices),
        action=_filter_codes("status"),
        help_text="Comma-separated status codes.",
    )
    affects = LayerFilter(
        field_class=CodeListField,
        choices=_codes(Affected.choices),
        action=lambda qs, layer, codes: qs.filter(affects__overlap=codes),
        help_text="Comma-separated codes of who is affected: incidents whose posts say they harm any of them.",
    )
    works_zone = IdFilter(field_name="works_zones", min_value=1, label="Only incidents linked to this works zone (id).")
    segment = IdFilter(field_name="segment_id", min_value=1, label="Only incidents on this street segment (id).")
    district = IdFilter(field_name="district_id", min_value=1, label="District id.")
    near_works = LayerFilter(
        field_class=StrictBooleanField,
        action=_filter_near_works,
        help_text="true: only incidents reported near active works; false: only the others.",
    )

    class Meta:
        model = INCIDENTS.model
        fields = []


class WorksZoneFilterSet(LayerFilterSet):
    layer = WORKS_ZONES

    datetime = _interval_filter("RFC 3339 instant or interval: works running at some moment of it.")
    active_on = django_filters.DateFilter(
        method="filter_active_on", label="YYYY-MM-DD: works running at some moment of that local day."
    )
    status = LayerFilter(
        field_class=CodeListField,
        choices=_codes(WorksStatus.choices),
        action=_filter_codes("status"),
        help_text="planned, active or ended (now).",
    )

    class Meta:
        model = WORKS_ZONES.model
        fields = []

    def filter_active_on(self, queryset, name, value):
        return queryset.filter(pk__in=self.layer.model.objects.active_on(value).values("pk"))


class StreetSegmentFilterSet(LayerFilterSet):
    layer = STREET_SEGMENTS

    name = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", max_length=255, label="Part of the street name."
    )
    street_of = IdFilter(
        method=lambda qs, name, value: qs.of_street(value),
        min_value=1,
        label="Only the segments of the street this segment (id) belongs to: same name, same commune.",
    )
    retired = django_filters.ChoiceFilter(
        choices=[("false", "false"), ("true", "true"), ("all", "all")],
        method=lambda qs, name, value: qs,  # applied in filter_queryset, default included
        label="false (default): the segments their dataset lists now; true: the retired ones it no longer lists "
        "(kept for history); all: both.",
    )

    class Meta:
        model = STREET_SEGMENTS.model
        fields = []

    def filter_queryset(self, queryset):
        retired = self.form.cleaned_data.get("retired") or "false"
        if retired != "all":
            queryset = queryset.filter(retired_at__isnull=False) if retired == "true" else queryset.current()
        return super().filter_queryset(queryset)


FILTERSETS: dict[str, type[LayerFilterSet]] = {
    INCIDENTS.name: IncidentFilterSet,
    WORKS_ZONES.name: WorksZoneFilterSet,
    STREET_SEGMENTS.name: StreetSegmentFilterSet,
    # The works zones' single-type layers filter like the works zones.
    **{
        layer.name: type(f"{layer.component}FilterSet", (WorksZoneFilterSet,), {"layer": layer})
        for layer in (WORKS_POINTS, WORKS_LINES, WORKS_POLYGONS, WORKS_IMPACT_AREAS)
    },
}


class ClusterForm(forms.Form):
    """Parameters of ``/api/incidents/clusters/``: a viewport, a zoom and the incident filters."""

    bbox = BBoxField(help_text="Viewport: minlon,minlat,maxlon,maxlat (WGS84 degrees).")
    zoom = forms.IntegerField(min_value=0, max_value=22, help_text="Map zoom level, 0 to 22.")
    category = CodeListField(required=False, choices=_codes(Category.choices), help_text="Category codes.")
    status = CodeListField(required=False, choices=_codes(IncidentStatus.choices), help_text="Status codes.")
    datetime = DateTimeIntervalField(required=False, help_text="RFC 3339 instant or interval ('..' for open).")
    near_works = StrictBooleanField(required=False, help_text="true: only incidents reported near active works.")
    affects = CodeListField(required=False, choices=_codes(Affected.choices), help_text="Who is affected: codes.")


class ImpactForm(forms.Form):
    """Parameters of a works zone's impact."""

    radius = forms.FloatField(
        required=False, min_value=0, max_value=5000, help_text="Metres around the impact area (default 100)."
    )
    category = CodeListField(required=False, choices=_codes(Category.choices), help_text="Only these categories.")

    def clean_radius(self):
        radius = self.cleaned_data["radius"]
        return settings.INCIDENTS_WORKS_RADIUS_M if radius is None else radius


class ImpactRankingForm(ImpactForm):
    """Parameters of the ranking of works zones by impact."""

    datetime = DateTimeIntervalField(
        required=False, help_text="Time window (RFC 3339 interval); default: the last 30 days."
    )
    bbox = BBoxField(required=False, help_text="Only zones in minlon,minlat,maxlon,maxlat.")

    def clean_datetime(self):
        interval = self.cleaned_data["datetime"]
        now = timezone.now()
        if interval is None:
            return now - dt.timedelta(days=30), now
        start, end = interval
        return start or dt.datetime(1970, 1, 1, tzinfo=dt.UTC), end or now
