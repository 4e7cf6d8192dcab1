"""
A transparent lexicon classifier: words and phrases vote for categories.

The lexicon is data (``incidents/classify/lexicon.toml``, plus a city's own file named by
``INCIDENTS_LEXICON_FILE``), compiled once into token lookups, so classifying a post costs
about one dict lookup per word. Every decision is explained by ``Classification.evidence``
(``lighting:lampadaire``, ``negated:bouchon``, ``offtopic:promotion:promo`` ...).

- Each matched term adds its weight to its category (strong 1.0, weak 0.4); at each word
  the longest phrase wins, so "passage piéton" counts once.
- A negation just before a term cancels it ("pas de travaux aujourd'hui"), except for
  absence terms where the absence is the problem ("pas d'éclairage", "plus de trottoir").
- Off-topic vocabulary (promotion, politics, leisure) lowers relevance.
- Relevance is a logistic function of the evidence; the category is the best-supported
  one (ties to the first listed), unless a precedence of the taxonomy applies (harm to
  people on foot over the works causing it); ``other`` when the post is about public
  space but names no category.
- Account mentions (``@velo_rose``, ``@clara@piaille.fr``) are names, not words: they are
  left out, but for the handles the lexicon lists (``@toulouse``).
- Apart from the vote, "side" terms say who is affected (``affects``) and whether the
  post is a follow-up (still there, fixed, same here). They neither change relevance
  nor the category, and a category term does not hide them.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from incidents.categories import Affected, Category, FollowUp
from incidents.classify.result import OFFTOPIC_EVIDENCE, Classification
from incidents.locate.normalize import MENTION, SYMBOLS, text_tokens

DEFAULT_LEXICON = Path(__file__).with_name("lexicon.toml")
STRONG_WEIGHT = 1.0
# Words naming where a problem is ("trottoir", "rocade") rather than what it is: they decide
# only when nothing in the post names a cause ("branche tombée sur le trottoir" is
# vegetation), unless a precedence of the lexicon says otherwise (works on the sidewalk).
PLACE_WEIGHT = 0.6
WEAK_WEIGHT = 0.4
# One word repeated ("trou trou trou") counts at most this many times.
MAX_REPEATS = 2
SIDE_KINDS = frozenset({"affects", "follow_up"})
SIDE_EVIDENCE = tuple(f"{kind}:" for kind in SIDE_KINDS)
# What a street's or place's name counts as once the locator has read it (a public-space cue).
NAME_STANDS_FOR = "rue"


@dataclass(frozen=True, slots=True)
class Term:
    """A word or phrase of the lexicon and what it votes for."""

    text: str
    pattern: tuple[tuple[str, bool], ...]  # (word, is_prefix) per position
    kind: str  # category, cue, neutral, offtopic, rule; side terms: affects, follow_up
    target: str  # category code, off-topic group, rule index, Affected or FollowUp value
    weight: float
    absence: bool = False
    language: str = ""
    # Most specific first when sorted: longer phrase, exact word before prefix, longer prefix.
    specificity: tuple[int, bool, int] = (0, False, 0)
    # Side terms' evidence ("affects:cyclists:velo*"), written once.
    note: str = ""

    def matches_at(self, tokens: list[str], index: int) -> bool:
        """Whether the phrase is at ``index`` (its first word is known to match there)."""
        pattern = self.pattern
        if index + len(pattern) > len(tokens):
            return False
        for offset in range(1, len(pattern)):
            word, prefix = pattern[offset]
            token = tokens[index + offset]
            if not (token.startswith(word) if prefix else token == word):
                return False
        return True


@dataclass(frozen=True, slots=True)
class Rule:
    """Add ``weight`` to ``category`` when every part is in the post; a part is found when one of its terms is."""

    parts: tuple[tuple[Term, ...], ...]
    category: str
    weight: float
    # The parts must start within this many words of each other (0: anywhere in the post).
    within: int = 0

    @property
    def part_ids(self) -> tuple[str, ...]:
        """The key each part's terms note their matches under (their ``target``: "rule.part")."""
        return tuple(alternatives[0].target for alternatives in self.parts)


@dataclass(frozen=True, slots=True)
class Precedence:
    """``category`` wins over the best-supported category when that is one of ``over``
    and the post gives ``category`` at least ``min_score`` and ``min_ratio`` times the best score."""

    category: str
    over: frozenset[str]
    min_score: float
    min_ratio: float


