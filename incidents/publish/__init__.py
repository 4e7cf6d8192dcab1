"""
Publish: the read model that the open-data API and the map share.

What is published, the same whoever asks and through whichever door:

- ``layers.py``: what each layer publishes, once (properties as SQL expressions, OpenAPI schema);
- ``filters.py``: the layers' filter sets and the parsing of their values (REST, OGC, list view);
- ``features.py``: how many features match and their latest change, the plan to fetch a page,
  and what an incident's detail adds (its works zones, its posts);
- ``impact.py``: works impact, incidents near a zone before and during its works, zones ranked;
- ``privacy.py``: what the public may see of a post, and who is staff;
- ``clusters.py``: the map's in-memory cluster index and the change notes that keep it current;
- ``metrics.py``: triage metrics, the medians of time to acknowledge and to resolve;
- ``cql2.py``: OGC API filters in CQL2 text, read into lookups on the layers' own expressions;
- ``crs.py``: the coordinate reference systems on offer, their axis order, transformations;
- ``tiles.py``: Mapbox vector tiles of a layer, built by PostGIS (``ST_AsMVT``);
- ``works_impact.py``: the works impact table (incidents near each works zone), kept current
  by the database, which ``impact.py`` counts from.

The rule: a module belongs here when it answers "what is published" from plain values (a
layer, a queryset, a box, a time window, whether the caller is staff) and builds no
response. Reading a request's URL and parameters and writing the answer (ids in URLs,
unknown parameters, paging, media types, ``ETag``/``304``, OpenAPI) is HTTP: it lives in
:mod:`incidents.api`, whose adapters share :mod:`incidents.api.http`. The pages of
:mod:`incidents.web` call this package directly, never the API's views; an export they
offer is written by :mod:`incidents.api.http`, as the API writes it.
"""
