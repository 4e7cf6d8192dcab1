"""Measure the classifier on a labelled set: relevance, categories, who is affected, follow-ups.

The set is JSON lines: ``{"id", "split", "lang", "relevant", "category", "affects",
"follow_up", "text"}`` (``category`` is null for irrelevant posts, ``follow_up`` null for
posts that are no follow-up); see ``tests/data/README.md``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from incidents.categories import Affected, Category, FollowUp
from incidents.classify.result import Classification


@dataclass(frozen=True, slots=True)
class LabelledPost:
    id: str
    split: str
    lang: str
    relevant: bool
    category: str | None
    text: str
    affects: frozenset[str] = frozenset()
    follow_up: str | None = None


@dataclass(slots=True)
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(slots=True)
class Report:
    """Scores of one run over a set of labelled posts."""

    posts: int = 0
    relevance: Counts = field(default_factory=Counts)
    categories: dict[str, Counts] = field(default_factory=dict)
    # Posts relevant in truth and prediction whose category is right.
    category_hits: int = 0
    category_total: int = 0
    errors: list[tuple[LabelledPost, Classification]] = field(default_factory=list)
    # Per Affected value, on posts relevant in truth; and how many of those get the exact set.
    affects: dict[str, Counts] = field(default_factory=dict)
    affects_exact: int = 0
    affects_total: int = 0
    affects_errors: list[tuple[LabelledPost, Classification]] = field(default_factory=list)
    # Per FollowUp kind, on every post; ``follow_up_any``: follow-up or not, whatever the kind.
    follow_up: dict[str, Counts] = field(default_factory=dict)
    follow_up_any: Counts = field(default_factory=Counts)
    follow_up_errors: list[tuple[LabelledPost, Classification]] = field(default_factory=list)

    @property
    def category_accuracy(self) -> float:
        return self.category_hits / self.category_total if self.category_total else 1.0

    @property
    def macro_f1(self) -> float:
        scores = [counts.f1 for counts in self.categories.values()]
        return sum(scores) / len(scores) if scores else 0.0

    @property
    def affects_accuracy(self) -> float:
        return self.affects_exact / self.affects_total if self.affects_total else 1.0


def load_labelled(path: str | Path) -> list[LabelledPost]:
    posts = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            item = json.loads(line)
            category = item.get("category")
            if category is not None and category not in Category.values:
                raise ValueError(f"{path}:{number}: unknown category {category!r}")
            affects = frozenset(item.get("affects", ()))
            if affects - set(Affected.values):
                raise ValueError(f"{path}:{number}: unknown affects {sorted(affects - set(Affected.values))}")
            follow_up = item.get("follow_up")
            if follow_up is not None and follow_up not in FollowUp.values:
                raise ValueError(f"{path}:{number}: unknown follow_up {follow_up!r}")
            posts.append(
                LabelledPost(
                    item["id"],
                    item.get("split", ""),
                    item.get("lang", ""),
                    bool(item["relevant"]),
                    category,
                    item["text"],
                    affects,
                    follow_up,
                )
            )
    return posts


def evaluate(
    posts: Iterable[LabelledPost], classify: Callable[[str, str], Classification], threshold: float = 0.5
) -> Report:
    """Classify every post and count hits per category (a post counts for a category when relevant).

    Who is affected is scored on the posts relevant in truth, follow-ups on every post.
    """
    report = Report(
        categories={code: Counts() for code in Category.values},
        affects={value: Counts() for value in Affected.values},
        follow_up={kind: Counts() for kind in FollowUp.values},
    )
    for post in posts:
        result = classify(post.text, post.lang)
        report.posts += 1
        predicted_relevant = result.relevance >= threshold
        truth = post.category if post.relevant else None
        predicted = result.category.value if predicted_relevant else None
        if post.relevant and predicted_relevant:
            report.relevance.tp += 1
        elif predicted_relevant:
            report.relevance.fp += 1
        elif post.relevant:
            report.relevance.fn += 1
        if truth == predicted and truth is not None:
            report.categories[truth].tp += 1
        else:
            if predicted is not None:
                report.categories[predicted].fp += 1
            if truth is not None:
                report.categories[truth].fn += 1
        if post.relevant and predicted_relevant:
            report.category_total += 1
            report.category_hits += truth == predicted
        if truth != predicted:
            report.errors.append((post, result))
        if post.relevant:
            found = set(result.affects)
            for value, counts in report.affects.items():
                _count(counts, value in post.affects, value in found)
            report.affects_total += 1
            report.affects_exact += found == post.affects
            if found != post.affects:
                report.affects_errors.append((post, result))
        for kind, counts in report.follow_up.items():
            _count(counts, post.follow_up == kind, result.follow_up == kind)
        _count(report.follow_up_any, post.follow_up is not None, result.follow_up is not None)
        if post.follow_up != result.follow_up:
            report.follow_up_errors.append((post, result))
    return report


def _count(counts: Counts, truth: bool, predicted: bool) -> None:
    counts.tp += truth and predicted
    counts.fp += predicted and not truth
    counts.fn += truth and not predicted


def format_report(name: str, report: Report) -> str:
    lines = [
        f"== {name}: {report.posts} posts",
        f"relevance   precision {report.relevance.precision:.3f}  recall {report.relevance.recall:.3f}  "
        f"f1 {report.relevance.f1:.3f}",
        f"category accuracy on posts relevant in truth and prediction: {report.category_accuracy:.3f} "
        f"({report.category_hits}/{report.category_total});  macro-F1 {report.macro_f1:.3f}",
        f"{'category':32} {'prec':>6} {'recall':>6} {'f1':>6} {'support':>7}",
    ]
    for code, counts in report.categories.items():
        lines.append(_row(code, counts))
    lines += [
        f"affects, on posts relevant in truth: exact set {report.affects_accuracy:.3f} "
        f"({report.affects_exact}/{report.affects_total})",
        f"{'affected':32} {'prec':>6} {'recall':>6} {'f1':>6} {'support':>7}",
        *(_row(value, counts) for value, counts in report.affects.items()),
        f"{'follow-up':32} {'prec':>6} {'recall':>6} {'f1':>6} {'support':>7}",
        _row("any kind", report.follow_up_any),
        *(_row(kind, counts) for kind, counts in report.follow_up.items()),
    ]
    return "\n".join(lines)


def _row(name: str, counts: Counts) -> str:
    support = counts.tp + counts.fn
    return f"{name:32} {counts.precision:6.3f} {counts.recall:6.3f} {counts.f1:6.3f} {support:7d}"
