from django.urls import include, path
from rest_framework.routers import DefaultRouter

from incidents.api.posts import PostIngestView

router = DefaultRouter()

urlpatterns = [
    path("posts/", PostIngestView.as_view(), name="post-ingest"),
    path("", include(router.urls)),
]