def _pattern(text: str) -> tuple[tuple[str, bool], ...]:
    pattern: list[tuple[str, bool]] = []
    for part in text.split():
        prefix = part.endswith("*")
        words = text_tokens(part.rstrip("*"))
        # "#travaux" is "travaux", but "+1" is "+ 1".
        words = [
            word
            for position, word in enumerate(words)
            if word not in SYMBOLS or (word == "+" and position + 1 < len(words))
        ] or words
        for position, word in enumerate(words):
            pattern.append((word, prefix and position == len(words) - 1))
    return tuple(pattern)


def _term(raw: str, kind: str, target: str, weight: float, absence: bool = False) -> Term | None:
    if raw.startswith("@"):
        return None  # a handle such as "@toulouse": its mentions keep their words (Lexicon.handles)
    text, _, language = raw.partition("@")
    pattern = _pattern(text)
    if not pattern:
        return None
    specificity = (-len(pattern), pattern[0][1], -len(pattern[0][0]))
    note = f"{kind}:{target}:{raw}" if kind in SIDE_KINDS else ""
    return Term(raw, pattern, kind, target, weight, absence, language, specificity, note)


def _handles(value) -> Iterable[str]:
    """The account handles listed anywhere in the lexicon's data ("@toulouse" -> "toulouse")."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _handles(item)
    elif isinstance(value, list):
        for item in value:
            yield from _handles(item)
    elif isinstance(value, str) and value.startswith("@"):
        yield value[1:].lower()


def _merge(base: dict, extra: dict) -> dict:
    """``extra`` over ``base``: lists are appended, tables merged, other values replaced."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        elif isinstance(value, list) and isinstance(merged.get(key), list):
            merged[key] = merged[key] + value
        else:
            merged[key] = value
    return merged


