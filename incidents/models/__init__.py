"""The data model: where streets, works, posts and incidents are stored."""

from .areas import District, ServiceArea
from .changes import IncidentChange
from .channels import Channel, ChannelCursor, ChannelKind, ChannelPost
from .incidents import Incident, IncidentEvent, IncidentStatus, IncidentWorksZone
from .posts import LocationMethod, Post, PostState, PostWorksZone, Repost
from .replies import IncidentReply, ReplyState, ReplyTemplate
from .streets import StreetSegment
from .works import WorksStatus, WorksZone

__all__ = [
    "Channel",
    "ChannelCursor",
    "ChannelKind",
    "ChannelPost",
    "District",
    "Incident",
    "IncidentChange",
    "IncidentEvent",
    "IncidentReply",
    "IncidentStatus",
    "IncidentWorksZone",
    "LocationMethod",
    "Post",
    "PostState",
    "PostWorksZone",
    "ReplyState",
    "ReplyTemplate",
    "Repost",
    "ServiceArea",
    "StreetSegment",
    "WorksStatus",
    "WorksZone",
]
