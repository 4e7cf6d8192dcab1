"""The project's URLs plus the two serializer baselines of bench/bench_geojson.py.

``/bench/default-incidents/`` is a default GeoFeatureModelSerializer list view (``fields =
"__all__"``, as the documentation shows it); ``/bench/tuned-incidents/`` serialises the
same properties as our endpoint with the usual tuning (the segment joined with
select_related, "near works" annotated: no N+1 queries). Same bbox, 1,000 rows, same order.
"""

from django.db.models import Exists, OuterRef
from django.urls import include, path
from rest_framework import generics, serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from incidents.models import Incident, IncidentWorksZone
from incidents.publish.filters import parse_bbox


class DefaultIncidentSerializer(GeoFeatureModelSerializer):
    class Meta:
        model = Incident
        geo_field = "location"
        fields = "__all__"


class TunedIncidentSerializer(GeoFeatureModelSerializer):
    segment_name = serializers.CharField(source="segment.name", default=None)
    near_works = serializers.BooleanField()

    class Meta:
        model = Incident
        geo_field = "location"
        fields = ["id", "category", "status", "first_post_at", "last_post_at", "post_count", "engagement",
                  "priority", "segment", "segment_name", "segment_distance_m", "district", "near_works",
                  "duplicate_of", "updated_at"]  # fmt: skip


class DefaultIncidentList(generics.ListAPIView):
    serializer_class = DefaultIncidentSerializer
    throttle_classes = []

    def get_queryset(self):
        bbox = parse_bbox(self.request.query_params["bbox"])
        limit = int(self.request.query_params.get("limit", 1000))
        return Incident.objects.in_bbox(*bbox).order_by("-last_post_at", "id")[:limit]


class TunedIncidentList(DefaultIncidentList):
    serializer_class = TunedIncidentSerializer

    def get_queryset(self):
        linked = Exists(IncidentWorksZone.objects.filter(incident=OuterRef("pk")))
        return super().get_queryset().select_related("segment").annotate(near_works=linked)


urlpatterns = [
    path("bench/default-incidents/", DefaultIncidentList.as_view()),
    path("bench/tuned-incidents/", TunedIncidentList.as_view()),
    path("", include("cityincidents.urls")),
]