@dataclass(slots=True)
class Lexicon:
    """A compiled lexicon: terms indexed by their first word, settings, rules."""

    exact: dict[str, list[Term]]
    prefixes: dict[str, list[Term]]
    prefix_lengths: tuple[int, ...]
    emoji: dict[str, str]
    rules: list[Rule]
    precedence: list[Precedence]
    category_order: list[str]
    negators: frozenset[str]
    conditional: dict[str, frozenset[str]]
    not_after: frozenset[str]
    window: int
    slope: float
    offset: float
    cue_weight: float
    cue_cap: float
    offtopic_weight: float
    negated_weight: float
    # Words that make a following "fixed" term a wish ("il faut que ce soit réparé").
    wish: frozenset[str] = frozenset()
    # Account handles the lexicon lists ("@toulouse"), lower case: mentions of them are words.
    handles: frozenset[str] = frozenset()
    _by_token: dict[str, tuple[Term, ...]] = field(default_factory=dict)
    _side_by_token: dict[str, tuple[Term, ...]] = field(default_factory=dict)
    # (word, next word) -> the terms that can start there: (voting terms, rule parts).
    _by_pair: dict[tuple[str, str], tuple[tuple[Term, ...], tuple[Term, ...]]] = field(default_factory=dict)
    # Street and place names -> whether their words vote (see votes_in).
    _name_votes: dict[str, bool] = field(default_factory=dict)
    _emoji_pattern: re.Pattern | None = None
    _negation_triggers: frozenset[str] = frozenset()
    _rank: dict[str, int] = field(default_factory=dict)
    _rule_parts: list[frozenset[str]] = field(default_factory=list)
    # Rule part -> the numbers of the rules it is a part of.
    _rules_of_part: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.emoji:
            symbols = sorted(self.emoji, key=len, reverse=True)
            self._emoji_pattern = re.compile("|".join(re.escape(symbol) for symbol in symbols))
        self._negation_triggers = self.negators | frozenset(self.conditional)
        self._rank = {code: position for position, code in enumerate(self.category_order)}
        self._rule_parts = [frozenset(rule.part_ids) for rule in self.rules]
        rules_of_part: dict[str, list[int]] = {}
        for number, parts in enumerate(self._rule_parts):
            for part in parts:
                rules_of_part.setdefault(part, []).append(number)
        self._rules_of_part = {part: tuple(numbers) for part, numbers in rules_of_part.items()}

    @classmethod
    def from_files(cls, *paths: str | Path) -> Lexicon:
        data: dict = {}
        for path in paths:
            with open(path, "rb") as handle:
                data = _merge(data, tomllib.load(handle))
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict) -> Lexicon:
        terms: list[Term] = []
        emoji: list[tuple[str, str]] = []
        order: list[str] = []
        valid = set(Category.values)
        for code, entry in data.get("categories", {}).items():
            if code not in valid:
                raise ValueError(f"lexicon category {code!r} is not a category code ({', '.join(sorted(valid))})")
            order.append(code)
            absence = set(entry.get("absence", []))
            for raw in entry.get("strong", []):
                terms.append(_term(raw, "category", code, STRONG_WEIGHT, raw in absence))
            for raw in entry.get("place", []):
                terms.append(_term(raw, "category", code, PLACE_WEIGHT, raw in absence))
            for raw in entry.get("weak", []):
                terms.append(_term(raw, "category", code, WEAK_WEIGHT, raw in absence))
            listed = {*entry.get("strong", []), *entry.get("place", []), *entry.get("weak", [])}
            if absence - listed:
                missing = ", ".join(sorted(absence - listed))
                raise ValueError(f"lexicon {code}: absence terms must also be strong, place or weak terms: {missing}")
            emoji.extend((symbol, code) for symbol in entry.get("emoji", []))
        for raw in data.get("cues", {}).get("words", []):
            terms.append(_term(raw, "cue", "cue", 1.0))
        for raw in data.get("neutral", {}).get("words", []):
            terms.append(_term(raw, "neutral", "neutral", 0.0))
        for group, entry in data.get("offtopic", {}).items():
            for raw in entry.get("words", []):
                terms.append(_term(raw, "offtopic", group, float(entry.get("weight", 1.0))))
        rules: list[Rule] = []
        for number, entry in enumerate(data.get("rules", [])):
            if entry["category"] not in valid:
                raise ValueError(f"rule {number + 1}: {entry['category']!r} is not a category code")
            # A part is a term, or a list of terms any of which will do (["conteneur*", "poubelle*", "bin*"]).
            parts = tuple(
                alternatives
                for position, part in enumerate(entry["when"])
                if (
                    alternatives := tuple(
                        term
                        for raw in ([part] if isinstance(part, str) else part)
                        if (term := _term(raw, "rule", f"{number}.{position}", 0.0)) is not None
                    )
                )
            )
            within = int(entry.get("within", 0))
            if within < 0:
                raise ValueError(f"rule {number + 1}: within must be a number of words, 0 or more")
            rules.append(Rule(parts, entry["category"], float(entry.get("weight", 1.0)), within))
            terms.extend(term for alternatives in parts for term in alternatives)
        precedence: list[Precedence] = []
        for number, entry in enumerate(data.get("precedence", [])):
            codes = [entry["category"], *entry["over"]]
            if not valid.issuperset(codes):
                raise ValueError(
                    f"precedence {number + 1}: {', '.join(sorted(set(codes) - valid))} is not a category code"
                )
            precedence.append(
                Precedence(
                    entry["category"],
                    frozenset(entry["over"]),
                    float(entry.get("min_score", 0.0)),
                    float(entry.get("min_ratio", 0.0)),
                )
            )
        for value, entry in data.get("affects", {}).items():
            if value not in Affected.values:
                raise ValueError(f"lexicon affects {value!r} is not one of {', '.join(Affected.values)}")
            for raw in entry.get("words", []):
                terms.append(_term(raw, "affects", Affected(value), STRONG_WEIGHT))
            for raw in entry.get("weak", []):
                terms.append(_term(raw, "affects", Affected(value), WEAK_WEIGHT))
        follow_up = data.get("follow_up", {})
        unknown = set(follow_up) - {*FollowUp.values, "wish"}
        if unknown:
            raise ValueError(
                f"lexicon follow_up: {', '.join(sorted(unknown))} is not one of {', '.join(FollowUp.values)}, wish"
            )
        for kind in FollowUp:
            for raw in follow_up.get(kind.value, []):
                terms.append(_term(raw, "follow_up", kind, STRONG_WEIGHT))

        exact: dict[str, list[Term]] = {}
        prefixes: dict[str, list[Term]] = {}
        for term in terms:
            if term is None:
                continue
            word, prefix = term.pattern[0]
            (prefixes if prefix else exact).setdefault(word, []).append(term)
        negation = data.get("negation", {})
        relevance = data.get("relevance", {})
        return cls(
            exact=exact,
            prefixes=prefixes,
            prefix_lengths=tuple(sorted({len(word) for word in prefixes})),
            emoji=dict(emoji),
            rules=rules,
            precedence=precedence,
            category_order=order,
            negators=frozenset(negation.get("words", [])),
            conditional={word: frozenset(after) for word, after in negation.get("conditional", {}).items()},
            not_after=frozenset(negation.get("not_after", [])),
            window=int(negation.get("window", 3)),
            slope=float(relevance.get("slope", 2.6)),
            offset=float(relevance.get("offset", -1.3)),
            cue_weight=float(relevance.get("cue_weight", 0.25)),
            cue_cap=float(relevance.get("cue_cap", 0.5)),
            offtopic_weight=float(relevance.get("offtopic_weight", 1.0)),
            negated_weight=float(relevance.get("negated_weight", 0.5)),
            wish=frozenset(word for raw in follow_up.get("wish", []) for word in text_tokens(raw)),
            handles=frozenset(_handles(data)),
        )

    def candidates(self, token: str) -> tuple[Term, ...]:
        """Terms whose first word matches ``token``, side terms apart (both cached per distinct token)."""
        found = self._by_token.get(token)
        if found is None:
            found_list = list(self.exact.get(token, ()))
            for length in self.prefix_lengths:
                if length > len(token):
                    break
                found_list.extend(self.prefixes.get(token[:length], ()))
            # Most specific first (see classify): the first that matches sets the bar.
            found_list.sort(key=lambda term: term.specificity)
            found = tuple(term for term in found_list if term.kind not in SIDE_KINDS)
            self._by_token[token] = found
            self._side_by_token[token] = tuple(term for term in found_list if term.kind in SIDE_KINDS)
        return found

    def _at_pair(self, token: str, following: str) -> tuple[tuple[Term, ...], tuple[Term, ...]]:
        """The terms that may start at ``token`` when ``following`` comes next, split into votes and rule parts.

        The second word is checked here once per distinct pair of words, not once per post:
        common words ("on", "rue", "trottoir") start dozens of phrases, and most posts
        rule out all but a few of them by their next word.
        """
        votes: list[Term] = []
        rules: list[Term] = []
        for term in self._by_token[token]:
            if len(term.pattern) > 1:
                word, prefix = term.pattern[1]
                if not (following.startswith(word) if prefix else following == word):
                    continue
            (rules if term.kind == "rule" else votes).append(term)
        found = (tuple(votes), tuple(rules))
        self._by_pair[(token, following)] = found
        return found

    def negated(self, tokens: tuple[str, ...], index: int) -> bool:
        for position in range(max(0, index - self.window), index):
            token = tokens[position]
            if position + 1 < len(tokens) and tokens[position + 1] in self.not_after:
                continue
            if token in self.negators:
                return True
            after = self.conditional.get(token)
            if after is not None and any(t in after for t in tokens[max(0, position - 3) : position]):
                return True
        return False

    def without_mentions(self, text: str) -> str:
        """``text`` without its account mentions, but for the handles the lexicon lists."""
        if "@" not in text:
            return text
        return MENTION.sub(lambda m: m.group() if m.group(1).lower() in self.handles else " ", text)

    def votes_in(self, name: str) -> bool:
        """Whether words of ``name`` vote on their own (a category, off-topic or rule term), cached per name."""
        found = self._name_votes.get(name)
        if found is None:
            if len(self._name_votes) > 100_000:
                self._name_votes.clear()
            found = any(not item.startswith(SIDE_EVIDENCE) for item in self.classify(name).evidence)
            self._name_votes[name] = found
        return found

    def classify_named(self, text: str, language: str, names: Iterable[str]) -> Classification | None:
        """Classify ``text`` again with ``names`` (streets or places it names) read as mere places; ``None`` when
        no name holds a word that votes.

        "Rue des Trois-Pigeons", "rue des Fontaines", "Pont-Neuf", "place du Marché" are
        addresses, not pigeons, fountains, bridges or a market: the locator knows which words
        of the post are a name, the lexicon alone cannot. A name still says the post is about
        a street (the cue word :data:`NAME_STANDS_FOR` takes its place).
        """
        voting = [name for name in names if self.votes_in(name)]
        if not voting:
            return None
        masked = text
        for name in voting:
            start = masked.find(name)
            if start < 0:
                continue
            masked = f"{masked[:start]} {NAME_STANDS_FOR} {masked[start + len(name) :]}"
        return self.classify(masked, language) if masked is not text else None

    def classify(self, text: str, language: str = "") -> Classification:
        tokens = text_tokens(self.without_mentions(text))
        # Most posts hold no negation word: then no term needs the window check.
        may_negate = not self._negation_triggers.isdisjoint(tokens)
        by_token = self._by_token
        # Bounded, and emptied only between posts: a post's words stay cached while it is read.
        if len(by_token) > 200_000 or len(self._by_pair) > 400_000:
            by_token.clear()
            self._side_by_token.clear()
            self._by_pair.clear()
        for token in [token for token in tokens if token not in by_token]:
            self.candidates(token)
        # Only words that start some term are looked at.
        positions = [index for index, token in enumerate(tokens) if by_token[token]]
        language = language.split("-")[0].lower() if language and language != "und" else ""
        scores: dict[str, float] = {}
        counts: dict[str, int] = {}
        cues = offtopic = denied = 0.0
        evidence: list[str] = []
        rule_hits: dict[str, list[int]] = {}  # rule part -> the words where it starts

        by_pair = self._by_pair
        last = len(tokens) - 1
        free_from = 0
        for index in positions:
            if index < free_from:
                continue
            pair = (tokens[index], tokens[index + 1] if index < last else "")
            votes, rule_parts = by_pair.get(pair) or self._at_pair(*pair)
            # Rule parts are only noted.
            for term in rule_parts:
                if term.language and language and term.language != language:
                    continue
                if len(term.pattern) > 2 and not term.matches_at(tokens, index):
                    continue
                if not (may_negate and self.negated(tokens, index)):
                    rule_hits.setdefault(term.target, []).append(index)
            # At each word the most specific matching terms win: the longest phrase, then an
            # exact word over a prefix, then the longest prefix ("panneau*" hides "panne*").
            # All equally specific terms vote ("arraché" for signage and vandalism alike).
            best = None
            winners: list[Term] = []
            for term in votes:
                if best is not None and term.specificity != best:
                    break  # sorted most specific first: the rest are less specific
                if term.language and language and term.language != language:
                    continue
                if len(term.pattern) > 2 and not term.matches_at(tokens, index):
                    continue
                best = term.specificity
                winners.append(term)
            if not winners:
                continue
            free_from = index + len(winners[0].pattern)
            negated = may_negate and self.negated(tokens, index)
            for term in winners:
                if term.kind == "neutral":
                    continue
                if negated and not term.absence:
                    if term.kind == "category" and term.weight >= PLACE_WEIGHT:
                        denied += term.weight
                    evidence.append(f"negated:{term.text}")
                    continue
                seen = counts.get(term.text, 0)
                if seen >= MAX_REPEATS:
                    continue
                counts[term.text] = seen + 1
                if term.kind == "category":
                    scores[term.target] = scores.get(term.target, 0.0) + term.weight
                    evidence.append(f"{term.target}:{term.text}")
                elif term.kind == "cue":
                    cues += self.cue_weight
                else:
                    offtopic += term.weight
                    evidence.append(f"{OFFTOPIC_EVIDENCE}{term.target}:{term.text}")

        if self._emoji_pattern is not None and not text.isascii():
            for symbol in dict.fromkeys(self._emoji_pattern.findall(text)):
                code = self.emoji[symbol]
                scores[code] = scores.get(code, 0.0) + STRONG_WEIGHT
                evidence.append(f"{code}:{symbol}")
        if rule_hits:
            found = rule_hits.keys()
            rules_of_part = self._rules_of_part
            # Only the rules a found part belongs to, in the lexicon's order (that of the evidence).
            for number in sorted({number for part in found for number in rules_of_part[part]}):
                rule = self.rules[number]
                # The set comparison first (most posts hit a part or two of a few rules).
                if self._rule_parts[number] <= found and (not rule.within or _close(rule, rule_hits)):
                    scores[rule.category] = scores.get(rule.category, 0.0) + rule.weight
                    evidence.append(f"{rule.category}:rule {number + 1}")

        affects, follow_up = self._side(tokens, language, may_negate, evidence)
        return self._decide(scores, min(cues, self.cue_cap), offtopic, denied, evidence, affects, follow_up)

    def _side(
        self, tokens: tuple[str, ...], language: str, may_negate: bool, evidence: list[str]
    ) -> tuple[tuple[Affected, ...], FollowUp | None]:
        """Who is affected and the follow-up kind, from the side terms (most specific at each word, as above).

        ``weak`` affects terms count only when no other term names a group. A negated
        "fixed" ("pas réparé", "not fixed") says "still"; one after a wish word is no
        news. Of "still" and "fixed" the one said last wins; "same" only when neither is said.
        """
        side = self._side_by_token
        positions = [index for index, token in enumerate(tokens) if side[token]]
        if not positions:
            return (), None
        named: set[Affected] = set()
        hinted: set[Affected] = set()
        state: FollowUp | None = None
        same = False
        free_from = 0
        for index in positions:
            if index < free_from:
                continue
            best = None
            for term in side[tokens[index]]:
                if best is not None and term.specificity != best:
                    break
                if term.language and language and term.language != language:
                    continue
                if len(term.pattern) > 1 and not term.matches_at(tokens, index):
                    continue
                best = term.specificity
                free_from = index + len(term.pattern)
                if term.kind == "affects":
                    (named if term.weight == STRONG_WEIGHT else hinted).add(term.target)
                    evidence.append(term.note)
                    continue
                kind = term.target
                note = term.note
                if kind is FollowUp.FIXED:
                    if not self.wish.isdisjoint(tokens[max(0, index - self.window) : index]):
                        evidence.append(f"wish:{term.text}")
                        continue
                    if may_negate and self.negated(tokens, index):
                        kind = FollowUp.STILL
                        note = f"follow_up:{kind.value}:negated:{term.text}"
                if kind is FollowUp.SAME:
                    same = True
                else:
                    state = kind
                evidence.append(note)
        return tuple(sorted(named or hinted)), state or (FollowUp.SAME if same else None)

    def _decide(
        self,
        scores: dict[str, float],
        cues: float,
        offtopic: float,
        denied: float,
        evidence: list[str],
        affects: tuple[Affected, ...],
        follow_up: FollowUp | None,
    ) -> Classification:
        total = sum(scores.values())
        strength = total + cues - self.offtopic_weight * offtopic - self.negated_weight * denied
        relevance = 1.0 / (1.0 + math.exp(-(self.slope * strength + self.offset)))
        if not scores:
            return Classification(
                relevance=round(relevance, 4),
                category=Category.OTHER,
                score=0.0,
                evidence=tuple(evidence),
                affects=affects,
                follow_up=follow_up,
            )
        rank = self._rank
        category = max(scores, key=lambda code: (scores[code], -rank.get(code, len(rank))))
        for rule in self.precedence:
            score = scores.get(rule.category, 0.0)
            if category in rule.over and score >= rule.min_score and score >= rule.min_ratio * scores[category]:
                evidence.append(f"{rule.category}:precedence over {category}")
                category = rule.category
                break
        best = scores[category]
        score = (best / total) * (1.0 - math.exp(-best))
        return Classification(
            relevance=round(relevance, 4),
            category=Category(category),
            score=round(score, 4),
            evidence=tuple(evidence),
            affects=affects,
            follow_up=follow_up,
        )


def _close(rule: Rule, hits: dict[str, list[int]]) -> bool:
    """Whether the parts of ``rule`` (all found) start within ``rule.within`` words of each other."""
    first, *others = rule.part_ids
    return any(
        all(any(abs(start - at) <= rule.within for at in hits[other]) for other in others) for start in hits[first]
    )


@lru_cache(maxsize=4)
def _lexicon_for(city_file: str) -> Lexicon:
    paths = [DEFAULT_LEXICON, *([city_file] if city_file else [])]
    return Lexicon.from_files(*paths)


def get_lexicon() -> Lexicon:
    """The default lexicon merged with the city's ``INCIDENTS_LEXICON_FILE`` (compiled once)."""
    return _lexicon_for(settings.INCIDENTS_LEXICON_FILE or "")


def classify(text: str, language: str = "") -> Classification:
    """Return the relevance and best category of ``text``."""
    return get_lexicon().classify(text, language)


def classify_many(pairs: Iterable[tuple[str, str]]) -> list[Classification]:
    """Classify ``(text, language)`` pairs."""
    lexicon = get_lexicon()
    return [lexicon.classify(text, language) for text, language in pairs]
