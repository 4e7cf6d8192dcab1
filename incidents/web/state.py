"""What the map shows: time, filters and view, read from the URL (permalinks) with sensible defaults.

The map page, its list view and the map's JavaScript share one vocabulary of query
parameters: ``asof`` (a local date), ``days`` (the window of reports ending that day),
``category``, ``status`` and ``affects`` (comma-separated codes, as in the API), ``near_works=true``,
and the view ``lat``, ``lon``, ``z`` (zoom) or ``bbox``. A bad value falls back to the
default instead of failing: a stale bookmark still opens a map.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field

from django import forms
from django.conf import settings
from django.db.models import Max
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from incidents.categories import Affected, Category
from incidents.models import Incident, IncidentStatus, Post
from incidents.publish.filters import parse_bbox

# Windows offered by the time control, in days.
WINDOWS = (1, 7, 30, 90, 365)
CATEGORIES = [code for code, _label in Category.choices]
STATUSES = [code for code, _label in IncidentStatus.choices]
AFFECTS = [code for code, _label in Affected.choices]


def latest_data_day() -> dt.date:
    """The local day of the latest report: the newest incident, else the newest post, else today.

    A demo or an archive opens on its own data, not on an empty today. Both maxima are
    read from an index (``last_post_at``, ``posted_at``).
    """
    latest = Incident.objects.aggregate(latest=Max("last_post_at"))["latest"]
    if latest is None:
        latest = Post.objects.aggregate(latest=Max("posted_at"))["latest"]
    return timezone.localdate(latest) if latest else timezone.localdate()


def _codes(value: str | None, valid: list[str]) -> list[str]:
    codes = [code.strip() for code in (value or "").split(",") if code.strip()]
    return [code for code in codes if code in valid]


def _number(value: str | None, low: float, high: float) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if low <= number <= high else None


@dataclass
class MapState:
    asof: dt.date
    days: int = settings.INCIDENTS_MAP_WINDOW_DAYS
    categories: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    near_works: bool = False
    affects: list[str] = field(default_factory=list)
    bbox: tuple[float, float, float, float] | None = None
    lat: float | None = None
    lon: float | None = None
    zoom: int | None = None

    @classmethod
    def from_query(cls, query: QueryDict) -> MapState:
        """The state a URL asks for; anything missing or invalid takes its default."""
        try:
            asof = dt.date.fromisoformat(query.get("asof", ""))
        except ValueError:
            asof = latest_data_day()
        days = _number(query.get("days"), 1, 3660)
        bbox = None
        if query.get("bbox"):
            # A broken bbox in a bookmark just shows everything.
            with contextlib.suppress(forms.ValidationError):
                bbox = parse_bbox(query["bbox"])
        zoom = _number(query.get("z"), 0, 22)
        return cls(
            asof=asof,
            days=int(days) if days else settings.INCIDENTS_MAP_WINDOW_DAYS,
            categories=_codes(query.get("category"), CATEGORIES),
            statuses=_codes(query.get("status"), STATUSES),
            near_works=query.get("near_works") in {"1", "true"},
            affects=_codes(query.get("affects"), AFFECTS),
            bbox=bbox,
            lat=_number(query.get("lat"), -90, 90),
            lon=_number(query.get("lon"), -180, 180),
            zoom=int(zoom) if zoom is not None else None,
        )

    @property
    def start(self) -> dt.date:
        return self.asof - dt.timedelta(days=self.days - 1)

    def _filters(self) -> dict[str, str]:
        """Category, status, near-works and view filters, as the API and the URL both write them."""
        params = {}
        if self.categories:
            params["category"] = ",".join(self.categories)
        if self.statuses:
            params["status"] = ",".join(self.statuses)
        if self.near_works:
            params["near_works"] = "true"
        if self.affects:
            params["affects"] = ",".join(self.affects)
        if self.bbox:
            params["bbox"] = ",".join(str(value) for value in self.bbox)
        return params

    def incident_params(self) -> dict[str, str]:
        """The API query parameters (``/api/incidents/``) of this state's incidents."""
        return {"datetime": f"{self.start.isoformat()}/{self.asof.isoformat()}", **self._filters()}

    def works_params(self) -> dict[str, str]:
        """The API query parameters (``/api/works-zones/``) of the works zones active on the ``asof`` day."""
        params = {"active_on": self.asof.isoformat()}
        if self.bbox:
            params["bbox"] = ",".join(str(value) for value in self.bbox)
        return params

    def as_json(self) -> dict:
        """For the map's script (``json_script``)."""
        return {
            "asof": self.asof.isoformat(),
            "days": self.days,
            "categories": self.categories,
            "statuses": self.statuses,
            "near_works": self.near_works,
            "affects": self.affects,
            "bbox": list(self.bbox) if self.bbox else None,
            "lat": self.lat,
            "lon": self.lon,
            "zoom": self.zoom,
        }

    def query(self, **changes) -> str:
        """This state as a URL query string (the list view's links)."""
        params = QueryDict(mutable=True)
        params.update({"asof": self.asof.isoformat(), "days": str(self.days), **self._filters()})
        for key, value in changes.items():
            params[key] = str(value)
        return params.urlencode(safe=",")


def selected_on_map(kind: str, pk: int, lon: float, lat: float, day: dt.date, zoom: int = 17) -> str:
    """The map's path, centred on a feature and with it selected (``kind``: incident or works), as of ``day``."""
    return f"{reverse('web:map')}?lat={lat:.5f}&lon={lon:.5f}&z={zoom}&asof={day.isoformat()}&sel={kind}:{pk}"
