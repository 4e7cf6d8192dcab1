"""Toulouse Métropole street layers (Opendatasoft GeoJSON or records JSON).

Datasets: ``sens-de-circulation`` and ``zones-de-rencontre`` (``id_seg_ges``, ``street``,
``codsti``, ``commune``, ``code_insee``) and the full street graph ``filaire-de-voirie``
(``id_troncon``, ``libelle``, ``codsti``, ``mot_directeur``, ``code_insee``,
``geo_shape``).

Segment identity: ``id_seg_ges`` numbers segments per commune (Toulouse and Blagnac
both have a segment 2483), so the source id is ``<INSEE code>:<id_seg_ges>``
(``31555:9288``). The layers share that id space: the same segment in
``sens-de-circulation`` and ``zones-de-rencontre`` gets the same source id, and rows of
one id are pieces of one segment (merged by the streets service). A few rows carry
``id_seg_ges = 0`` (no managed id); they fall back to their ``id_seg_obs``
(``31069:obs27044``).

Layers: each file is one layer of the source, told by the attributes only it has
(:data:`LAYERS`). Where two layers publish the same segment, the first layer of
:data:`LAYERS` wins each field both publish: ``sens-de-circulation`` is the street network
(its name, street id, commune and line are the reference), ``zones-de-rencontre`` a
regulation laid over some of its segments (it adds its own attributes, ``type``,
``sensunique``, ``doublesens_cyclable``..., and the pieces of line the network lacks).
The layers can be imported together or one at a time: the merge is the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from incidents.importers.fields import FieldMap
from incidents.importers.geojson import (
    Feature,
    all_properties,
    build_street,
    iter_features,
    note_partial,
    parse_features,
)
from incidents.importers.records import ParsedFile, Progress, StreetRecord, no_progress
from incidents.importers.values import insee_code, text
from incidents.inputs import InputFile, RecordError

PRESET = {
    "id": ("id_seg_ges", "id_troncon"),
    "name": ("street", "libelle"),
    "street_id": ("codsti",),
    "commune": ("commune", "nom_commune", "libcom"),
    "insee": ("code_insee", "insee"),
}
# Property names that only Toulouse street layers use.
MARKERS = frozenset({"id_seg_ges", "id_troncon", "codsti"})
DEFAULT_SOURCE = "toulouse"
# The layers of the source, in order of precedence, and the attributes that tell each one.
# filaire-de-voirie numbers its segments in another id space (id_troncon): it shares none.
LAYERS = (
    ("filaire-de-voirie", frozenset({"id_troncon", "mot_directeur"})),
    ("sens-de-circulation", frozenset({"itineraire_principal", "itineraire_desserte", "ref_arrete"})),
    ("zones-de-rencontre", frozenset({"doublesens_cyclable", "sensunique", "infobulle"})),
)


def layer_of(keys: set[str]) -> tuple[str, int]:
    """The layer (name, rank) whose attributes ``keys`` hold; ``("", 0)`` for none we know."""
    for rank, (name, markers) in enumerate(LAYERS):
        if markers & keys:
            return name, rank
    return "", 0


def detect(input_file: InputFile) -> bool:
    """True for a JSON input whose records carry Toulouse street attributes."""
    if not input_file.looks_like_json:
        return False
    return bool(MARKERS & all_properties(iter_features(input_file.json(), input_file.name).features))


def segment_id(feature: Feature, fields: FieldMap) -> str:
    """``<INSEE>:<id_seg_ges>``; ``<INSEE>:obs<id_seg_obs>`` when the managed id is missing or 0."""
    props = feature.properties
    identifier = text(fields.get(props, "id"))
    if identifier in ("", "0"):
        observed = text(props.get("id_seg_obs")).replace(" ", "")
        if not observed:
            raise RecordError(
                _("no segment id (%(where)s is empty or 0, and no id_seg_obs)") % {"where": fields.describe("id")}
            )
        identifier = f"obs{observed}"
    insee = insee_code(fields.get(props, "insee"))
    return f"{insee}:{identifier}" if insee else identifier


def parse(
    input_file: InputFile, overrides: Mapping[str, str], progress: Progress = no_progress, **_options: Any
) -> ParsedFile[StreetRecord]:
    fields = FieldMap(PRESET, overrides)
    parsed: ParsedFile[StreetRecord] = ParsedFile(default_source=DEFAULT_SOURCE)
    features = parse_features(
        input_file, lambda f: build_street(f, fields, lambda f: segment_id(f, fields)), parsed, progress, fields
    )
    layer, rank = layer_of(all_properties(features.features))
    for record in parsed.records:
        record.layer, record.layer_rank = layer, rank
    note_partial(parsed, features, input_file.name)
    return parsed
