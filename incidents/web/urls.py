"""URLs of the map, the list view and the triage pages (namespace ``web``)."""

from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.decorators.http import require_safe
from django.views.i18n import JavaScriptCatalog

from incidents.api.feeds import IncidentsFeed, WorksFeed
from incidents.web import subscriptions, triage, views, works

app_name = "web"

urlpatterns = [
    path("", views.map_view, name="map"),
    path("list/", views.list_view, name="list"),
    path("map/streets/", views.streets_view, name="streets"),
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["incidents"]), name="jsi18n"),
    path("triage/", triage.queue_view, name="triage"),
    path("triage/<int:pk>/", triage.incident_view, name="triage-incident"),
    path("triage/<int:pk>/status/", triage.status_view, name="triage-status"),
    path("triage/<int:pk>/reply/", triage.reply_view, name="triage-reply"),
    path("triage/<int:pk>/notify-works/", triage.notify_works_view, name="triage-notify-works"),
    path("works/<int:pk>/", works.works_view, name="works"),
    path("works/<int:pk>/incidents.<str:format>", works.works_export_view, name="works-export"),
    path("feeds/incidents.atom", require_safe(IncidentsFeed()), name="feed-incidents"),
    path("feeds/works/<int:pk>.atom", require_safe(WorksFeed()), name="feed-works"),
    path("subscriptions/", subscriptions.subscriptions_view, name="subscriptions"),
    path(
        "subscriptions/<int:pk>/delete/",
        subscriptions.subscription_action_view,
        {"action": "delete"},
        name="subscription-delete",
    ),
    path(
        "subscriptions/<int:pk>/pause/",
        subscriptions.subscription_action_view,
        {"action": "pause"},
        name="subscription-pause",
    ),
    path(
        "subscriptions/<int:pk>/resume/",
        subscriptions.subscription_action_view,
        {"action": "resume"},
        name="subscription-resume",
    ),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="incidents/web/login.html", next_page="web:map"),
        name="login",
    ),
]
