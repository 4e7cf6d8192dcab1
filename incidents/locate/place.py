"""Locate a post by the place its platform attached (X ``place``): only places small enough to mean a spot."""

from __future__ import annotations

from incidents.geo import bbox_half_diagonal_m
from incidents.locate.result import Location
from incidents.models import LocationMethod
from incidents.sources.record import PostRecord

# Place types that are too coarse to locate a street problem by themselves.
COARSE_PLACE_TYPES = frozenset({"city", "admin", "country"})
# Whatever its declared type, a box wider than this (half-diagonal) is a district or a city,
# not a location: a street problem needs to be found within a few hundred metres.
MAX_PLACE_RADIUS_M = 3_000.0
# A point-like place (a POI whose box is a point) is still only known to a shop front or so.
MIN_PLACE_ACCURACY_M = 25.0


def place_radius_m(record: PostRecord) -> float | None:
    """Covering radius of the record's place box in metres, ``None`` without a usable box."""
    if not record.place_bbox:
        return None
    min_lon, min_lat, max_lon, max_lat = record.place_bbox
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        return None
    return bbox_half_diagonal_m(record.place_bbox)


def is_precise_place(record: PostRecord) -> bool:
    """True when the place box alone locates the post (not a city, region or country)."""
    radius = place_radius_m(record)
    return radius is not None and record.place_type not in COARSE_PLACE_TYPES and radius <= MAX_PLACE_RADIUS_M


def place_location(record: PostRecord) -> Location | None:
    """The centre of a precise place box, with its radius as accuracy; ``None`` otherwise."""
    if not is_precise_place(record):
        return None
    min_lon, min_lat, max_lon, max_lat = record.place_bbox
    return Location(
        method=LocationMethod.PLACE,
        lon=(min_lon + max_lon) / 2,
        lat=(min_lat + max_lat) / 2,
        accuracy_m=max(MIN_PLACE_ACCURACY_M, place_radius_m(record)),
        matched_text=record.place_name,
    )


def coarse_place_note(record: PostRecord) -> str:
    """Why a place box was not used, for a post located nowhere."""
    if not record.place_bbox:
        return ""
    label = record.place_name or "the attached place"
    if record.place_type in COARSE_PLACE_TYPES:
        return f"place '{label}' is a whole {record.place_type}, not a location"
    radius = place_radius_m(record)
    if radius is None:
        return f"place '{label}' has an invalid bounding box"
    return f"place '{label}' is {radius / 1000:.1f} km across, too coarse to locate"
