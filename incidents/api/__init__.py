"""
Publish over HTTP: the REST API (DRF), OGC API – Features and Open311 endpoints.

Only adapters live here: they turn requests into calls to the read model
(:mod:`incidents.publish`, shared with the map) and its answers into responses.
``http.py`` holds what they share (ids, query parameters, permissions, conditional
feature collections); ``rest.py``, ``posts.py``, ``triage.py``, ``ogc/`` and
``open311/`` are the endpoints; ``schema.py`` (OpenAPI), ``renderers.py``,
``parsers.py``, ``pagination.py``, ``throttling.py`` and ``serializers.py`` their
documentation, formats, bodies, paging, rates and request bodies.
"""
