#!/usr/bin/env python3
"""
Score the whole listening pipeline on a labelled set of real-format posts.

    .venv/bin/python bench/eval_listening.py                       # tests/data/handwritten/
    .venv/bin/python bench/eval_listening.py path/to/another/set   # any set of the same shape
    .venv/bin/python bench/eval_listening.py --json                # the figures as JSON

A set is a folder holding the posts as the platforms deliver them (X API v2 responses,
Mastodon statuses: every ``.json``/``.jsonl`` file but ``truth.jsonl``) and
``truth.jsonl``, one object per post: ``source``, ``id`` (tweet id or status URI),
``relevant``, ``category``, ``affects``, ``group`` (the problem the post is about),
``lon``/``lat`` and ``point_precision`` (``exact``, ``street``, ``none``), ``street`` and
``insee`` (the official street name and commune), ``located_by_text``, ``kind`` (tags).
See ``tests/data/handwritten/README.md``.

The Toulouse streets, districts, service area and works are loaded through the real
importers (the demo's steps, without its posts) into a scratch database; the posts go
through ``ingest`` exactly as ``manage.py ingest_posts`` sends them; then:

- **grouping**: pairwise over every labelled post. Two posts about one problem should
  share an incident; a relevant post left without an incident is an incident of its own
  (it costs recall), a post about nothing is a problem of its own (grouping it costs
  precision).
- **category**: macro-F1 over the categories present in the truth or the predictions, a
  post counting for a category when it is relevant; an irrelevant prediction of a
  relevant post is a miss of its category.
- **relevance**: precision, recall, F1.
- **location**: of the posts whose text names a street in the data (``located_by_text``),
  the share located by their text and, of those, the share on the named street; of the
  located posts whose true point is known (``point_precision`` ``exact``), the share whose
  true point lies inside the stated accuracy radius (printed apart for ``street``, where
  the truth point only stands somewhere on the street).
- **coverage**: relevant located posts without an incident (must be none).

Only figures are printed, overall and by kind of post: never the posts themselves. The
hand-written set is for scoring and must never be used to tune a lexicon entry, a
landmark or a threshold (``tests/data/handwritten/README.md``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from math import comb
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SET = ROOT / "tests" / "data" / "handwritten"
EVAL_DB = "cityincidents_eval_listening"
TRUTH = "truth.jsonl"


@dataclass(slots=True)
class Predicted:
    """What the pipeline made of one post."""

    state: str
    category: str
    method: str
    lon: float | None
    lat: float | None
    accuracy_m: float | None
    street: tuple[str, str] | None  # (normalised name, INSEE code) of its segment
    incident_id: int | None

    @property
    def relevant(self) -> bool:
        return self.state not in ("irrelevant", "pending")


def read_truth(folder: Path) -> list[dict]:
    path = folder / TRUTH
    if not path.exists():
        raise SystemExit(f"{path} is missing: a labelled set is a folder with the posts and {TRUTH}")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def post_files(folder: Path) -> list[Path]:
    files = (path for path in folder.iterdir() if path.is_file() and path.suffix in (".json", ".jsonl"))
    return sorted(path for path in files if path.name != TRUTH)


def load_city() -> None:
    """The demo's city steps (districts, streets, service area, works), without its posts."""
    from incidents.demo import DEMO_STEPS, DemoContext

    context = DemoContext()
    for step in DEMO_STEPS:
        if step.run.__name__ != "load_posts":
            print(f"  {step.label}: {step.run(context)}", flush=True)


def ingest_set(folder: Path) -> int:
    """Ingest every post file of ``folder`` through the real pipeline; return the items read."""
    from incidents.pipeline.ingest import ingest
    from incidents.sources.reader import open_file

    items = 0
    for path in post_files(folder):
        report = ingest(open_file(path).items, synchronous=True)
        items += report.items
        print(f"  {path.name}: {report.items} items, {report.created} posts, {report.rejected} rejected", flush=True)
    return items


