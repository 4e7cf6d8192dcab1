"""The data model: where streets, works, posts and incidents are stored."""

from .areas import District, ServiceArea
from .changes import IncidentChange
from .channels import Channel, ChannelCursor, ChannelKind, ChannelPost
from .impact import WorksImpactPending, WorksZoneNeighbour
from .incidents import Incident, IncidentEvent, IncidentStatus, IncidentWorksZone
from .posts import LocationMethod, Post, PostState, PostWorksZone, Repost
from .replies import IncidentReply, ReplyState, ReplyTemplate
from .streets import StreetSegment
from .subscriptions import (
    DeliveryChannel,
    DeliveryEvent,
    DeliveryState,
    EmailMode,
    Subscription,
    SubscriptionDelivery,
    WorksNotification,
)
from .works import WorksStatus, WorksZone

__all__ = [
    "Channel",
    "ChannelCursor",
    "ChannelKind",
    "ChannelPost",
    "DeliveryChannel",
    "DeliveryEvent",
    "DeliveryState",
    "District",
    "EmailMode",
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
    "Subscription",
    "SubscriptionDelivery",
    "WorksImpactPending",
    "WorksNotification",
    "WorksStatus",
    "WorksZone",
    "WorksZoneNeighbour",
]
