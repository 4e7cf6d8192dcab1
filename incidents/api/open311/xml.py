"""
GeoReport v2 answers as JSON or XML (the specification's primary format), chosen by the URL's suffix.

Every document has the same members in both formats; XML wraps them the way the
specification's examples do: ``<services><service>…``, ``<service_requests><request>…``,
``<service_definition>…<attributes><attribute>…``, ``<discovery>…<endpoints><endpoint>…``
and errors as ``<errors><error><code/><description/></error></errors>``. ``None`` is an
empty element, booleans are ``true``/``false``.
"""

from __future__ import annotations

import json
from xml.etree import ElementTree

from django.http import HttpResponse

JSON = "application/json; charset=utf-8"
XML = "text/xml; charset=utf-8"
FORMATS = ("json", "xml")
# The element of each item of a list, by the element of the list.
ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}


def wants_xml(request) -> bool:
    """Whether the request's URL ends in ``.xml`` (GeoReport v2 chooses the format by suffix)."""
    return request.path.endswith(".xml")


def _append(parent: ElementTree.Element, tag: str, value) -> None:
    element = ElementTree.SubElement(parent, tag)
    if isinstance(value, dict):
        for key, item in value.items():
            _append(element, key, item)
    elif isinstance(value, list | tuple):
        for item in value:
            _append(element, ITEMS.get(tag, "item"), item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)


def to_xml(root: str, body) -> bytes:
    """``body`` (a list of items, or an object) as the XML document ``<root>``."""
    tree = ElementTree.Element("_")
    _append(tree, root, body)
    return ElementTree.tostring(tree[0], encoding="utf-8", xml_declaration=True)


def respond(request, body, root: str, status: int = 200) -> HttpResponse:
    """``body`` as JSON, or as the XML document ``<root>`` when the URL ends in ``.xml``."""
    if wants_xml(request):
        return HttpResponse(to_xml(root, body), status=status, content_type=XML)
    return HttpResponse(json.dumps(body), status=status, content_type=JSON)


def error_response(request, errors: list[tuple[int, str]], status: int) -> HttpResponse:
    """A GeoReport v2 error list: ``[{"code", "description"}]``, or ``<errors>`` in XML."""
    body = [{"code": code, "description": description} for code, description in errors]
    return respond(request, body, "errors", status)
