"""What classifying a post produces."""

from __future__ import annotations

from dataclasses import dataclass, field

from incidents.categories import Affected, Category, FollowUp

# How evidence names an off-topic term ("offtopic:promotion:promo"): the lexicon writes it, off_topic reads it.
OFFTOPIC_EVIDENCE = "offtopic:"
# The relevance from which a post is about public space.
RELEVANCE_LINE = 0.5


@dataclass(frozen=True, slots=True)
class Classification:
    """Relevance (0-1: is the post about public space?) and the best category with its score (0-1).

    ``affects``: who the text says the problem harms (sorted codes, read whether or not
    the post is relevant). ``follow_up``: the text reads as a follow-up to a problem
    already reported (still there, fixed, same here), ``None`` otherwise; it never
    changes relevance, so a reply that names no problem stays irrelevant on its own and
    the pipeline decides whether its parent, or the street it names, makes it relevant. ``evidence`` lists the
    rules or words that decided, so a city can see why.
    """

    relevance: float
    category: Category
    score: float
    evidence: tuple[str, ...] = field(default_factory=tuple)
    affects: tuple[Affected, ...] = ()
    follow_up: FollowUp | None = None

    @property
    def is_relevant(self) -> bool:
        return self.relevance >= RELEVANCE_LINE

    @property
    def off_topic(self) -> bool:
        """Whether the text says something the city does not act on (a promotion, a match, politics)."""
        return any(item.startswith(OFFTOPIC_EVIDENCE) for item in self.evidence)
