"""
Atom feeds (RFC 4287) of new and changed incidents, with a GeoRSS point per entry.

``/feeds/incidents.atom`` takes the filters of ``/api/incidents/`` (the same filter set,
the same 400 on a bad or unknown parameter) plus ``limit``; ``/feeds/works/<id>.atom``
follows the incidents near one works zone (the works page's). Entries are the latest
changed first, each identified by its API URL (stable across updates), linked to the
map, with its category, its times and its point — what anyone sees on the open-data API,
never who posted.
"""

from __future__ import annotations

from types import SimpleNamespace

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from incidents.api.http import apply_filters
from incidents.models import Incident, WorksZone
from incidents.publish.layers import INCIDENTS
from incidents.publish.works_impact import near_zone
from incidents.web.state import selected_on_map

GEORSS = "http://www.georss.org/georss"
DEFAULT_ENTRIES, MAX_ENTRIES = 50, 500


class GeoAtomFeed(Atom1Feed):
    """Atom with a ``georss:point`` ("lat lon") in each entry that has one."""

    def root_attributes(self):
        return {**super().root_attributes(), "xmlns:georss": GEORSS}

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        if item.get("point"):
            handler.addQuickElement("georss:point", item["point"])


class _BadQuery(Exception):
    def __init__(self, detail):
        self.detail = detail


def _limit(request) -> int:
    value = request.GET.get("limit", str(DEFAULT_ENTRIES))
    if not value.isdigit() or not 1 <= int(value) <= MAX_ENTRIES:
        raise _BadQuery({"limit": [_("A whole number from 1 to %(max)d.") % {"max": MAX_ENTRIES}]})
    return int(value)


class IncidentsFeed(Feed):
    """Incidents matching the REST filters of ``/api/incidents/``, latest change first."""

    feed_type = GeoAtomFeed

    def __call__(self, request, *args, **kwargs):
        try:
            return super().__call__(request, *args, **kwargs)
        except _BadQuery as error:
            lines = [f"{name}: {' '.join(str(m) for m in messages)}" for name, messages in error.detail.items()]
            return HttpResponseBadRequest("\n".join(lines), content_type="text/plain; charset=utf-8")

    def get_object(self, request, *args, **kwargs):
        limit = _limit(request)
        try:
            incidents = apply_filters(
                INCIDENTS, SimpleNamespace(query_params=request.GET), INCIDENTS.queryset(), extra_params=["limit"]
            )
        except ValidationError as error:
            raise _BadQuery(error.detail) from None
        return SimpleNamespace(request=request, incidents=incidents, limit=limit, zone=None)

    def items(self, obj):
        return obj.incidents.select_related("segment").order_by("-updated_at", "-id")[: obj.limit]

    def title(self, obj):
        query = obj.request.GET.urlencode()
        return _("City incidents") + (f" ({query})" if query else "")

    def subtitle(self, obj):
        return _("New and changed incidents reported in public space, latest change first.")

    def link(self, obj):
        return reverse("web:map")

    def feed_url(self, obj):
        return obj.request.get_full_path()

    def feed_guid(self, obj):
        return obj.request.build_absolute_uri()

    def author_name(self, obj):
        return _("City incidents")

    def item_title(self, item: Incident):
        street = f" — {item.segment.name}" if item.segment_id else ""
        return f"#{item.pk} {item.get_category_display()}{street}"

    def item_description(self, item: Incident):
        return _("%(status)s. %(posts)s posts, first %(first)s, latest %(last)s.") % {
            "status": item.get_status_display(),
            "posts": item.post_count,
            "first": formats.date_format(item.first_post_at, "SHORT_DATETIME_FORMAT"),
            "last": formats.date_format(item.last_post_at, "SHORT_DATETIME_FORMAT"),
        }

    def item_link(self, item: Incident):
        day = timezone.localdate(item.last_post_at)
        return selected_on_map("incident", item.pk, item.location.x, item.location.y, day)

    def item_guid(self, item: Incident):
        return settings.INCIDENTS_SITE_URL + reverse("incident-detail", args=[item.pk])

    item_guid_is_permalink = False

    def item_pubdate(self, item: Incident):
        return item.created_at

    def item_updateddate(self, item: Incident):
        return item.updated_at

    def item_categories(self, item: Incident):
        return [item.category]

    def item_extra_kwargs(self, item: Incident):
        return {"point": f"{item.location.y:.6f} {item.location.x:.6f}"}


class WorksFeed(IncidentsFeed):
    """Incidents near one works zone (within ``INCIDENTS_WORKS_RADIUS_M``), latest change first."""

    def get_object(self, request, pk: int):
        zone = get_object_or_404(WorksZone, pk=pk)
        unknown = sorted(set(request.GET) - {"limit"})
        if unknown:
            raise _BadQuery({name: [_("Unknown parameter.")] for name in unknown})
        incidents = near_zone(zone, settings.INCIDENTS_WORKS_RADIUS_M)
        return SimpleNamespace(request=request, incidents=incidents, limit=_limit(request), zone=zone)

    def title(self, obj):
        return _("Incidents near the works: %(title)s") % {"title": obj.zone}

    def link(self, obj):
        return reverse("web:works", args=[obj.zone.pk])
