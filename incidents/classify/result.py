"""What classifying a post produces."""

from __future__ import annotations

from dataclasses import dataclass, field

from incidents.categories import Category


@dataclass(frozen=True, slots=True)
class Classification:
    """Relevance (0-1: is the post about public space?) and the best category with its score (0-1).

    ``evidence`` lists the rules or words that decided, so a city can see why.
    """

    relevance: float
    category: Category
    score: float
    evidence: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_relevant(self) -> bool:
        return self.relevance >= 0.5
