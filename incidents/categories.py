"""
The incident category taxonomy, who a problem affects, and what a follow-up says.

The codes are part of the public API (REST, OGC, Open311 ``service_code``): add new
codes, never rename or remove one. ``docs/taxonomy.md`` gives each category's boundary;
``incidents/classify/taxonomy.py`` which categories are related and an incident's
category when its posts disagree.
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


class Affected(models.TextChoices):
    """Who a problem harms, as a post says it (several may apply)."""

    PEDESTRIANS = "pedestrians", _("Pedestrians")
    # Wheelchair, pushchair, walking frame, cane, blind or visually impaired people.
    REDUCED_MOBILITY = "reduced_mobility", _("People with reduced mobility")
    CYCLISTS = "cyclists", _("Cyclists")
    MOTOR_VEHICLES = "motor_vehicles", _("Motor vehicles")
    # Bus, tram and metro: their lanes, stops, shelters and stations.
    PUBLIC_TRANSPORT = "public_transport", _("Public transport")


class FollowUp(models.TextChoices):
    """What a follow-up post says of a problem already reported ("toujours là", "fixed now", "+1")."""

    STILL = "still", _("Still there")
    FIXED = "fixed", _("Fixed")
    SAME = "same", _("Same here")


# Categories whose incidents hurt people on foot: they weigh more in the priority score.
PEDESTRIAN_CATEGORIES = frozenset({Category.WORKS_OBSTRUCTION, Category.PEDESTRIAN_CROSSING_SIDEWALK})
