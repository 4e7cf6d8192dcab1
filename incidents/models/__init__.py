"""The data model: where streets, works, posts and incidents are stored."""

from .areas import District, ServiceArea
from .changes import IncidentChange
from .incidents import Incident, IncidentEvent, IncidentStatus, IncidentWorksZone
from .posts import LocationMethod, Post, PostState, PostWorksZone
from .streets import StreetSegment
from .works import WorksStatus, WorksZone

__all__ = [
    "District",
    "Incident",
    "IncidentChange",
    "IncidentEvent",
    "IncidentStatus",
    "IncidentWorksZone",
    "LocationMethod",
    "Post",
    "PostState",
    "PostWorksZone",
    "ServiceArea",
    "StreetSegment",
    "WorksStatus",
    "WorksZone",
]
