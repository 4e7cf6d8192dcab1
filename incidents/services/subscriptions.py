"""Subscriptions: created, changed, paused, resumed and deleted by their owner (the page and the API)."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.gis.geos import Polygon
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from incidents.categories import Affected, Category
from incidents.models import District, EmailMode, Subscription, WorksZone

logger = logging.getLogger(__name__)

# Whatever people draw, an area is a city's part: refuse more than this many vertices.
MAX_AREA_VERTICES = 2000


@dataclass
class SubscriptionData:
    """What an owner chooses: a place (at most one), filters and channels."""

    works_zone: WorksZone | None = None
    district: District | None = None
    area: Polygon | None = None
    categories: list[str] = field(default_factory=list)
    affected: list[str] = field(default_factory=list)
    email: bool = True
    email_mode: str = EmailMode.IMMEDIATE
    webhook_url: str = ""
    webhook_secret: str = ""


def _check(owner: AbstractBaseUser, data: SubscriptionData) -> None:
    errors: dict[str, list[str]] = {}
    if sum(place is not None for place in (data.works_zone, data.district, data.area)) > 1:
        errors.setdefault("__all__", []).append(_("Choose one place: a works zone, a district or an area."))
    if data.area is not None:
        if data.area.srid not in (None, 4326) or not data.area.valid or data.area.empty:
            errors.setdefault("area", []).append(_("Draw a valid polygon (WGS84 longitude/latitude)."))
        elif data.area.num_coords > MAX_AREA_VERTICES:
            errors.setdefault("area", []).append(
                _("An area has at most %(max)d vertices.") % {"max": MAX_AREA_VERTICES}
            )
    if unknown := sorted(set(data.categories) - set(Category.values)):
        errors.setdefault("categories", []).append(_("Unknown categories: %(codes)s.") % {"codes": ", ".join(unknown)})
    if unknown := sorted(set(data.affected) - set(Affected.values)):
        errors.setdefault("affected", []).append(_("Unknown groups: %(codes)s.") % {"codes": ", ".join(unknown)})
    if data.email_mode not in EmailMode.values:
        errors.setdefault("email_mode", []).append(_("Choose immediate or daily."))
    if not data.email and not data.webhook_url:
        errors.setdefault("__all__", []).append(_("Choose e-mail, a webhook, or both."))
    if data.email and not owner.email:
        errors.setdefault("email", []).append(_("Your account has no e-mail address: ask an administrator."))
    if data.webhook_url and not data.webhook_url.lower().startswith(("https://", "http://")):
        errors.setdefault("webhook_url", []).append(_("A webhook URL starts with https:// or http://."))
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def save_subscription(
    owner: AbstractBaseUser, data: SubscriptionData, subscription: Subscription | None = None
) -> Subscription:
    """Create a subscription of ``owner`` (or change ``subscription``, which must be theirs) from ``data``.

    Raise ``ValidationError`` naming the fields at fault. A webhook without a secret gets
    a random one. Its language is the one active now (the owner's browser).
    """
    _check(owner, data)
    if subscription is None:
        subscription = Subscription(owner=owner, language=(translation.get_language() or "fr")[:2])
    elif subscription.owner_id != owner.pk:
        raise ValidationError(_("This subscription is not yours."))
    if data.area is not None and data.area.srid is None:
        data.area.srid = 4326
    for name, value in vars(data).items():
        setattr(subscription, name, value)
    subscription.categories = sorted(set(data.categories))
    subscription.affected = sorted(set(data.affected))
    if subscription.webhook_url and not subscription.webhook_secret:
        subscription.webhook_secret = secrets.token_hex(32)
    if subscription.language not in ("fr", "en"):
        subscription.language = "fr"
    subscription.save()
    return subscription


@transaction.atomic
def pause_subscription(subscription: Subscription, reason: str) -> None:
    """Stop delivering ``subscription`` and tell its owner why (by e-mail, once the pause is recorded)."""
    from incidents.notify.messages import paused_email

    updated = Subscription.objects.filter(pk=subscription.pk, paused_at__isnull=True).update(
        paused_at=timezone.now(), pause_reason=reason[:2000]
    )
    subscription.refresh_from_db()
    if not updated:
        return

    def tell() -> None:
        try:
            paused_email(subscription, reason).send()
        except Exception:  # the pause stands and is shown on the owner's page; the e-mail is a courtesy
            logger.exception("could not tell the owner of subscription %s that it is paused", subscription.pk)

    transaction.on_commit(tell)


@transaction.atomic
def resume_subscription(subscription: Subscription) -> None:
    """Deliver ``subscription`` again: what waited while it was paused leaves first."""
    Subscription.objects.filter(pk=subscription.pk).update(paused_at=None, pause_reason="", updated_at=timezone.now())
    subscription.refresh_from_db()
