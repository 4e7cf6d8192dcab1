"""OpenStreetMap streets from ``.osm`` XML or PBF, read with libosmium (PyPI ``osmium``).

Which ways: every way tagged ``highway=*`` with a ``name``, except values that are not
streets on the ground (``proposed``, ``construction``, ``abandoned``, ``platform`` ...).
Unnamed ways (most footways, service roads) are skipped and counted: people cannot
name them, and the locator matches streets by name.

Segments: **ways are split at junctions**, so a segment is a stretch of street between
two crossings, like Toulouse's segments. A junction is a node shared by two named
street ways (or met twice by one way). Unnamed ways do not split named streets:
a driveway does not cut a street in two. A segment's source id is
``way/<way id>/<first node>-<last node>``: it survives edits elsewhere on the way and
never depends on the order of the file.

``street_id`` is the FANTOIR code (``ref:FR:FANTOIR``) when mapped, otherwise
``way/<way id>``, so the pieces of one way share it. The way's tags are kept as
properties.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import osmium
from django.utils.translation import gettext as _

from incidents.importers.geometry import lines_to_ewkt
from incidents.importers.records import ParsedFile, Progress, StreetRecord, no_progress
from incidents.inputs import InputError, InputFile

NOT_STREETS = frozenset(
    {
        *("proposed", "construction", "abandoned", "disused", "razed", "no"),
        *("platform", "bus_stop", "elevator", "emergency_bay", "corridor"),
        *("raceway", "rest_area", "services", "via_ferrata"),
    }
)
DEFAULT_SOURCE = "osm"


def detect(input_file: InputFile) -> bool:
    if input_file.looks_like_pbf:
        return True
    return input_file.looks_like_xml and b"<osm" in input_file.data[:2048]


@dataclass(slots=True)
class _Way:
    id: int
    tags: dict[str, str]
    refs: list[int]
    coords: list[tuple[float, float]]


class _StreetWays(osmium.SimpleHandler):
    """Collect the named street ways with their node ids and locations."""

    def __init__(self, parsed: ParsedFile[StreetRecord], name: str, progress: Progress):
        super().__init__()
        self.parsed = parsed
        self.name = name
        self.progress = progress
        self.ways: list[_Way] = []
        self.seen = 0

    def way(self, way: Any) -> None:
        highway = way.tags.get("highway")
        if highway is None:
            return
        self.seen += 1
        if self.seen % 5_000 == 0:
            self.progress(_("reading %(name)s") % {"name": self.name}, self.seen, None)
        if highway in NOT_STREETS:
            self.parsed.skip(_("highway=%(highway)s is not a street") % {"highway": highway})
            return
        if not way.tags.get("name"):
            self.parsed.skip(_("unnamed highway ways"))
            return
        refs, coords = [], []
        for node in way.nodes:
            if not node.location.valid():
                reason = _("node %(node)s is missing from the extract (clip with complete ways)") % {"node": node.ref}
                self.parsed.reject(f"{self.name}: way {way.id}", reason)
                return
            refs.append(node.ref)
            coords.append((node.location.lon, node.location.lat))
        if len(refs) < 2:
            self.parsed.reject(f"{self.name}: way {way.id}", _("a way needs at least 2 nodes"))
            return
        self.ways.append(_Way(way.id, {tag.k: tag.v for tag in way.tags}, refs, coords))


def _pieces(way: _Way, junctions: set[int]) -> list[tuple[int, int]]:
    """Index ranges (inclusive) of the way between its junction nodes."""
    cuts = [0] + [i for i in range(1, len(way.refs) - 1) if way.refs[i] in junctions] + [len(way.refs) - 1]
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]


def split_at_junctions(ways: list[_Way]) -> list[tuple[_Way, int, int]]:
    """Every (way, start index, end index) piece of ``ways`` split where they meet."""
    uses: Counter[int] = Counter()
    for way in ways:
        # A closed way repeats its first node: that is one use, not a junction.
        refs = way.refs[:-1] if way.refs[0] == way.refs[-1] else way.refs
        uses.update(refs)
    junctions = {ref for ref, count in uses.items() if count >= 2}
    return [(way, a, b) for way in ways for a, b in _pieces(way, junctions)]


def parse(
    input_file: InputFile, overrides: Mapping[str, str], progress: Progress = no_progress, **_options: Any
) -> ParsedFile[StreetRecord]:
    """Named ``highway=*`` ways of an OSM XML or PBF input, split at junctions."""
    parsed: ParsedFile[StreetRecord] = ParsedFile(default_source=DEFAULT_SOURCE)
    if overrides:
        parsed.notes.append(_("--map is ignored for OSM input: names come from the 'name' tag."))
    name = input_file.name
    handler = _StreetWays(parsed, input_file.name, progress)
    file_format = "pbf" if input_file.looks_like_pbf else "osm"
    try:
        handler.apply_buffer(input_file.data, file_format, locations=True)
    except (RuntimeError, osmium.InvalidLocationError) as error:
        kind = "PBF" if file_format == "pbf" else "XML"
        raise InputError(
            _("%(name)s: not a readable OpenStreetMap %(kind)s file (%(error)s).")
            % {"name": name, "kind": kind, "error": error}
        ) from None
    pieces = split_at_junctions(handler.ways)
    used: Counter[str] = Counter()
    for index, (way, a, b) in enumerate(pieces):
        source_id = f"way/{way.id}/{way.refs[a]}-{way.refs[b]}"
        used[source_id] += 1
        if used[source_id] > 1:  # a way passing twice between the same two nodes
            source_id = f"{source_id}#{used[source_id]}"
        parsed.records.append(
            StreetRecord(
                position=f"{input_file.name}: way {way.id}",
                source_id=source_id,
                name=way.tags["name"],
                ewkt=lines_to_ewkt([way.coords[a : b + 1]]),
                street_id=way.tags.get("ref:FR:FANTOIR") or f"way/{way.id}",
                properties={**way.tags, "osm_way_id": way.id},
            )
        )
        if index % 5_000 == 0:
            progress(_("splitting %(name)s") % {"name": name}, index, len(pieces))
    parsed.notes.append(
        _("%(ways)s named street ways split at junctions into %(segments)s segments")
        % {"ways": f"{len(handler.ways):,}", "segments": f"{len(pieces):,}"}
    )
    return parsed