def predictions() -> dict[tuple[str, str], Predicted]:
    from incidents.models import Post

    rows = Post.objects.values_list(
        "source",
        "external_id",
        "state",
        "category",
        "location_method",
        "location",
        "location_accuracy_m",
        "segment__name_normalized",
        "segment__insee_code",
        "incident_id",
    )
    found = {}
    for source, external_id, state, category, method, point, accuracy, name, insee, incident_id in rows:
        found[(source, external_id)] = Predicted(
            state,
            category,
            method,
            point.x if point else None,
            point.y if point else None,
            accuracy,
            (name, insee) if name else None,
            incident_id,
        )
    return found


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (the radius of the sphere of the same area as WGS84)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_007.2 * math.asin(math.sqrt(a))


def f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def ratio(hits: int, total: int) -> float | None:
    return hits / total if total else None


def score(truth: list[dict], found: dict[tuple[str, str], Predicted]) -> dict:
    """Every figure, for the posts of ``truth``."""
    from incidents.locate.normalize import normalize_street_name

    missing = [row for row in truth if (row["source"], row["id"]) not in found]
    rows = [row for row in truth if (row["source"], row["id"]) in found]
    pred = {id(row): found[(row["source"], row["id"])] for row in rows}

    # Grouping, pairwise over every post.
    problem = {id(row): row["group"] if row["relevant"] and row["group"] else f"nothing:{row['id']}" for row in rows}
    incident = {id(row): pred[id(row)].incident_id or f"alone:{row['id']}" for row in rows}
    cells = Counter((incident[key], problem[key]) for key in problem)
    together = sum(comb(n, 2) for n in cells.values())
    grouped_pairs = sum(comb(n, 2) for n in Counter(incident.values()).values())
    true_pairs = sum(comb(n, 2) for n in Counter(problem.values()).values())
    pair_precision = together / grouped_pairs if grouped_pairs else 1.0
    pair_recall = together / true_pairs if true_pairs else 1.0

    # Relevance and categories.
    relevance = Counter()
    categories: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        p = pred[id(row)]
        truth_code = row["category"] if row["relevant"] else None
        got = p.category if p.relevant else None
        relevance[("t" if row["relevant"] == p.relevant else "f") + ("p" if p.relevant else "n")] += 1
        if truth_code is not None and truth_code == got:
            categories[truth_code]["tp"] += 1
        else:
            if got is not None:
                categories[got]["fp"] += 1
            if truth_code is not None:
                categories[truth_code]["fn"] += 1
    per_category = {}
    for code, c in sorted(categories.items()):
        precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
        per_category[code] = {"precision": precision, "recall": recall, "f1": f1(precision, recall), **c}
    rel_p = relevance["tp"] / (relevance["tp"] + relevance["fp"]) if relevance["tp"] + relevance["fp"] else 1.0
    rel_r = relevance["tp"] / (relevance["tp"] + relevance["fn"]) if relevance["tp"] + relevance["fn"] else 1.0

    # Location.
    by_text = [row for row in rows if row.get("located_by_text") and row.get("street")]
    text_located = [row for row in by_text if pred[id(row)].method == "text"]

    def named(row: dict) -> bool:
        street = pred[id(row)].street
        insee = str(row.get("insee") or "")
        if street is None or street[0] != normalize_street_name(row["street"]):
            return False
        return not insee or street[1] == insee

    on_street = [row for row in text_located if named(row)]

    def inside_accuracy(precision: str) -> tuple[int, int]:
        checked = [
            row
            for row in rows
            if row.get("lon") is not None
            and row.get("point_precision") == precision
            and pred[id(row)].lon is not None
            and pred[id(row)].accuracy_m is not None
        ]
        p = pred
        hits = sum(
            metres(row["lon"], row["lat"], p[id(row)].lon, p[id(row)].lat) <= p[id(row)].accuracy_m for row in checked
        )
        return hits, len(checked)

    exact_hits, exact_checked = inside_accuracy("exact")
    street_hits, street_checked = inside_accuracy("street")
    located = [row for row in rows if pred[id(row)].state == "located"]
    orphans = [row for row in located if pred[id(row)].incident_id is None]

    return {
        "posts": len(truth),
        "missing": len(missing),
        "problems": len({problem[key] for key in problem if not str(problem[key]).startswith("nothing:")}),
        "incidents": len({value for value in incident.values() if not str(value).startswith("alone:")}),
        "pair_precision": pair_precision,
        "pair_recall": pair_recall,
        "pair_f1": f1(pair_precision, pair_recall),
        "relevance_precision": rel_p,
        "relevance_recall": rel_r,
        "relevance_f1": f1(rel_p, rel_r),
        "category_macro_f1": (sum(c["f1"] for c in per_category.values()) / len(per_category) if per_category else 0.0),
        "categories": per_category,
        "named_street_posts": len(by_text),
        "located_by_text": ratio(len(text_located), len(by_text)),
        "on_named_street": ratio(len(on_street), len(text_located)),
        "point_checked": exact_checked,
        "inside_accuracy": ratio(exact_hits, exact_checked),
        "street_point_checked": street_checked,
        "inside_accuracy_street": ratio(street_hits, street_checked),
        "located": len(located),
        "located_without_incident": len(orphans),
    }


