"""Tell the works: an operator sends an incident to the contact of a works zone nearby, in one click.

The message carries the incident's summary, the links of its posts' photos and a link to
the map; it is recorded first (:class:`~incidents.models.WorksNotification`, shown in the
incident's history), then sent through Django's mail framework, and its outcome written
back — a failure is kept with its error, never lost.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from incidents.models import Incident, ReplyState, WorksNotification, WorksZone
from incidents.notify.messages import absolute
from incidents.web.state import selected_on_map

logger = logging.getLogger(__name__)

# Works crews in this city read French; the message follows the site's default language.
PHOTOS_MAX = 10


def notification_text(incident: Incident, zone: WorksZone) -> tuple[str, str]:
    """Subject and body of the message to ``zone``'s contact about ``incident``."""
    photos = [
        url
        for post in incident.posts.order_by("posted_at", "id")
        for url in post.media_urls
        if url.startswith(("https://", "http://"))
    ][:PHOTOS_MAX]
    day = timezone.localdate(incident.last_post_at)
    map_url = absolute(selected_on_map("incident", incident.pk, incident.location.x, incident.location.y, day, 18))
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Incident #%(id)s near your works site: %(category)s") % {
            "id": incident.pk,
            "category": incident.get_category_display(),
        }
        body = render_to_string(
            "incidents/notify/works_email.txt",
            {
                "incident": incident,
                "zone": zone,
                "photos": photos,
                "map_url": map_url,
                "works_url": absolute(reverse("web:works", args=[zone.pk])),
            },
        )
    return subject, body


def notify_works(incident: Incident, zone: WorksZone, *, actor: AbstractBaseUser | None = None) -> WorksNotification:
    """Send ``incident`` to ``zone``'s contact and record it in the incident's history.

    Raise ``ValidationError`` when the zone has no contact. A failing mail server leaves
    the notification recorded as failed with its error.
    """
    if not zone.contact:
        raise ValidationError(_("This works zone has no contact: add one in the admin."), code="no_contact")
    subject, body = notification_text(incident, zone)
    with transaction.atomic():
        notification = WorksNotification.objects.create(
            incident=incident, works_zone=zone, contact=zone.contact, actor=actor, subject=subject, text=body
        )
    try:
        EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [zone.contact]).send()
    except Exception as error:  # the notification stays recorded, as failed, with why
        logger.exception("works notification %s could not be sent", notification.pk)
        notification.state, notification.error = ReplyState.FAILED, str(error) or error.__class__.__name__
    else:
        notification.state, notification.sent_at = ReplyState.SENT, timezone.now()
    notification.save(update_fields=["state", "error", "sent_at"])
    return notification
