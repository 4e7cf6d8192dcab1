from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.models.common import Timestamped, optional_link

REPLY_LANGUAGES = [("fr", _("French")), ("en", _("English"))]


class ReplyTemplateQuerySet(models.QuerySet["ReplyTemplate"]):
    def active(self) -> ReplyTemplateQuerySet:
        return self.filter(is_active=True)


class ReplyTemplate(Timestamped):
    """A reply operators start from when they answer the people who reported an incident.

    The body may name ``{incident}`` (its number), ``{category}``, ``{status}`` and
    ``{street}``; they are filled in the template's language when the reply is composed.
    """

    name = models.CharField(_("name"), max_length=128)
    language = models.CharField(_("language"), max_length=8, choices=REPLY_LANGUAGES, default="fr")
    body = models.TextField(
        _("body"), help_text=_("Text of the reply. Placeholders: {incident}, {category}, {status}, {street}.")
    )
    is_active = models.BooleanField(_("active"), default=True, help_text=_("Offered to operators."))
    position = models.PositiveSmallIntegerField(_("position"), default=0, help_text=_("Lower comes first."))

    objects = ReplyTemplateQuerySet.as_manager()

    class Meta:
        verbose_name = _("reply template")
        verbose_name_plural = _("reply templates")
        ordering = ["position", "name", "language"]
        constraints = [
            models.UniqueConstraint(fields=["name", "language"], name="replytemplate_unique_name_language"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"


class ReplyState(models.TextChoices):
    RECORDED = "recorded", _("Recorded (not sent)")
    QUEUED = "queued", _("Queued for the network")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Sending failed")


class IncidentReplyQuerySet(models.QuerySet["IncidentReply"]):
    def due(self, now) -> IncidentReplyQuerySet:
        """Replies waiting in the outbox whose next attempt has come, oldest first."""
        return self.filter(state=ReplyState.QUEUED, next_attempt_at__lte=now).order_by("next_attempt_at", "id")


class IncidentReply(models.Model):
    """A reply to the people who reported an incident, kept whether or not it was sent.

    Answers to posts a channel saw go through the outbox (``queued`` until the network
    took them, retried with backoff, never posted twice); others are handed to the
    ``INCIDENTS_REPLY_BACKEND`` (by default only recorded).
    """

    incident = models.ForeignKey(
        "incidents.Incident", verbose_name=_("incident"), on_delete=models.CASCADE, related_name="replies"
    )
    in_reply_to = optional_link(
        "incidents.Post",
        _("in reply to"),
        related_name="replies",
        help_text=_("The post answered (the incident's first post)."),
    )
    template = optional_link(
        ReplyTemplate,
        _("template"),
        related_name="replies",
    )
    language = models.CharField(_("language"), max_length=8, choices=REPLY_LANGUAGES)
    text = models.TextField(_("text"))
    actor = optional_link(
        settings.AUTH_USER_MODEL,
        _("actor"),
        related_name="incident_replies",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    backend = models.CharField(
        _("backend"), max_length=255, help_text=_("Dotted path of the reply backend that handled it.")
    )
    state = models.CharField(_("state"), max_length=16, choices=ReplyState.choices, default=ReplyState.RECORDED)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    external_id = models.CharField(
        _("external id"), max_length=255, blank=True, help_text=_("Identifier of the reply on the platform.")
    )
    error = models.TextField(_("error"), blank=True, help_text=_("Why sending failed (or why the last attempt did)."))
    channel = optional_link(
        "incidents.Channel",
        _("channel"),
        related_name="replies",
        help_text=_("The channel that delivers it on the network the post came from."),
    )
    url = models.URLField(
        _("published reply"), max_length=1000, blank=True, help_text=_("Link to the published reply.")
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    delivery_key = models.UUIDField(
        _("delivery key"),
        default=uuid.uuid4,
        unique=True,
        editable=False,
        help_text=_("Sent as the Idempotency-Key (Mastodon) and the record key (Bluesky): the network keeps one copy."),
    )

    objects = IncidentReplyQuerySet.as_manager()

    class Meta:
        verbose_name = _("incident reply")
        verbose_name_plural = _("incident replies")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(state="sent") | models.Q(sent_at__isnull=False), name="incidentreply_sent_has_time"
            ),
            models.CheckConstraint(condition=~models.Q(text=""), name="incidentreply_text_not_empty"),
            models.CheckConstraint(
                condition=~models.Q(state="queued") | models.Q(channel__isnull=False, next_attempt_at__isnull=False),
                name="incidentreply_queued_has_channel_and_time",
            ),
        ]
        indexes = [
            models.Index(fields=["incident", "created_at"], name="incidentreply_incident_at_idx"),
            models.Index(
                fields=["next_attempt_at"], condition=models.Q(state="queued"), name="incidentreply_outbox_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.incident_id}: {self.get_state_display()} {self.created_at:%Y-%m-%d %H:%M}"
