"""Template filters of the map and triage pages."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def duration(seconds) -> str:
    """Seconds as a short human duration: '45 s', '12 min', '3 h 05', '2 d 4 h'; '—' when unknown."""
    if seconds is None or seconds == "":
        return "—"
    seconds = round(float(seconds))
    if seconds < 60:
        return _("%(s)d s") % {"s": seconds}
    minutes = seconds // 60
    if minutes < 60:
        return _("%(m)d min") % {"m": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return _("%(h)d h %(m)02d") % {"h": hours, "m": minutes}
    days, hours = divmod(hours, 24)
    return _("%(d)d d %(h)d h") % {"d": days, "h": hours}


@register.filter
def get_item(mapping: dict, key):
    """``mapping[key]`` in a template (e.g. a category's label from its code); the key itself when absent."""
    return mapping.get(key, key)


@register.filter
def http_url(url: str) -> str:
    """``url`` if it is an http(s) link, else empty: a ``javascript:`` link from a feed is never followed."""
    return url if isinstance(url, str) and url.lower().startswith(("http://", "https://")) else ""
