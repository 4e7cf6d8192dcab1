"""URLs of the map, the list view and the triage pages (namespace ``web``)."""

from django.urls import path
from django.views.i18n import JavaScriptCatalog

from incidents.web import triage, views

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
]
