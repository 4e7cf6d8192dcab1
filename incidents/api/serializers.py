"""Request bodies of the API's writes (the reads are built in SQL, see publish/layers.py)."""

from __future__ import annotations

from rest_framework import serializers

from incidents.models import IncidentStatus
from incidents.publish.filters import MAX_ID


class IncidentStatusChangeSerializer(serializers.Serializer):
    """A triage decision: the new status, an optional note and, for a duplicate, the original."""

    status = serializers.ChoiceField(choices=IncidentStatus.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    duplicate_of = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID, default=None
    )
