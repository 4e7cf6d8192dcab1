"""Importers: street networks, roadworks feeds and districts, from the files cities publish.

One module per format reads a file into plain records (:mod:`.records`):

* streets: :mod:`.streets_toulouse` (Toulouse Métropole layers), :mod:`.streets_osm`
  (OpenStreetMap XML/PBF, ways split at junctions), :mod:`.geojson` (any GeoJSON with
  ``--map``);
* works: :mod:`.works_toulouse` (``chantiers-en-cours``, 2014 snapshots and the current
  API), :mod:`.works_wzdx` (WZDx 4.x, schema-validated; WZDx 3.x; CWZ 1.0), :mod:`.geojson`;
* :mod:`.restrictions` reads the works' announced traffic restrictions (French
  ``circulation`` texts, WZDx lanes) into impact flags.

:mod:`.streets`, :mod:`.works` and :mod:`.districts` are the entry points for commands,
admin and API (``import_streets``, ``import_works``, ``import_districts``); each detects
and parses its inputs through :mod:`.detect`; :mod:`.bulk` writes through COPY and a
set-based upsert.
"""

from incidents.importers.districts import import_districts
from incidents.importers.records import ImportResult, Rejection
from incidents.importers.streets import import_streets
from incidents.importers.works import import_works

__all__ = [
    "ImportResult",
    "Rejection",
    "import_districts",
    "import_streets",
    "import_works",
]
