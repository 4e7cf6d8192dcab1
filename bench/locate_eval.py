"""Share of posts located within 50 m, by case kind and by method, on the Toulouse fixture streets.

    .venv/bin/python bench/locate_eval.py [--failures KIND]

Builds the gazetteer from fixtures/toulouse/*.geojson in memory (the same code path as
Locator.from_database() after reading the rows) and runs tests/data/locate_eval.jsonl.
"""

import argparse

from _django import ROOT

from incidents.locate.evaluate import evaluate, format_report, load_cases
from incidents.locate.gazetteer import Gazetteer, load_landmarks
from incidents.locate.locator import Locator
from tests.fixture_streets import fixture_street_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", default=str(ROOT / "tests" / "data" / "locate_eval.jsonl"))
    parser.add_argument("--failures", metavar="KIND", help="list the misses of this kind ('all' for every kind)")
    args = parser.parse_args()
    gazetteer = Gazetteer.build(fixture_street_rows(), load_landmarks())
    print(f"gazetteer: {len(gazetteer)} streets, built in {gazetteer.build_seconds:.2f} s")
    report = evaluate(Locator(gazetteer), load_cases(args.file))
    print(format_report(report))
    if args.failures:
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
