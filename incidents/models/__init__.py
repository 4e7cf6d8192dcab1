"""The data model: where streets, works, posts and incidents are stored."""

from .areas import District, ServiceArea
from .incidents import Incident, IncidentEvent, IncidentStatus, IncidentWorksZone
from .posts import LocationMethod, Post, PostState, PostWorksZone, Repost
from .streets import StreetSegment
from .works import WorksStatus, WorksZone

__all__ = [
    "District",
    "Incident",
    "IncidentEvent",
    "IncidentStatus",
    "IncidentWorksZone",
    "LocationMethod",
    "Post",
    "PostState",
    "PostWorksZone",
    "Repost",
    "ServiceArea",
    "StreetSegment",
    "WorksStatus",
    "WorksZone",
]
