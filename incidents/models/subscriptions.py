from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.categories import Affected, Category
from incidents.models.common import Timestamped, optional_link
from incidents.models.replies import REPLY_LANGUAGES, ReplyState


class EmailMode(models.TextChoices):
    IMMEDIATE = "immediate", _("One e-mail per incident")
    DAILY = "daily", _("A daily digest")


class SubscriptionQuerySet(models.QuerySet["Subscription"]):
    def active(self) -> SubscriptionQuerySet:
        return self.filter(paused_at__isnull=True)

    def of(self, user) -> SubscriptionQuerySet:
        return self.filter(owner=user)


class Subscription(Timestamped):
    """Someone who wants to hear of incidents reported in a place: a works zone, a district, an area or the city.

    Without a works zone, district or area, the whole city is watched. Categories and
    ``affected`` narrow it (empty: all). Each match becomes deliveries in the outbox
    (:class:`SubscriptionDelivery`): an e-mail (at once or in a daily digest) and/or a
    signed webhook call.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="subscriptions"
    )
    works_zone = models.ForeignKey(
        "incidents.WorksZone",
        verbose_name=_("works zone"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="subscriptions",
        help_text=_("Incidents reported near this works zone while it runs."),
    )
    district = models.ForeignKey(
        "incidents.District",
        verbose_name=_("district"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="subscriptions",
    )
    area = models.PolygonField(
        _("area"), srid=4326, null=True, blank=True, help_text=_("A drawn area (WGS84 polygon).")
    )
    categories = ArrayField(
        models.CharField(max_length=32, choices=Category.choices),
        default=list,
        blank=True,
        verbose_name=_("categories"),
        help_text=_("Only these categories; empty: all."),
    )
    affected = ArrayField(
        models.CharField(max_length=24, choices=Affected.choices),
        default=list,
        blank=True,
        verbose_name=_("who is affected"),
        help_text=_("Only incidents whose posts say they harm these people; empty: all incidents."),
    )
    email = models.BooleanField(_("e-mail"), default=True, help_text=_("Send e-mails to the owner's address."))
    email_mode = models.CharField(
        _("e-mail frequency"), max_length=16, choices=EmailMode.choices, default=EmailMode.IMMEDIATE
    )
    webhook_url = models.URLField(
        _("webhook URL"), max_length=1000, blank=True, help_text=_("Signed POST of each incident event.")
    )
    webhook_secret = models.CharField(
        _("webhook secret"), max_length=128, blank=True, help_text=_("Key of the HMAC-SHA256 signature.")
    )
    language = models.CharField(_("language"), max_length=8, choices=REPLY_LANGUAGES, default="fr")
    paused_at = models.DateTimeField(
        _("paused at"), null=True, blank=True, help_text=_("Nothing is delivered while paused.")
    )
    pause_reason = models.TextField(_("why paused"), blank=True)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(works_zone__isnull=True, district__isnull=True)
                | models.Q(works_zone__isnull=True, area__isnull=True)
                | models.Q(district__isnull=True, area__isnull=True),
                name="subscription_one_place",
            ),
            models.CheckConstraint(
                condition=models.Q(email=True) | ~models.Q(webhook_url=""), name="subscription_delivers_somewhere"
            ),
            models.CheckConstraint(
                condition=models.Q(webhook_url="") | ~models.Q(webhook_secret=""), name="subscription_webhook_secret"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.owner}"

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None


class DeliveryChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    DIGEST = "digest", _("Daily digest")
    WEBHOOK = "webhook", _("Webhook")


class DeliveryEvent(models.TextChoices):
    CREATED = "incident.created", _("New incident")
    UPDATED = "incident.updated", _("Incident updated")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Given up")


class SubscriptionDelivery(models.Model):
    """One event to deliver to one subscription by one channel: the outbox.

    Written in the transaction that changes the incident, so an event is delivered if
    and only if the change commits; then sent, and retried with backoff, by
    :mod:`incidents.notify.deliver`. ``delivery_id`` is the same on every attempt.
    """

    delivery_id = models.UUIDField(_("delivery id"), default=uuid.uuid4, unique=True, editable=False)
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="+", db_index=False)
    event = models.CharField(_("event"), max_length=32, choices=DeliveryEvent.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=DeliveryChannel.choices)
    state = models.CharField(_("state"), max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    body = models.TextField(_("body"), blank=True, help_text=_("What was sent, fixed at the first attempt."))
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("subscription delivery")
        verbose_name_plural = _("subscription deliveries")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(state="sent") | models.Q(sent_at__isnull=False),
                name="subscriptiondelivery_sent_has_time",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(state="pending"),
                name="subscriptiondelivery_due",
            ),
            # Order per incident: the earliest undelivered event of a (subscription, incident, channel) goes first.
            models.Index(fields=["subscription", "incident", "channel", "id"], name="subscriptiondelivery_order"),
        ]

    def __str__(self) -> str:
        return f"{self.event} #{self.incident_id} → {self.subscription_id} ({self.channel}, {self.state})"


class WorksNotification(models.Model):
    """An incident told to the contact of a works zone by an operator, kept in the incident's history."""

    incident = models.ForeignKey(
        "incidents.Incident", verbose_name=_("incident"), on_delete=models.CASCADE, related_name="works_notifications"
    )
    works_zone = optional_link(
        "incidents.WorksZone",
        _("works zone"),
        related_name="notifications",
    )
    contact = models.EmailField(_("contact"), help_text=_("Where it was sent."))
    actor = optional_link(
        settings.AUTH_USER_MODEL,
        _("actor"),
        related_name="works_notifications",
    )
    subject = models.CharField(_("subject"), max_length=255)
    text = models.TextField(_("text"))
    state = models.CharField(_("state"), max_length=16, choices=ReplyState.choices, default=ReplyState.RECORDED)
    error = models.TextField(_("error"), blank=True, help_text=_("Why sending failed."))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("works notification")
        verbose_name_plural = _("works notifications")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(state="sent") | models.Q(sent_at__isnull=False),
                name="worksnotification_sent_has_time",
            ),
        ]
        indexes = [models.Index(fields=["incident", "created_at"], name="worksnotification_incident_at")]

    def __str__(self) -> str:
        return f"{self.incident_id} → {self.contact}: {self.get_state_display()}"
