"""Forms of the triage pages: the queue's filters, a status change, a reply."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from incidents.categories import Category
from incidents.models import District, Incident, IncidentStatus, ReplyTemplate
from incidents.services.replies import MAX_REPLY_LENGTH, fill_template

OPEN = "open"


class TriageFilterForm(forms.Form):
    """Filters of the queue; by default the incidents the city still has to act on."""

    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("All categories")), *Category.choices]
    )
    district = forms.ModelChoiceField(
        label=_("District"), required=False, queryset=District.objects.order_by("name"), empty_label=_("All districts")
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        initial=OPEN,
        choices=[(OPEN, _("Open (new, acknowledged, dispatched)")), ("", _("All statuses")), *IncidentStatus.choices],
    )

    def filter(self, queryset):
        """``queryset`` narrowed by the valid filters (status defaults to the open ones)."""
        data = self.cleaned_data if self.is_valid() else {}
        status = data.get("status", OPEN) if self.is_bound else OPEN
        if status == OPEN:
            queryset = queryset.open()
        elif status:
            queryset = queryset.filter(status=status)
        if data.get("category"):
            queryset = queryset.filter(category=data["category"])
        if data.get("district"):
            queryset = queryset.filter(district=data["district"])
        return queryset


class StatusChangeForm(forms.Form):
    """A triage decision. Dispatching a crew needs a note (what the crew is to do); a duplicate, its original."""

    status = forms.ChoiceField(
        label=_("New status"), choices=[c for c in IncidentStatus.choices if c[0] != IncidentStatus.NEW]
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    duplicate_of = forms.IntegerField(label=_("Duplicate of incident #"), required=False, min_value=1)

    def clean(self):
        data = super().clean()
        status = data.get("status")
        if status == IncidentStatus.DISPATCHED and not (data.get("note") or "").strip():
            self.add_error("note", _("Say what the crew is sent to do."))
        if status == IncidentStatus.DUPLICATE:
            number = data.get("duplicate_of")
            if number is None:
                self.add_error("duplicate_of", _("Give the number of the original incident."))
            else:
                data["original"] = Incident.objects.filter(pk=number).first()
                if data["original"] is None:
                    self.add_error("duplicate_of", _("No incident has the number %(number)s.") % {"number": number})
        return data


class ReplyForm(forms.Form):
    """A reply: a template, edited or not, or free text."""

    template = forms.ModelChoiceField(
        label=_("Template"), required=False, queryset=ReplyTemplate.objects.active(), empty_label=_("No template")
    )
    text = forms.CharField(
        label=_("Reply"), required=False, max_length=MAX_REPLY_LENGTH, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, incident: Incident, **kwargs):
        self.incident = incident
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        text = (data.get("text") or "").strip()
        if not text and data.get("template"):
            # Without JavaScript the text area is not pre-filled: the template alone is the reply.
            text = fill_template(data["template"], self.incident)
        if not text:
            raise ValidationError(_("Write the reply, or choose a template."))
        data["text"] = text
        return data
