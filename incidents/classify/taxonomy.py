"""
Related categories and the category of an incident whose posts disagree.

A barrier across a crossing is reported as works by one person, as a blocked crossing by
another, as a missing marking by a third: at one spot and time, the codes of one family
may describe one problem. The grouping asks :func:`related` whether two posts may join
one incident, and :func:`incident_category` which category the incident then carries.
``docs/taxonomy.md`` explains the boundaries and these rules.
"""

from __future__ import annotations

from collections.abc import Mapping

from incidents.categories import Category

# Codes that may describe one problem seen from different sides. A code in no family is
# related only to itself.
FAMILIES: tuple[frozenset[Category], ...] = (
    frozenset({Category.PEDESTRIAN_CROSSING_SIDEWALK, Category.WORKS_OBSTRUCTION, Category.SIGNAGE_MARKING}),
)

# Ties between equally frequent codes go to the first here. Harm to people on foot first:
# the taxonomy files it before its cause (the works link shows the works), and it is the
# harm the city must not miss. Works before marking: a marking missing at a worksite is
# usually the works' doing. Then the taxonomy's order, "other" last: any named problem
# says more than "other".
_FIRST = (Category.PEDESTRIAN_CROSSING_SIDEWALK, Category.WORKS_OBSTRUCTION, Category.SIGNAGE_MARKING)
PRECEDENCE: tuple[Category, ...] = (
    *_FIRST,
    *(code for code in Category if code not in _FIRST and code != Category.OTHER),
    Category.OTHER,
)
_RANK = {code: rank for rank, code in enumerate(PRECEDENCE)}
_FAMILY = {code: family for family in FAMILIES for code in family}


def family(code: str) -> frozenset[Category]:
    """Return the codes related to ``code`` (itself included)."""
    category = Category(code)
    return _FAMILY.get(category, frozenset({category}))


def related(a: str, b: str) -> bool:
    """Return whether posts of categories ``a`` and ``b`` may be about one problem."""
    return Category(b) in family(a)


def incident_category(counts: Mapping[str, int]) -> Category:
    """Return the category of an incident whose posts have ``counts`` (code -> number of posts).

    The most frequent code wins; equally frequent codes are decided by :data:`PRECEDENCE`.
    Raise ``ValueError`` when no code has a post.
    """
    present = [(count, Category(code)) for code, count in counts.items() if count > 0]
    if not present:
        raise ValueError("an incident's category needs at least one post with a category")
    return min(present, key=lambda item: (-item[0], _RANK[item[1]]))[1]
