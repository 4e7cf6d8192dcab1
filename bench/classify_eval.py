"""Precision/recall of the lexicon classifier on the labelled set, per split (dev / held-out).

    .venv/bin/python bench/classify_eval.py [--errors] [--file tests/data/classify_eval.jsonl]

The lexicon was tuned looking at the ``dev`` split only; ``heldout`` measures how it
generalises.
"""

import argparse

from _django import ROOT

from incidents.classify.evaluate import evaluate, format_report, load_labelled
from incidents.classify.lexicon import classify


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", default=str(ROOT / "tests" / "data" / "classify_eval.jsonl"))
    parser.add_argument("--errors", action="store_true", help="list the misclassified posts")
    parser.add_argument("--split", choices=["dev", "heldout"], help="errors of this split only")
    args = parser.parse_args()
    posts = load_labelled(args.file)
    splits = {"all": posts, **{name: [p for p in posts if p.split == name] for name in ("dev", "heldout")}}
    for language in ("fr", "en"):
        splits[f"all, {language}"] = [p for p in posts if p.lang == language]
    for name, subset in splits.items():
        report = evaluate(subset, classify)
        print(format_report(name, report))
        print()
        if args.errors and name == (args.split or "all"):
            for post, result in report.errors:
                truth = post.category if post.relevant else "-"
                got = result.category.value if result.is_relevant else "-"
                print(f"  {post.id} [{post.split}] truth={truth} got={got} rel={result.relevance:.2f} | {post.text}")
                print(f"        {', '.join(result.evidence)}")
            print()


if __name__ == "__main__":
    main()
