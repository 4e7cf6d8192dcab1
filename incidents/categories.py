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
