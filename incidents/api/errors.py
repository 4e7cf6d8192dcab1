"""
Errors of the open-data API in each protocol's own JSON format, never Django's HTML pages.

- REST (``/api/``): DRF's ``{"detail": …}`` or ``{parameter: [messages]}``, as
  ``application/json`` even when the request asked for GeoJSON or CSV (an error is not
  a feature collection).
- OGC API (``/ogc/``): the OGC exception ``{"code", "description"}``.
- Open311 (``/open311/``): GeoReport v2's list of ``{"code", "description"}`` (XML when the
  URL ends in ``.xml``).

:func:`bad_request`, :func:`permission_denied` and :func:`not_found` are the project's
``handler400``/``handler403``/``handler404``: they answer the URLs no view matched.
"""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.views import defaults

from incidents.api.open311.xml import error_response

JSON = "application/json; charset=utf-8"
OGC_CODES = {400: "InvalidParameterValue", 403: "Forbidden", 404: "NotFound"}


class JSONErrors:
    """A DRF view mixin: error bodies are labelled JSON, whatever renderer was chosen."""

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        response.content_type = JSON
        return response


def protocol_error(request, status: int, message: str) -> HttpResponse | None:
    """The error ``status`` in the format of the API ``request`` went to, or None outside the APIs."""
    path = request.path
    if path.startswith("/open311/"):
        return error_response(request, [(status, message)], status)
    if path.startswith("/ogc/"):
        body = {"code": OGC_CODES.get(status, "Error"), "description": message}
    elif path.startswith("/api/"):
        body = {"detail": message}
    else:
        return None
    return HttpResponse(json.dumps(body), status=status, content_type=JSON)


def bad_request(request, exception, template_name="400.html"):
    return protocol_error(request, 400, _("Bad request.")) or defaults.bad_request(request, exception, template_name)


def permission_denied(request, exception, template_name="403.html"):
    response = protocol_error(request, 403, _("You do not have permission to perform this action."))
    return response or defaults.permission_denied(request, exception, template_name)


def not_found(request, exception, template_name="404.html"):
    response = protocol_error(request, 404, _("Nothing here: see the API's landing page for its resources."))
    return response or defaults.page_not_found(request, exception, template_name)
