"""
The incident category taxonomy.

The codes are part of the public API (REST, OGC, Open311 ``service_code``): add new
codes, never rename or remove one.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    WORKS_OBSTRUCTION = "works_obstruction", _("Works obstruction")
    PEDESTRIAN_CROSSING_SIDEWALK = "pedestrian_crossing_sidewalk", _("Pedestrian crossing or sidewalk")
    ROAD_SURFACE_POTHOLE = "road_surface_pothole", _("Road surface or pothole")
    LIGHTING = "lighting", _("Street lighting")
    SIGNAGE_MARKING = "signage_marking", _("Signage or road marking")
    WASTE_CLEANLINESS = "waste_cleanliness", _("Waste or cleanliness")
    GRAFFITI_VANDALISM = "graffiti_vandalism", _("Graffiti or vandalism")
    VEGETATION = "vegetation", _("Vegetation")
    DRAINAGE_FLOODING = "drainage_flooding", _("Drainage or flooding")
    TRAFFIC_PARKING = "traffic_parking", _("Traffic or parking")
    OTHER = "other", _("Other")


# Categories whose incidents hurt people on foot: they weigh more in the priority score.
PEDESTRIAN_CATEGORIES = frozenset({Category.WORKS_OBSTRUCTION, Category.PEDESTRIAN_CROSSING_SIDEWALK})


class Affected(models.TextChoices):
    """Who an incident gets in the way of, read from its category."""

    PEDESTRIANS = "pedestrians", _("People on foot")
    ROAD_USERS = "road_users", _("People driving or cycling")
    EVERYONE = "everyone", _("Everyone around")


# The categories of each group; every category is in exactly one.
AFFECTED_CATEGORIES: dict[Affected, frozenset[Category]] = {
    Affected.PEDESTRIANS: PEDESTRIAN_CATEGORIES,
    Affected.ROAD_USERS: frozenset({Category.ROAD_SURFACE_POTHOLE, Category.SIGNAGE_MARKING, Category.TRAFFIC_PARKING}),
}
AFFECTED_CATEGORIES[Affected.EVERYONE] = frozenset(Category) - frozenset().union(*AFFECTED_CATEGORIES.values())


def affected_by(category: str) -> Affected:
    """The group of people an incident of ``category`` gets in the way of."""
    return next(group for group, categories in AFFECTED_CATEGORIES.items() if category in categories)
