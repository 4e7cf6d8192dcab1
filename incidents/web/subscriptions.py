"""Signed-in users' subscriptions (``/subscriptions/``): see them, add one, pause, resume, delete.

Every write goes through :mod:`incidents.services.subscriptions`, as the API's does.
The area is drawn on a map (django-leaflet's form widget, served by the app); the other
places — the whole city, a works zone, a district — need no JavaScript.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST
from leaflet.forms.fields import PolygonField
from leaflet.forms.widgets import LeafletWidget

from incidents.categories import Affected, Category
from incidents.models import District, EmailMode, Subscription, WorksZone
from incidents.services.subscriptions import (
    SubscriptionData,
    pause_subscription,
    resume_subscription,
    save_subscription,
)

LOGIN = "web:login"
PLACES = [
    ("city", gettext_lazy("The whole city")),
    ("works_zone", gettext_lazy("A works zone")),
    ("district", gettext_lazy("A district")),
    ("area", gettext_lazy("An area drawn on the map")),
]


class SubscriptionForm(forms.Form):
    place = forms.ChoiceField(label=gettext_lazy("Where"), choices=PLACES, initial="city", widget=forms.RadioSelect)
    works_zone = forms.ModelChoiceField(
        label=gettext_lazy("Works zone number"),
        queryset=WorksZone.objects.all(),
        required=False,
        widget=forms.NumberInput,
        help_text=gettext_lazy("Shown on the works site's page."),
    )
    district = forms.ModelChoiceField(
        label=gettext_lazy("District"), queryset=District.objects.order_by("name"), required=False
    )
    area = PolygonField(label=gettext_lazy("Area"), required=False, widget=LeafletWidget(attrs={"map_height": "320px"}))
    categories = forms.MultipleChoiceField(
        label=gettext_lazy("Only these categories (none: all)"),
        choices=Category.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    affected = forms.MultipleChoiceField(
        label=gettext_lazy("Only incidents affecting (none: everyone)"),
        choices=Affected.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    email = forms.BooleanField(label=gettext_lazy("Send me e-mails"), required=False, initial=True)
    email_mode = forms.ChoiceField(
        label=gettext_lazy("How often"),
        choices=EmailMode.choices,
        initial=EmailMode.IMMEDIATE,
        widget=forms.RadioSelect,
    )
    webhook_url = forms.URLField(
        label=gettext_lazy("Webhook URL"), required=False, max_length=1000, assume_scheme="https"
    )
    webhook_secret = forms.CharField(
        label=gettext_lazy("Webhook secret"),
        required=False,
        max_length=128,
        help_text=gettext_lazy("Key of the X-Cityincidents-Signature HMAC; left empty, one is made for you."),
    )

    def clean(self):
        data = super().clean()
        place = data.get("place")
        if place in ("works_zone", "district", "area") and not data.get(place):
            self.add_error(place, _("Say which one."))
        return data

    def subscription_data(self) -> SubscriptionData:
        data = self.cleaned_data
        place = data["place"]
        return SubscriptionData(
            works_zone=data["works_zone"] if place == "works_zone" else None,
            district=data["district"] if place == "district" else None,
            area=data["area"] if place == "area" else None,
            categories=list(data["categories"]),
            affected=list(data["affected"]),
            email=data["email"],
            email_mode=data["email_mode"],
            webhook_url=data["webhook_url"],
            webhook_secret=data["webhook_secret"],
        )


def _initial(request) -> dict:
    """A works site's page links here with ``?works_zone=<id>``: start from that zone."""
    zone = request.GET.get("works_zone", "")
    if zone.isdigit() and WorksZone.objects.filter(pk=int(zone)).exists():
        return {"place": "works_zone", "works_zone": int(zone)}
    return {}


@login_required(login_url=LOGIN)
@require_http_methods(["GET", "POST"])
def subscriptions_view(request):
    form = SubscriptionForm(request.POST or None, initial=_initial(request))
    if request.method == "POST" and form.is_valid():
        try:
            subscription = save_subscription(request.user, form.subscription_data())
        except ValidationError as error:
            for field, texts in error.message_dict.items():
                form.add_error(None if field == "__all__" else field, texts)
        else:
            messages.success(request, _("Subscription #%(id)s saved.") % {"id": subscription.pk})
            return redirect("web:subscriptions")
    subscriptions = (
        Subscription.objects.of(request.user).select_related("works_zone", "district").order_by("-created_at", "-id")
    )
    return render(
        request,
        "incidents/web/subscriptions.html",
        {
            "form": form,
            "subscriptions": subscriptions,
            "category_labels": dict(Category.choices),
            "affected_labels": dict(Affected.choices),
        },
    )


def _own(request, pk: int) -> Subscription:
    return get_object_or_404(Subscription.objects.of(request.user), pk=pk)


@login_required(login_url=LOGIN)
@require_POST
def subscription_action_view(request, pk: int, action: str):
    subscription = _own(request, pk)
    if action == "delete":
        subscription.delete()
        messages.success(request, _("Subscription #%(id)s deleted.") % {"id": pk})
    elif action == "pause":
        pause_subscription(subscription, _("Paused by you."))
        messages.success(request, _("Subscription #%(id)s paused.") % {"id": pk})
    else:
        resume_subscription(subscription)
        messages.success(request, _("Subscription #%(id)s resumed.") % {"id": pk})
    return redirect("web:subscriptions")
