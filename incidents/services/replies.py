"""Replies to the people who reported an incident: composed from templates, recorded, then handed to a backend.

The reply is stored first, in its own transaction, so nothing is lost if the platform is
down; the backend named by ``INCIDENTS_REPLY_BACKEND`` then delivers it and its outcome
(sent, failed, or merely recorded) is written back. The default backend only records:
a city plugs in its platform's client by writing a class with a ``deliver`` method.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from incidents.models import Incident, IncidentReply, Post, ReplyState, ReplyTemplate

logger = logging.getLogger(__name__)

MAX_REPLY_LENGTH = 2000
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Delivery:
    """What a backend did with a reply."""

    state: ReplyState
    external_id: str = ""
    error: str = ""


class ReplyBackend(Protocol):
    def deliver(self, reply: IncidentReply) -> Delivery: ...


class RecordOnlyBackend:
    """Keep the reply on the incident and send nothing (the default)."""

    def deliver(self, reply: IncidentReply) -> Delivery:
        return Delivery(ReplyState.RECORDED)


def reply_backend() -> ReplyBackend:
    """The backend configured by ``INCIDENTS_REPLY_BACKEND`` (a dotted path to a class)."""
    return import_string(settings.INCIDENTS_REPLY_BACKEND)()


def fill_template(template: ReplyTemplate, incident: Incident) -> str:
    """The template's body with its placeholders filled in the template's language.

    Placeholders are replaced by name from a fixed list (never ``str.format``, which
    would let a template reach attributes); an unknown ``{name}`` stays as written.
    """
    with translation.override(template.language):
        values = {
            "incident": str(incident.pk),
            "category": str(incident.get_category_display()),
            "status": str(incident.get_status_display()),
            "street": incident.segment.name if incident.segment_id else _("the place you reported"),
        }
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), template.body)


def send_reply(
    incident: Incident,
    text: str,
    *,
    actor: AbstractBaseUser | None = None,
    template: ReplyTemplate | None = None,
    language: str | None = None,
) -> IncidentReply:
    """Record a reply to ``incident``'s reporters, then deliver it through the configured backend.

    Raise ``ValidationError`` for an empty or over-long text. A backend that raises
    leaves the reply recorded as failed with the error, never lost.
    """
    text = text.strip()
    if not text:
        raise ValidationError(_("Write the reply, or choose a template."), code="reply_empty")
    if len(text) > MAX_REPLY_LENGTH:
        raise ValidationError(
            _("A reply has at most %(max)d characters.") % {"max": MAX_REPLY_LENGTH}, code="reply_too_long"
        )
    backend_path = settings.INCIDENTS_REPLY_BACKEND
    with transaction.atomic():
        first_post = Post.objects.filter(incident=incident).order_by("posted_at", "id").first()
        reply = IncidentReply.objects.create(
            incident=incident,
            in_reply_to=first_post,
            template=template,
            language=language or (template.language if template else translation.get_language() or "fr")[:2],
            text=text,
            actor=actor,
            backend=backend_path,
        )
    try:
        delivery = reply_backend().deliver(reply)
    except Exception as error:  # any platform failure is recorded, never lost
        logger.exception("reply %s to incident %s could not be delivered", reply.pk, incident.pk)
        delivery = Delivery(ReplyState.FAILED, error=str(error) or error.__class__.__name__)
    reply.state = delivery.state
    reply.external_id = delivery.external_id
    reply.error = delivery.error
    reply.sent_at = timezone.now() if delivery.state == ReplyState.SENT else None
    reply.save(update_fields=["state", "external_id", "error", "sent_at"])
    return reply
