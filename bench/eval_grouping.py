#!/usr/bin/env python3
"""
Evaluate the grouping of posts into incidents against a labelled set.

    .venv/bin/python bench/eval_grouping.py

``tests/data/grouping/labelled_posts.jsonl`` holds posts (the documented flat columns)
with ``incident``: the problem each was written about (empty for posts about nothing).
They are written by ``scripts/generate_demo_posts.py`` like the demo, over the real
Toulouse streets and works, with hard cases on purpose: the same kind of problem a
block away on the same street, the same problem reported again weeks later, GPS noise,
posts in English. The script loads the Toulouse fixtures into a scratch database,
ingests the set through the whole pipeline and compares the incidents with the truth:

- pairwise precision: of the pairs of posts put in one incident, the share about one problem;
- pairwise recall: of the pairs of posts about one problem, the share put in one incident;
- purity / completeness: how much each incident is one problem, and each problem one incident;
- coverage: labelled posts that reached an incident (they must be classified relevant and
  located first, so this moves with the locator and the classifier).

Posts that reach no incident are left out of the pairwise figures; a post about nothing
that lands in an incident counts as a problem of its own, so it costs precision.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from math import comb
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LABELLED = ROOT / "tests" / "data" / "grouping" / "labelled_posts.jsonl"
EVAL_DB = "cityincidents_eval"


def evaluate(path: Path = LABELLED, source: str = "eval") -> dict[str, float]:
    """Ingest the labelled posts into the current database and score the incidents they form."""
    from incidents.models import Post
    from incidents.pipeline.ingest import ingest
    from incidents.sources.columns import row_item

    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    items = [row_item(row, position=f"line {n}", source=source) for n, row in enumerate(rows, start=1)]
    ingest(items, synchronous=True)
    predicted = dict(Post.objects.filter(source=source).values_list("external_id", "incident_id"))
    # A post about nothing is a problem of its own: grouping it with anything is a mistake.
    truth = {row["id"]: row["incident"] or f"nothing:{row['id']}" for row in rows}
    labelled = [post_id for post_id, label in truth.items() if not label.startswith("nothing:")]
    grouped = [post_id for post_id in truth if predicted.get(post_id) is not None]

    cells = Counter((predicted[post_id], truth[post_id]) for post_id in grouped)
    incidents = Counter(predicted[post_id] for post_id in grouped)
    problems = Counter(truth[post_id] for post_id in grouped)
    together = sum(comb(n, 2) for n in cells.values())
    grouped_pairs = sum(comb(n, 2) for n in incidents.values())
    true_pairs = sum(comb(n, 2) for n in problems.values())
    best_problem: dict = {}
    best_incident: dict = {}
    for (incident, problem), n in cells.items():
        best_problem[incident] = max(best_problem.get(incident, 0), n)
        best_incident[problem] = max(best_incident.get(problem, 0), n)
    precision = together / grouped_pairs if grouped_pairs else 1.0
    recall = together / true_pairs if true_pairs else 1.0
    return {
        "posts": len(rows),
        "labelled": len(labelled),
        "grouped": len(grouped),
        "coverage": sum(1 for post_id in labelled if predicted.get(post_id) is not None) / len(labelled),
        "incidents": len(incidents),
        "problems": len(problems),
        "pair_precision": precision,
        "pair_recall": recall,
        "pair_f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "purity": sum(best_problem.values()) / len(grouped) if grouped else 1.0,
        "completeness": sum(best_incident.values()) / len(grouped) if grouped else 1.0,
        "nothing_grouped": sum(1 for post_id in grouped if truth[post_id].startswith("nothing:")),
    }


def main() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityincidents.settings")
    os.environ.setdefault("DJANGO_DEBUG", "1")
    import django

    django.setup()
    from bench.city import load_toulouse, scratch_database

    with scratch_database(EVAL_DB):
        load_toulouse()
        scores = evaluate()
    print(f"labelled set: {LABELLED.relative_to(ROOT)}")
    print(
        f"{scores['posts']} posts, {scores['labelled']} about a problem; {scores['grouped']} reached an incident "
        f"(coverage {scores['coverage']:.1%}); {scores['incidents']} incidents for {scores['problems']} problems"
    )
    pairwise = f"precision {scores['pair_precision']:.3f}  recall {scores['pair_recall']:.3f}"
    print(f"pairwise {pairwise}  F1 {scores['pair_f1']:.3f}")
    print(f"purity {scores['purity']:.3f}  completeness {scores['completeness']:.3f}")
    print(f"posts about nothing put in an incident: {scores['nothing_grouped']}")


if __name__ == "__main__":
    main()
