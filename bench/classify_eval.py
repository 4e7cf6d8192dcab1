"""Precision/recall of the lexicon classifier on the labelled set, per split (dev / held-out).

    .venv/bin/python bench/classify_eval.py [--split dev] [--errors] [--file tests/data/classify_eval.jsonl]

Relevance, categories, who is affected (per value, and the exact set) and follow-ups
(per kind). The lexicon is tuned looking at the ``dev`` split only (``--split dev
--errors``: no held-out figure printed); ``heldout`` measures how it generalises.
"""

import argparse

from _django import ROOT

from incidents.classify.evaluate import evaluate, format_report, load_labelled
from incidents.classify.lexicon import classify


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", default=str(ROOT / "tests" / "data" / "classify_eval.jsonl"))
    parser.add_argument("--errors", action="store_true", help="list the posts with a wrong decision")
    parser.add_argument("--split", choices=["dev", "heldout"], help="figures and errors of this split only")
    args = parser.parse_args()
    posts = load_labelled(args.file)
    if args.split:
        splits = {args.split: [p for p in posts if p.split == args.split]}
    else:
        splits = {"all": posts, **{name: [p for p in posts if p.split == name] for name in ("dev", "heldout")}}
        for language in ("fr", "en"):
            splits[f"all, {language}"] = [p for p in posts if p.lang == language]
    for name, subset in splits.items():
        report = evaluate(subset, classify)
        print(format_report(name, report))
        print()
        if args.errors and name == (args.split or "all"):
            print_errors(report)


def print_errors(report) -> None:
    print("-- relevance or category")
    for post, result in report.errors:
        truth = post.category if post.relevant else "-"
        got = result.category.value if result.is_relevant else "-"
        print(f"  {post.id} [{post.split}] truth={truth} got={got} rel={result.relevance:.2f} | {post.text}")
        print(f"        {', '.join(result.evidence)}")
    print("-- affects (posts relevant in truth)")
    for post, result in report.affects_errors:
        truth, got = ",".join(sorted(post.affects)) or "-", ",".join(result.affects) or "-"
        print(f"  {post.id} [{post.split}] truth={truth} got={got} | {post.text}")
    print("-- follow-up")
    for post, result in report.follow_up_errors:
        print(f"  {post.id} [{post.split}] truth={post.follow_up or '-'} got={result.follow_up or '-'} | {post.text}")
    print()


if __name__ == "__main__":
    main()
