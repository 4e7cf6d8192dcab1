from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("incidents.api.urls")),
    path("ogc/", include("incidents.api.ogc.urls")),
    path("open311/v2/", include("incidents.api.open311.urls")),
    path("", include("incidents.web.urls")),
]
