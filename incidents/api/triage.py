"""Triage metrics in the API: how fast incidents are acknowledged and resolved (see incidents/publish/metrics.py)."""

from __future__ import annotations

import datetime as dt
import json

from django import forms
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from incidents.api.http import IsStaffOrReadOnly, parse_form
from incidents.api.renderers import PlainJSONRenderer
from incidents.api.schema import ERRORS, OpenDataAutoSchema, form_parameters, ref
from incidents.categories import Category
from incidents.publish.filters import MAX_ID, CodeListField, DateTimeIntervalField
from incidents.publish.metrics import triage_metrics

# The default window: the last twelve weeks.
DEFAULT_WEEKS = 12


class TriageMetricsForm(forms.Form):
    datetime = DateTimeIntervalField(
        required=False, help_text="Incidents created in this RFC 3339 interval; default: the last 12 weeks."
    )
    category = CodeListField(
        required=False, choices=[code for code, _label in Category.choices], help_text="Only these categories."
    )
    district = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID, help_text="District id.")

    def clean_datetime(self):
        interval = self.cleaned_data["datetime"]
        now = timezone.now()
        if interval is None:
            return now - dt.timedelta(weeks=DEFAULT_WEEKS), now
        start, end = interval
        return start or dt.datetime(1970, 1, 1, tzinfo=dt.UTC), end or now


class TriageMetricsView(APIView):
    """Median time to acknowledge and to resolve incidents, overall, per category and per week."""

    schema = OpenDataAutoSchema()
    renderer_classes = [PlainJSONRenderer]
    permission_classes = [IsStaffOrReadOnly]

    @extend_schema(
        operation_id="triage_metrics",
        summary="Median time to acknowledge and to resolve incidents",
        description=(
            "Incidents created in the window; time to acknowledge runs from creation to the first status "
            "change out of `new`, time to resolve to the first `resolved`. Medians in seconds, overall, per "
            "category and per week (weeks start on Monday, in the city's time zone)."
        ),
        parameters=form_parameters(TriageMetricsForm),
        responses={200: ref("TriageMetrics"), **ERRORS},
    )
    def get(self, request):
        params = parse_form(TriageMetricsForm, request.query_params)
        start, end = params["datetime"]
        body = triage_metrics(start, end, categories=params["category"], district=params["district"])
        return HttpResponse(json.dumps(body), content_type="application/json")
