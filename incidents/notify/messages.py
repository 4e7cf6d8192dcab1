"""The e-mails of subscriptions and works notifications, in the recipient's language, as plain text.

They show the incident as the open-data API shows anyone (:func:`incidents.publish.features.incident_detail`
for anonymous callers) plus links back to the service (``INCIDENTS_SITE_URL``).
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from incidents.categories import Category
from incidents.models import DeliveryEvent, IncidentStatus, Subscription, SubscriptionDelivery
from incidents.web.state import selected_on_map

# Posts quoted in an e-mail (the latest ones).
QUOTED_POSTS = 3


def absolute(path: str) -> str:
    return settings.INCIDENTS_SITE_URL + path


def map_url(feature: dict) -> str:
    """The map centred on the incident of ``feature`` (a GeoJSON Feature of the API), selected."""
    lon, lat = feature["geometry"]["coordinates"]
    day = timezone.localdate(parse_datetime(feature["properties"]["last_post_at"]))
    return absolute(selected_on_map("incident", feature["id"], lon, lat, day))


def incident_summary(feature: dict) -> dict:
    """What the e-mail templates show of an incident, from its public GeoJSON Feature."""
    properties = feature["properties"]
    return {
        "id": feature["id"],
        "category": Category(properties["category"]).label,
        "status": IncidentStatus(properties["status"]).label,
        "street": properties.get("segment_name") or "",
        "post_count": properties["post_count"],
        "first_post_at": parse_datetime(properties["first_post_at"]),
        "last_post_at": parse_datetime(properties["last_post_at"]),
        "posts": [post["text"] for post in properties.get("posts", [])[-QUOTED_POSTS:]],
        "works": [zone["title"] or f"#{zone['id']}" for zone in properties.get("works_zones", [])],
        "map_url": map_url(feature),
    }


def _message(subscription: Subscription, template: str, context: dict, subject: str) -> EmailMessage:
    owner = subscription.owner
    context = {**context, "subscription": subscription, "manage_url": absolute(reverse("web:subscriptions"))}
    return EmailMessage(
        subject=subject,
        body=render_to_string(template, context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[owner.email] if owner.email else [],
    )


def incident_email(row: SubscriptionDelivery, feature: dict) -> EmailMessage:
    """One event of one incident, for the subscription of ``row``."""
    with translation.override(row.subscription.language):
        incident = incident_summary(feature)
        created = row.event == DeliveryEvent.CREATED
        subject = _("New incident #%(id)s: %(category)s") if created else _("Incident #%(id)s updated: %(category)s")
        subject %= {"id": incident["id"], "category": incident["category"]}
        message = _message(
            row.subscription, "incidents/notify/incident_email.txt", {"incident": incident, "created": created}, subject
        )
    message.extra_headers["X-Cityincidents-Delivery"] = str(row.delivery_id)
    return message


def digest_email(subscription: Subscription, events: list[tuple[str, dict]]) -> EmailMessage:
    """The day's events of ``subscription`` in one e-mail (an incident once, as it is now)."""
    with translation.override(subscription.language):
        latest: dict[int, dict] = {}
        for _event, feature in events:
            latest[feature["id"]] = incident_summary(feature)
        incidents = list(latest.values())
        subject = ngettext(
            "%(count)s incident in your subscription today",
            "%(count)s incidents in your subscription today",
            len(incidents),
        ) % {"count": len(incidents)}
        return _message(subscription, "incidents/notify/digest_email.txt", {"incidents": incidents}, subject)


def paused_email(subscription: Subscription, reason: str) -> EmailMessage:
    """Tell the owner that ``subscription`` was paused, why, and where to resume it."""
    with translation.override(subscription.language):
        subject = _("Your subscription #%(id)s is paused") % {"id": subscription.pk}
        return _message(subscription, "incidents/notify/paused_email.txt", {"reason": reason}, subject)
