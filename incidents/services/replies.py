"""Replies to the people who reported an incident: composed from templates, recorded, then delivered.

The reply is stored first, in its own transaction, so nothing is lost if the platform is
down. When a channel saw one of the incident's posts and a channel of that network can
post, the reply answers that post there: it is queued in the outbox
(:mod:`incidents.channels.outbox`), which makes a first attempt at once and retries with
backoff, never posting twice. Otherwise (posts from files, the push API) the backend named
by ``INCIDENTS_REPLY_BACKEND`` delivers it and its outcome (sent, failed, or merely
recorded) is written back. The default backend only records.
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

from incidents.channels import outbox
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
    """Record a reply to ``incident``'s reporters, then deliver it on the network or through the configured backend.

    Raise ``ValidationError`` for an empty or over-long text (for the network it goes to).
    A network that fails leaves the reply queued for the listener to retry; a backend
    that raises leaves it recorded as failed with the error; either way it is never lost.
    """
    text = text.strip()
    if not text:
        raise ValidationError(_("Write the reply, or choose a template."), code="reply_empty")
    if len(text) > MAX_REPLY_LENGTH:
        raise ValidationError(
            _("A reply has at most %(max)d characters.") % {"max": MAX_REPLY_LENGTH}, code="reply_too_long"
        )
    route = outbox.route_for(incident)
    if route is not None:
        outbox.check_length(route, text)
    backend_path = route.backend if route is not None else settings.INCIDENTS_REPLY_BACKEND
    with transaction.atomic():
        answered = route.post if route is not None else None
        reply = IncidentReply.objects.create(
            incident=incident,
            in_reply_to=answered or Post.objects.filter(incident=incident).order_by("posted_at", "id").first(),
            template=template,
            language=language or (template.language if template else translation.get_language() or "fr")[:2],
            text=text,
            actor=actor,
            backend=backend_path,
            channel=route.channel if route is not None else None,
            state=ReplyState.QUEUED if route is not None else ReplyState.RECORDED,
            next_attempt_at=timezone.now() if route is not None else None,
        )
    if route is not None:
        return outbox.deliver(reply)
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
