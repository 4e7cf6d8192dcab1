"""Measure the locator on cases with ground truth (``tests/data/locate_*.jsonl``).

For each case the report tells whether it was located, by which method, how far the
location is from the truth point and from the named street ("on the right street": a
post that names only a street is right anywhere along it), and whether the truth point
lies inside the stated accuracy radius (an honest radius contains it). Distances are
computed in the gazetteer's local metric frame (see :class:`incidents.geo.LocalFrame`).
A case whose right answer is "not located" has the kind ``place_city`` or
``"expect": "none"``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import shapely

from incidents.locate.gazetteer import commune_key
from incidents.locate.locator import Locator
from incidents.locate.normalize import normalize_street_name
from incidents.sources.record import PostRecord

WITHIN_M = 50.0
# Kinds where the post names one street the writer meant unambiguously (crossings and
# homonyms without evidence are reported on their own).
NAMED_STREET_KINDS = frozenset(
    {"official", "written", "typo", "hashtag", "short", "accents", "untyped", "ambiguous_commune"}
)
# Kinds whose right answer is "not located".
REFUSALS = frozenset({"place_city"})


@dataclass(slots=True)
class KindScore:
    cases: int = 0
    located: int = 0
    near_point: int = 0
    on_street: int = 0
    street_cases: int = 0
    noted: int = 0
    inside: int = 0
    methods: Counter = field(default_factory=Counter)
    accuracies: list[float] = field(default_factory=list)
    failures: list[tuple[dict, object]] = field(default_factory=list)

    def share(self, count: int, of: int | None = None) -> float:
        total = self.cases if of is None else of
        return count / total if total else 1.0


@dataclass(slots=True)
class LocateReport:
    kinds: dict[str, KindScore] = field(default_factory=lambda: defaultdict(KindScore))
    methods: dict[str, KindScore] = field(default_factory=lambda: defaultdict(KindScore))

    def total(self, kinds: set[str] | None = None) -> KindScore:
        score = KindScore()
        for kind, found in self.kinds.items():
            if kinds is not None and kind not in kinds:
                continue
            score.cases += found.cases
            score.located += found.located if kind not in REFUSALS else 0
            score.near_point += found.near_point
            score.on_street += found.on_street
            score.street_cases += found.street_cases
            score.inside += found.inside
        return score


def load_cases(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def case_record(case: dict) -> PostRecord:
    bbox = case.get("place_bbox")
    return PostRecord(
        source="eval",
        external_id=case["id"],
        text=case["text"],
        posted_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        lon=case.get("lon"),
        lat=case.get("lat"),
        place_name=case.get("place_name", ""),
        place_type=case.get("place_type", ""),
        place_bbox=tuple(bbox) if bbox else None,
    )


def evaluate(locator: Locator, cases: list[dict]) -> LocateReport:
    g = locator.gazetteer
    report = LocateReport()
    for case in cases:
        location = locator.locate(case_record(case))
        score = report.kinds[case["kind"]]
        score.cases += 1
        if case["kind"] in REFUSALS or case.get("expect") == "none":
            ok = not location.found
            score.located += location.found
            score.near_point += ok
            if not ok:
                score.failures.append((case, location))
            continue
        if not location.found:
            score.failures.append((case, location))
            continue
        score.located += 1
        score.methods[location.method] += 1
        score.accuracies.append(location.accuracy_m or 0.0)
        score.noted += bool(location.note)
        x, y = g.frame.to_xy(location.lon, location.lat)
        tx, ty = g.frame.to_xy(case["truth_lon"], case["truth_lat"])
        error = math.hypot(x - tx, y - ty)
        near = error <= WITHIN_M
        score.near_point += near
        score.inside += error <= (location.accuracy_m or 0.0)
        on_street = None
        if case.get("street") and case["kind"] != "crossing":
            score.street_cases += 1
            streets = [
                street
                for street in g.by_key.get(normalize_street_name(case["street"]), ())
                if street.commune == commune_key(case["commune"])
            ]
            on_street = any(shapely.distance(street.geom, shapely.Point(x, y)) <= WITHIN_M for street in streets)
            score.on_street += on_street
        if not (on_street if on_street is not None else near):
            score.failures.append((case, location))
        by_method = report.methods[location.method]
        by_method.cases += 1
        by_method.near_point += near
        if on_street is not None:
            by_method.street_cases += 1
            by_method.on_street += on_street
    return report


def format_report(report: LocateReport) -> str:
    lines = [
        f"{'kind':18} {'cases':>5} {'located':>8} {'<=50m pt':>9} {'on street':>10} {'in acc':>7} {'noted':>6} "
        f"{'median acc':>10}",
    ]
    for kind, score in report.kinds.items():
        accuracies = sorted(score.accuracies)
        median = f"{accuracies[len(accuracies) // 2]:.0f} m" if accuracies else "-"
        on_street = f"{score.share(score.on_street, score.street_cases):10.1%}" if score.street_cases else f"{'-':>10}"
        lines.append(
            f"{kind:18} {score.cases:5d} {score.share(score.located):8.1%} {score.share(score.near_point):9.1%} "
            f"{on_street} {score.share(score.inside, score.located):7.1%} "
            f"{score.share(score.noted, score.located):6.1%} {median:>10}"
        )
    named = report.total(NAMED_STREET_KINDS)
    lines.append("")
    lines.append(
        f"posts naming streets ({', '.join(sorted(NAMED_STREET_KINDS))}): {named.cases} cases, "
        f"{named.share(named.located):.1%} located, {named.share(named.on_street, named.street_cases):.1%} "
        f"on the named street, {named.share(named.near_point):.1%} within {WITHIN_M:.0f} m of the truth point"
    )
    located = report.total()
    lines.append(
        f"all located posts: {located.located}, truth point inside the stated accuracy for "
        f"{located.share(located.inside, located.located):.1%}"
    )
    lines.append("")
    lines.append("by method (cases located by it):")
    lines.append(f"{'method':8} {'cases':>5} {'<=50m of truth point':>21} {'<=50m of named street':>22}")
    for method, score in report.methods.items():
        on_street = f"{score.share(score.on_street, score.street_cases):22.1%}" if score.street_cases else f"{'-':>22}"
        lines.append(f"{method:8} {score.cases:5d} {score.share(score.near_point):21.1%} {on_street}")
    return "\n".join(lines)
