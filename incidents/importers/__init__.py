"""Importers: street networks, roadworks feeds and districts, from the files cities publish.

One module per format reads a file into plain records (:mod:`.records`):

* streets: :mod:`.streets_toulouse` (Toulouse Métropole layers), :mod:`.streets_osm`
  (OpenStreetMap XML/PBF, ways split at junctions), :mod:`.geojson` (any GeoJSON with
  ``--map``);
* works: :mod:`.works_toulouse` (``chantiers-en-cours``, 2014 snapshots and the current
  API), :mod:`.works_wzdx` (WZDx 4.x, schema-validated), :mod:`.geojson`;
* :mod:`.restrictions` reads the works' announced traffic restrictions (French
  ``circulation`` texts, WZDx lanes) into impact flags.

:mod:`.service` is the entry point for commands, admin and API (``import_streets``,
``import_works``, ``import_districts``); :mod:`.bulk` writes through COPY and a
set-based upsert.
"""

from incidents.importers.inputs import InputFile, read_inputs, read_paths
from incidents.importers.records import ImportResult, InputError, Rejection
from incidents.importers.service import import_districts, import_streets, import_works

__all__ = [
    "ImportResult",
    "InputError",
    "InputFile",
    "Rejection",
    "import_districts",
    "import_streets",
    "import_works",
    "read_inputs",
    "read_paths",
]
