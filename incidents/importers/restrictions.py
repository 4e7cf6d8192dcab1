"""Read the traffic restrictions a works zone announces into its impact flags.

Two vocabularies are read:

* the French ``circulation`` text of Toulouse's roadworks feeds, clauses separated by
  " - " ("Rue barrée - Occupation du trottoir - Occupation de 1 file");
* WZDx road events (in the 4.x shape: :mod:`.works_wzdx` brings 3.x and CWZ events to
  it): ``vehicle_impact``, the lanes (type and status) and the restrictions. Feeds that
  were not validated may hold anything where a code is expected: it sets no flag.

The raw text is always kept next to the flags (``WorksZone.impact_text``): the flags are
our reading of it, and a clause nobody has mapped yet still reaches the user.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from incidents.importers.records import Impact
from incidents.locate.normalize import tokenize

# Each rule: word stems that must all start a word of the clause (accents and case
# ignored, so "pieton" also reads "piétons"), and the flags the clause sets. The first
# matching rule of a clause wins, so specific rules ("piste cyclable", "demi chaussée")
# come before general ones ("barrée", "circulation").
_CLOSURE = {"vehicle", "closure"}
CIRCULATION_RULES: tuple[tuple[tuple[str, ...], frozenset[str]], ...] = tuple(
    (tuple(words.split()), frozenset(flags))
    for words, flags in (
        ("sans incidence", set()),
        ("aucune gene", set()),
        ("piste cyclable", {"cycle"}),
        ("bande cyclable", {"cycle"}),
        ("voie verte", {"cycle", "pedestrian"}),
        ("velo", {"cycle"}),
        ("trottoir", {"pedestrian"}),
        ("pieton", {"pedestrian"}),
        ("cheminement", {"pedestrian"}),
        ("passage protege", {"pedestrian"}),
        ("demi chaussee", {"vehicle"}),
        ("1 2 chaussee", {"vehicle"}),
        ("stationnement", {"parking"}),
        ("places", {"parking"}),
        ("parking", {"parking"}),
        ("rue barree", _CLOSURE),
        ("route barree", _CLOSURE),
        ("chaussee barree", _CLOSURE),
        ("voie barree", _CLOSURE),
        ("ferme", _CLOSURE),
        ("barree", _CLOSURE),
        ("interdite circulation", _CLOSURE),
        ("alternat", {"vehicle"}),
        ("file", {"vehicle"}),
        ("voie", {"vehicle"}),
        ("chaussee", {"vehicle"}),
        ("couloir bus", {"vehicle"}),
        ("contre allee", {"vehicle"}),
        ("sens unique", {"vehicle"}),
        ("deviation", {"vehicle"}),
        ("gene circulation", {"vehicle"}),
        ("circulation", {"vehicle"}),
    )
)


def _clause_flags(clause: str) -> frozenset[str] | None:
    words = tokenize(clause)
    for required, flags in CIRCULATION_RULES:
        if all(any(word.startswith(stem) for word in words) for stem in required):
            return flags
    return None


def split_clauses(text: str) -> list[str]:
    """The clauses of a circulation text ("A - B - C"), without empty ones."""
    return [clause.strip() for clause in text.replace("\n", " - ").split(" - ") if clause.strip()]


def parse_circulation(text: str | None) -> Impact:
    """Read a French circulation/impact text (Toulouse ``circulation``) into flags, keeping the text."""
    text = (text or "").strip()
    flags: set[str] = set()
    for clause in split_clauses(text):
        flags |= _clause_flags(clause) or set()
    return _impact(flags, text)


def unread_clauses(text: str | None) -> list[str]:
    """Clauses of ``text`` that no rule understands (reported so the rules can grow)."""
    return [clause for clause in split_clauses(text or "") if _clause_flags(clause) is None]


# WZDx vehicle_impact values and the flags they set. "all-lanes-open" and "unknown" set none.
VEHICLE_IMPACT_FLAGS: dict[str, frozenset[str]] = {
    "all-lanes-closed": frozenset(_CLOSURE),
    "some-lanes-closed": frozenset({"vehicle"}),
    "some-lanes-closed-merge-left": frozenset({"vehicle"}),
    "some-lanes-closed-merge-right": frozenset({"vehicle"}),
    "some-lanes-closed-split": frozenset({"vehicle"}),
    "all-lanes-open-shift-left": frozenset({"vehicle"}),
    "all-lanes-open-shift-right": frozenset({"vehicle"}),
    "alternating-one-way": frozenset({"vehicle"}),
    "flagging": frozenset({"vehicle"}),
    "temporary-traffic-signal": frozenset({"vehicle"}),
}
# A lane of this type that is not simply open affects these users.
LANE_TYPE_FLAGS: dict[str, frozenset[str]] = {
    "sidewalk": frozenset({"pedestrian"}),
    "bike-lane": frozenset({"cycle"}),
    "parking": frozenset({"parking"}),
    "shoulder": frozenset(),
    "median": frozenset(),
}
RESTRICTION_FLAGS: dict[str, frozenset[str]] = {
    "no-parking": frozenset({"parking"}),
    "local-access-only": frozenset({"vehicle"}),
    "reduced-width": frozenset({"vehicle"}),
    "reduced-height": frozenset({"vehicle"}),
    "reduced-length": frozenset({"vehicle"}),
    "reduced-weight": frozenset({"vehicle"}),
    "axle-load-limit": frozenset({"vehicle"}),
    "gross-weight-limit": frozenset({"vehicle"}),
    "no-trucks": frozenset({"vehicle"}),
    "towing-prohibited": frozenset({"vehicle"}),
    "permitted-oversize-loads-prohibited": frozenset({"vehicle"}),
}


def _code(value: Any) -> str:
    """A WZDx code (``some-lanes-closed``), or ``""`` for anything that cannot be one."""
    return value if isinstance(value, str) else ""


def _objects(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _restriction_text(restriction: Mapping[str, Any]) -> str:
    value, unit = restriction.get("value"), restriction.get("unit")
    amount = f"{value:g}" if isinstance(value, int | float) and not isinstance(value, bool) else ""
    return _code(restriction.get("type")) + (f" {amount} {unit}" if amount and isinstance(unit, str) else "")


def _order(lane: Mapping[str, Any]) -> float:
    order = lane.get("order")
    return order if isinstance(order, int | float) and not isinstance(order, bool) else 0


def parse_wzdx(event: Mapping[str, Any]) -> Impact:
    """Read a WZDx 4.x work zone event's ``properties`` into impact flags and a readable text."""
    flags: set[str] = set()
    parts: list[str] = []
    vehicle_impact = _code(event.get("vehicle_impact"))
    if vehicle_impact:
        flags |= VEHICLE_IMPACT_FLAGS.get(vehicle_impact, frozenset())
        parts.append(f"vehicle impact: {vehicle_impact}")

    lane_texts = []
    general_lanes = closed_general = 0
    for lane in sorted(_objects(event.get("lanes")), key=_order):
        lane_type, status = _code(lane.get("type", "general")), _code(lane.get("status", "open"))
        lane_texts.append(f"{lane.get('order', '?')} {lane_type} {status}")
        if lane_type == "general":
            general_lanes += 1
            closed_general += status == "closed"
        if status != "open":
            flags |= LANE_TYPE_FLAGS.get(lane_type, frozenset({"vehicle"}))
        for restriction in _objects(lane.get("restrictions")):
            flags |= RESTRICTION_FLAGS.get(_code(restriction.get("type")), frozenset())
    if general_lanes and closed_general == general_lanes:
        flags |= _CLOSURE
    if lane_texts:
        parts.append("lanes: " + ", ".join(lane_texts))

    restrictions = _objects(event.get("restrictions"))
    for restriction in restrictions:
        flags |= RESTRICTION_FLAGS.get(_code(restriction.get("type")), frozenset())
    if restrictions:
        parts.append("restrictions: " + ", ".join(_restriction_text(r) for r in restrictions))
    return _impact(flags, "; ".join(parts))


def _impact(flags: set[str] | frozenset[str], text: str) -> Impact:
    return Impact(
        vehicle="vehicle" in flags,
        pedestrian="pedestrian" in flags,
        cycle="cycle" in flags,
        parking="parking" in flags,
        closure="closure" in flags,
        text=text,
    )
