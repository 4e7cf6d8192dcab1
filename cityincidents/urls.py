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

# URLs no view matched answer in the format of the API they were meant for (incidents/api/errors.py).
handler400 = "incidents.api.errors.bad_request"
handler403 = "incidents.api.errors.permission_denied"
handler404 = "incidents.api.errors.not_found"
