"""Locate a post: GPS first, then street names in the text, then the place bounding box."""

from __future__ import annotations

import math
from collections.abc import Iterable

from incidents.locate.result import Location
from incidents.models import LocationMethod
from incidents.sources.record import PostRecord

# Device GPS is good to a few metres; phones report ~5-20 m in streets.
GPS_ACCURACY_M = 15.0
# Place types that are too coarse to locate a street problem by themselves.
COARSE_PLACE_TYPES = frozenset({"city", "admin", "country"})


def _bbox_half_diagonal_m(bbox: tuple[float, float, float, float]) -> float:
    min_lon, min_lat, max_lon, max_lat = bbox
    mid_lat = math.radians((min_lat + max_lat) / 2)
    dx = (max_lon - min_lon) * 111_320.0 * math.cos(mid_lat)
    dy = (max_lat - min_lat) * 111_320.0
    return math.hypot(dx, dy) / 2


class Locator:
    """Turn :class:`PostRecord`s into :class:`Location`s."""

    @classmethod
    def from_database(cls) -> Locator:
        return cls()

    def locate(self, record: PostRecord) -> Location:
        if record.lon is not None and record.lat is not None:
            return Location(method=LocationMethod.GPS, lon=record.lon, lat=record.lat, accuracy_m=GPS_ACCURACY_M)
        if record.place_bbox and record.place_type not in COARSE_PLACE_TYPES:
            min_lon, min_lat, max_lon, max_lat = record.place_bbox
            return Location(
                method=LocationMethod.PLACE,
                lon=(min_lon + max_lon) / 2,
                lat=(min_lat + max_lat) / 2,
                accuracy_m=_bbox_half_diagonal_m(record.place_bbox),
                matched_text=record.place_name,
            )
        return Location.nowhere()

    def locate_many(self, records: Iterable[PostRecord]) -> list[Location]:
        return [self.locate(record) for record in records]
