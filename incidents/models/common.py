"""Declarations that several models make alike: one place says what they mean.

Each helper returns the field its callers declared before, keyword for keyword, so that the
schema and the migrations do not change.
"""

from __future__ import annotations

from typing import Any

from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.db.models import Value
from django.utils.translation import gettext_lazy as _

from incidents.categories import Affected


class Timestamped(models.Model):
    """When a row was created and last saved (``auto_now``: saves through the ORM only)."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


def optional_text(verbose_name: Any, *, max_length: int, **options: Any) -> models.CharField:
    """Return a text that is '' when unknown, in Python and in the database.

    The database default matters: COPY and the raw SQL of the pipeline leave such columns out.
    """
    return models.CharField(verbose_name, max_length=max_length, blank=True, default="", db_default="", **options)


def optional_link(to: Any, verbose_name: Any, **options: Any) -> models.ForeignKey:
    """Return a link that may be missing and is cleared (SET NULL) when its target is deleted."""
    return models.ForeignKey(to, verbose_name=verbose_name, on_delete=models.SET_NULL, null=True, blank=True, **options)


def affects_field(help_text: Any) -> ArrayField:
    """Return who a problem harms (incidents.categories.Affected codes); empty when nobody is named."""
    return ArrayField(
        models.CharField(max_length=24, choices=Affected.choices),
        default=list,
        db_default=Value([], output_field=ArrayField(models.CharField(max_length=24))),
        blank=True,
        verbose_name=_("affects"),
        help_text=help_text,
    )


def segment_distance_field(help_text: Any) -> models.FloatField:
    """Return the distance to the linked street segment, in metres (empty: no segment)."""
    return models.FloatField(_("distance to segment"), null=True, blank=True, help_text=help_text)
