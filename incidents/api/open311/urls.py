"""Routes of Open311 GeoReport v2, mounted at /open311/v2/."""

from django.urls import path

from incidents.api.open311 import views

urlpatterns = [
    path("discovery.json", views.DiscoveryView.as_view(), name="open311-discovery"),
    path("services.json", views.ServicesView.as_view(), name="open311-services"),
    path("requests.json", views.RequestsView.as_view(), name="open311-requests"),
    path("requests/<str:request_id>.json", views.RequestView.as_view(), name="open311-request"),
    path("tokens/<str:token>.json", views.TokenView.as_view(), name="open311-token"),
]
