"""Routes of Open311 GeoReport v2, mounted at /open311/v2/: each resource as .json and .xml."""

from django.urls import path

from incidents.api.open311 import views

urlpatterns = [
    path("discovery.<str:output>", views.DiscoveryView.as_view(), name="open311-discovery"),
    path("services.<str:output>", views.ServicesView.as_view(), name="open311-services"),
    path("services/<str:service_code>.<str:output>", views.ServiceDefinitionView.as_view(), name="open311-service"),
    path("requests.<str:output>", views.RequestsView.as_view(), name="open311-requests"),
    path("requests/<str:request_id>.<str:output>", views.RequestView.as_view(), name="open311-request"),
    path("tokens/<str:token>.<str:output>", views.TokenView.as_view(), name="open311-token"),
]
