"""Share of posts located within 50 m, by case kind and by method, on the Toulouse fixture streets.

    .venv/bin/python bench/locate_eval.py [--set generated|dev|heldout|all] [--failures KIND]

Builds the gazetteer from fixtures/toulouse/*.geojson in memory (the same code path as
Locator.from_database() after reading the rows) and runs the evaluation sets of
tests/data, each reported apart:

- ``generated``: tests/data/locate_eval.jsonl, written by bench/make_locate_eval.py from the
  fixture streets and the landmarks file (it measures the locator against its generator);
- ``dev``: tests/data/locate_dev.jsonl, hand-written, tuned on;
- ``heldout``: tests/data/locate_heldout.jsonl, hand-written before tuning, never tuned on.
"""

import argparse

from _django import ROOT

from incidents.locate.evaluate import evaluate, format_report, load_cases
from incidents.locate.gazetteer import Gazetteer, load_landmarks
from incidents.locate.locator import Locator
from tests.fixture_streets import fixture_street_rows

SETS = {
    "generated": "locate_eval.jsonl",
    "dev": "locate_dev.jsonl",
    "heldout": "locate_heldout.jsonl",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=[*SETS, "all"], default="all")
    parser.add_argument("--file", help="another case file (JSON lines) instead of the sets")
    parser.add_argument("--failures", metavar="KIND", help="list the misses of this kind ('all' for every kind)")
    args = parser.parse_args()
    gazetteer = Gazetteer.build(fixture_street_rows(), load_landmarks())
    print(f"gazetteer: {len(gazetteer)} streets, built in {gazetteer.build_seconds:.2f} s")
    locator = Locator(gazetteer)
    if args.file:
        files = {args.file: args.file}
    else:
        names = SETS if args.set == "all" else {args.set: SETS[args.set]}
        files = {name: ROOT / "tests" / "data" / file for name, file in names.items()}
    for name, path in files.items():
        report = evaluate(locator, load_cases(path))
        print(f"\n=== {name} ({path}) ===")
        print(format_report(report))
        if not args.failures:
            continue
        for kind, score in report.kinds.items():
            if args.failures not in (kind, "all"):
                continue
            for case, location in score.failures:
                print(f"  [{kind}] {case['text']!r} truth={case.get('street')} ({case.get('commune')})")
                print(
                    f"        -> {location.method} {location.matched_text!r} acc={location.accuracy_m} {location.note}"
                )


if __name__ == "__main__":
    main()
