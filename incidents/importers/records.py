"""The plain records every importer yields, and what an import reports back.

Parsers (one module per format) turn a file into :class:`StreetRecord`,
:class:`WorksRecord` or :class:`DistrictRecord` values plus :class:`Rejection`s for the
records they could not read. The bulk writer (:mod:`incidents.importers.bulk`) stores
them; the services (:mod:`.streets`, :mod:`.works`, :mod:`.districts`) return an
:class:`ImportResult`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# Called with (phase, done, total); total is None when the size is not known in advance.
Progress = Callable[[str, int, int | None], None]


def no_progress(phase: str, done: int, total: int | None) -> None:
    """Ignore progress reports (the default for callers that do not show any)."""


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record that was not imported: where it is in its file and why."""

    position: str
    reason: str

    def __str__(self) -> str:
        return f"{self.position}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Impact:
    """What a works zone blocks, as flags, plus the text they were read from."""

    vehicle: bool = False
    pedestrian: bool = False
    cycle: bool = False
    parking: bool = False
    closure: bool = False
    text: str = ""


@dataclass(slots=True)
class StreetRecord:
    """One street segment as read from its source. ``ewkt`` is validated WGS84 EWKT.

    ``layer`` names the layer of its source the record comes from, for sources published
    in several layers that share one id space (Toulouse's ``sens-de-circulation`` and
    ``zones-de-rencontre``): where layers disagree, the lower ``layer_rank`` wins. Empty
    for sources published whole.
    """

    position: str
    source_id: str
    name: str
    ewkt: str
    street_id: str = ""
    commune: str = ""
    insee_code: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    layer: str = ""
    layer_rank: int = 0


@dataclass(slots=True)
class WorksRecord:
    """One works zone as read from its source; datetimes are aware.

    ``seen_at`` is the time of the snapshot the record comes from, when the feed tells
    it (or ``--as-of`` does); records of several snapshots of one zone are folded into
    one with first/last seen times by the works service.
    """

    position: str
    source_id: str
    starts_at: dt.datetime
    ewkt: str
    ends_at: dt.datetime | None = None
    reference: str = ""
    title: str = ""
    description: str = ""
    nature: str = ""
    road_names: list[str] = field(default_factory=list)
    commune: str = ""
    declarant: str = ""
    contractor: str = ""
    contact: str = ""
    impact: Impact = Impact()
    seen_at: dt.datetime | None = None
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class DistrictRecord:
    """One district (a polygon with an official code)."""

    position: str
    code: str
    name: str
    ewkt: str
    properties: dict[str, Any] = field(default_factory=dict)


R = TypeVar("R", StreetRecord, WorksRecord, DistrictRecord)


@dataclass
class ParsedFile(Generic[R]):
    """What a parser read from one file."""

    records: list[R] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    # Records deliberately left out (unnamed OSM ways, WZDx detours...), by reason.
    skipped: dict[str, int] = field(default_factory=dict)
    # Times of the full snapshots this file holds: zones of the same source missing from
    # a snapshot are withdrawn as of that time. Empty for partial or undated inputs.
    snapshots: list[dt.datetime] = field(default_factory=list)
    # The source name to use when the caller gives none.
    default_source: str = ""
    notes: list[str] = field(default_factory=list)
    # False for part of a dataset (an API page): records missing from it are not gone.
    complete: bool = True

    def skip(self, reason: str, count: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + count

    def reject(self, position: str, reason: str) -> None:
        self.rejections.append(Rejection(position, reason))


Extent = tuple[float, float, float, float]  # min_lon, min_lat, max_lon, max_lat

# Words of the summary line, translated when it is printed.
KIND_NAMES = {
    "streets": gettext_lazy("streets"),
    "works": gettext_lazy("works"),
    "districts": gettext_lazy("districts"),
}
COUNT_NAMES = {
    "read": gettext_lazy("read"),
    "created": gettext_lazy("created"),
    "updated": gettext_lazy("updated"),
    "unchanged": gettext_lazy("unchanged"),
    "repaired": gettext_lazy("repaired"),
    "rejected": gettext_lazy("rejected"),
    "merged": gettext_lazy("merged"),
    "withdrawn": gettext_lazy("withdrawn"),
    "retired": gettext_lazy("retired"),
    "skipped": gettext_lazy("skipped"),
    "relinked": gettext_lazy("incidents relinked"),
}


@dataclass
class ImportResult:
    """The outcome of one import, as counts plus what changed.

    ``changed_ids`` (primary keys of the rows created, updated or withdrawn; not of the
    street segments retired, whose posts keep their links) and
    ``changed_extent`` (a WGS84 box around their old and new geometries, for works zones
    their impact areas) are what the link stage needs to refresh the links of existing
    incidents after an import.
    """

    kind: str
    source: str
    formats: dict[str, str] = field(default_factory=dict)
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    repaired: int = 0
    merged: int = 0
    withdrawn: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    created_ids: list[int] = field(default_factory=list)
    updated_ids: list[int] = field(default_factory=list)
    withdrawn_ids: list[int] = field(default_factory=list)
    # Street segments a newer full import no longer lists: kept, no longer linked to.
    retired_ids: list[int] = field(default_factory=list)
    changed_extent: Extent | None = None
    relinked: int = 0
    seconds: float = 0.0

    @property
    def rejected(self) -> int:
        return len(self.rejections)

    @property
    def changed_ids(self) -> list[int]:
        """Rows whose stored content changed: created, updated or withdrawn."""
        return sorted({*self.created_ids, *self.updated_ids, *self.withdrawn_ids})

    @property
    def retired(self) -> int:
        return len(self.retired_ids)

    @property
    def changed(self) -> bool:
        return bool(self.created_ids or self.updated_ids or self.withdrawn_ids or self.retired_ids)

    @property
    def rate(self) -> float:
        """Records read per second."""
        return self.read / self.seconds if self.seconds > 0 else 0.0

    def counts(self) -> dict[str, int]:
        counts = {
            "read": self.read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "repaired": self.repaired,
            "rejected": self.rejected,
        }
        if self.merged:
            counts["merged"] = self.merged
        if self.kind == "works":
            counts["withdrawn"] = self.withdrawn
        if self.retired:
            counts["retired"] = self.retired
        if self.skipped:
            counts["skipped"] = sum(self.skipped.values())
        if self.relinked:
            counts["relinked"] = self.relinked
        return counts

    def summary(self) -> str:
        """One line: the counts, the time and the rate."""
        counts = ", ".join(f"{value:,} {COUNT_NAMES.get(name, name)}" for name, value in self.counts().items())
        source = _(" (source %(source)s)") % {"source": self.source} if self.source != self.kind else ""
        return _("%(kind)s%(source)s: %(counts)s in %(seconds)s s (%(rate)s records/s)") % {
            "kind": KIND_NAMES.get(self.kind, self.kind),
            "source": source,
            "counts": counts,
            "seconds": f"{self.seconds:.1f}",
            "rate": f"{self.rate:,.0f}",
        }
