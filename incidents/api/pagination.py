"""
Limit/offset paging of feature collections, shared by the REST and OGC APIs.

``limit`` is validated (never silently clamped): a value outside its range answers 400.
``limit=all`` (REST only) streams every matching feature, for full exports.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.utils.urls import remove_query_param, replace_query_param

PAGE_PARAMS = ("limit", "offset")


@dataclass(frozen=True)
class Page:
    """The requested window: ``limit`` is None for a full (streamed) export."""

    limit: int | None
    offset: int

    @property
    def is_export(self) -> bool:
        return self.limit is None

    def slice(self, queryset):
        if self.limit is None:
            return queryset[self.offset :] if self.offset else queryset
        return queryset[self.offset : self.offset + self.limit]

    def next_offset(self, total: int) -> int | None:
        if self.limit is None or self.offset + self.limit >= total:
            return None
        return self.offset + self.limit

    def previous_offset(self) -> int | None:
        if self.limit is None or self.offset == 0:
            return None
        return max(self.offset - self.limit, 0)


def _integer(params, name: str, default: int, minimum: int, maximum: int) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError({name: [_("Give a whole number.")]}) from None
    if not minimum <= value <= maximum:
        raise ValidationError({name: [_("Give a number from %(min)d to %(max)d.") % {"min": minimum, "max": maximum}]})
    return value


def parse_page(params, *, default: int | None = None, maximum: int | None = None, allow_all: bool = True) -> Page:
    """Read ``limit`` and ``offset`` from query parameters; raise 400 on bad values."""
    default = default or settings.INCIDENTS_API_PAGE_SIZE
    maximum = maximum or settings.INCIDENTS_API_MAX_PAGE_SIZE
    offset = _integer(params, "offset", 0, 0, 2**31 - 1)
    if allow_all and params.get("limit") == "all":
        return Page(limit=None, offset=offset)
    hint = _(" or 'all' for a full export") if allow_all else ""
    try:
        limit = _integer(params, "limit", default, 1, maximum)
    except ValidationError:
        raise ValidationError(
            {"limit": [_("Give a number from 1 to %(max)d%(hint)s.") % {"max": maximum, "hint": hint}]}
        ) from None
    return Page(limit=limit, offset=offset)


def page_url(request, offset: int | None) -> str | None:
    """The absolute URL of the page starting at ``offset`` (None when there is none)."""
    if offset is None:
        return None
    url = request.build_absolute_uri()
    return replace_query_param(url, "offset", offset) if offset else remove_query_param(url, "offset")
