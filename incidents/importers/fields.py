"""Map our fields to a file's property names (``--map FIELD=PROP``).

Every tabular format is read through a :class:`FieldMap`: a format module brings its
preset (Toulouse streets read ``id`` from ``id_seg_ges`` or ``id_troncon``...), and the
user's ``--map`` entries take precedence, so a layer in a schema nobody wrote an importer
for still imports. A property name may be a dotted path into nested objects
(``--map name=core_details.name``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.utils.translation import gettext as _

from incidents.inputs import InputError

STREET_FIELDS = {
    "id": "identifier of the segment in the source (required)",
    "name": "street name (required)",
    "street_id": "identifier of the whole street, shared by its segments",
    "commune": "commune name",
    "insee": "commune INSEE code",
}
WORKS_FIELDS = {
    "id": "identifier of the works in the source (required)",
    "reference": "public reference of the permit",
    "title": "title",
    "description": "description",
    "nature": "kind of works",
    "road": "road name(s); several may be separated by '|' or ';'",
    "commune": "commune name",
    "declarant": "owner of the works",
    "contractor": "company doing the works",
    "contact": "e-mail address of the works site, told about incidents near it",
    "start": "start date (required)",
    "end": "end date",
    "impact": "impact text (French 'circulation' vocabulary)",
    "seen": "time of the snapshot the record comes from",
}
DISTRICT_FIELDS = {
    "code": "official code (required)",
    "name": "name (required)",
}
# Point tables publish coordinates as two columns instead of a geometry.
COORDINATE_FIELDS = {"lon": "longitude column", "lat": "latitude column"}


def parse_map_options(options: Iterable[str], allowed: Mapping[str, str]) -> dict[str, str]:
    """Read ``FIELD=PROP`` strings; raise :class:`InputError` saying how to write them."""
    fields = {**allowed, **COORDINATE_FIELDS}
    mapping: dict[str, str] = {}
    for option in options:
        name, sep, prop = option.partition("=")
        name, prop = name.strip(), prop.strip()
        if not sep or not name or not prop:
            raise InputError(
                _("--map %(option)r: write FIELD=PROPERTY, e.g. --map name=NOM_VOIE.") % {"option": option}
            )
        if name not in fields:
            known = ", ".join(sorted(fields))
            raise InputError(
                _("--map %(option)r: unknown field %(name)r; fields are: %(known)s.")
                % {"option": option, "name": name, "known": known}
            )
        mapping[name] = prop
    return mapping


def lookup(properties: Mapping[str, Any], path: str) -> Any:
    """The value at ``path`` (dotted for nested objects), or ``None``."""
    if path in properties:
        return properties[path]
    value: Any = properties
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


class FieldMap:
    """Where each of our fields is read from: user choices first, then the format's preset."""

    def __init__(self, preset: Mapping[str, Sequence[str]], overrides: Mapping[str, str] | None = None):
        self.candidates: dict[str, tuple[str, ...]] = {name: tuple(props) for name, props in preset.items()}
        for name, prop in (overrides or {}).items():
            self.candidates[name] = (prop,)

    def __contains__(self, name: str) -> bool:
        return bool(self.candidates.get(name))

    def get(self, properties: Mapping[str, Any], name: str) -> Any:
        """The first non-empty value among the candidates for ``name``, or ``None``."""
        for prop in self.candidates.get(name, ()):
            value = lookup(properties, prop)
            if value not in (None, ""):
                return value
        return None

    def describe(self, name: str) -> str:
        props = self.candidates.get(name, ())
        return " or ".join(repr(p) for p in props) if props else "(not mapped)"