def by_kind(truth: list[dict], found: dict) -> dict[str, dict]:
    """The same figures for the posts of each kind (a grouping pair counts when both posts are of it)."""
    kinds = sorted({kind for row in truth for kind in row.get("kind", [])})
    return {kind: score([row for row in truth if kind in row.get("kind", [])], found) for kind in kinds}


def show(name: str, s: dict) -> str:
    def pct(value):
        return "—" if value is None else f"{value:.3f}"

    return (
        f"{name}: {s['posts']} posts ({s['missing']} not stored), {s['problems']} problems,"
        f" {s['incidents']} incidents\n"
        f"  grouping pairwise  precision {pct(s['pair_precision'])}  recall {pct(s['pair_recall'])}"
        f"  F1 {pct(s['pair_f1'])}\n"
        f"  relevance          precision {pct(s['relevance_precision'])}  recall {pct(s['relevance_recall'])}"
        f"  F1 {pct(s['relevance_f1'])}\n"
        f"  category           macro-F1 {pct(s['category_macro_f1'])}\n"
        f"  location           {s['named_street_posts']} posts name a street:"
        f" located by text {pct(s['located_by_text'])},"
        f" on the named street {pct(s['on_named_street'])}\n"
        f"                     true point inside the stated accuracy: {pct(s['inside_accuracy'])} of"
        f" {s['point_checked']} exact points ({pct(s['inside_accuracy_street'])} of {s['street_point_checked']}"
        f" street-level points)\n"
        f"  coverage           {s['located']} located, {s['located_without_incident']} without an incident"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("folder", nargs="?", default=str(DEFAULT_SET), help="the labelled set (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--keep", action="store_true", help=f"keep the scratch database {EVAL_DB}")
    args = parser.parse_args()
    folder = Path(args.folder)
    truth = read_truth(folder)

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityincidents.settings")
    os.environ.setdefault("DJANGO_DEBUG", "1")
    import django

    django.setup()
    from bench.city import scratch_database

    with scratch_database(EVAL_DB, keep=args.keep):
        print("loading the city through the importers ...", flush=True)
        load_city()
        print(f"ingesting {folder} ...", flush=True)
        ingest_set(folder)
        found = predictions()
        overall = score(truth, found)
        kinds = by_kind(truth, found)
    if args.json:
        print(json.dumps({"set": str(folder), "overall": overall, "by_kind": kinds}, indent=2, default=str))
        return
    print()
    print(show(f"set {folder}", overall))
    print()
    for kind, figures in kinds.items():
        print(show(f"kind {kind}", figures))


if __name__ == "__main__":
    main()
