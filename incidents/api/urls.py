"""Publish: the REST API (DRF), OGC API – Features and Open311 endpoints."""

from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from incidents.api import rest, subscriptions, triage
from incidents.api.posts import PostIngestView
from incidents.api.schema import SchemaView


class Router(DefaultRouter):
    # The output format is the `format` query parameter (or the Accept header); suffix
    # routes such as /api/incidents.json reached views that take no `format` argument (500).
    include_format_suffixes = False


router = Router()
router.register("incidents", rest.IncidentViewSet, basename="incident")
router.register("works-zones", rest.WorksZoneViewSet, basename="works-zone")
router.register("street-segments", rest.StreetSegmentViewSet, basename="street-segment")
# The works zones as layers of one geometry type each (GIS clients).
for viewset in rest.WORKS_LAYER_VIEWSETS:
    router.register(viewset.layer.name, viewset, basename=viewset.layer.name)
router.register("subscriptions", subscriptions.SubscriptionViewSet, basename="subscription")

urlpatterns = [
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("works-impact/", rest.WorksImpactView.as_view(), name="works-impact"),
    path("triage/metrics/", triage.TriageMetricsView.as_view(), name="triage-metrics"),
    path("posts/", PostIngestView.as_view(), name="post-ingest"),
    path("", include(router.urls)),
]
