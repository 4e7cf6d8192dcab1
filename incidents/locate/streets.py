"""
Find street names in a post's text: typed names, short forms, typos, hashtags, crossings.

:func:`scan` reads the text once through the shared tokeniser and returns what it saw:
the street mentions (each with the candidate names it may mean), the crossings and
"between" spans they form, and the communes and landmarks named outside them. Choosing
among homonymous streets and computing points is the locator's job
(:mod:`incidents.locate.locator`).

How a mention is recognised, strongest first:

1. a street type then a name, longest match ("r. de Metz", "Allées Jean-Jaurès",
   "bd de Strasbourg"), allowing one typo per long word ("rue d'Alsace-Loraine") and a
   misspelt long type ("boulevrd");
2. a short form without first names or titles ("allées Jaurès", "av. de Gaulle");
3. a hashtag (#RueDeMetz, #ruedemetz, #JeanJaures);
4. a name whose type is wrong ("avenue de Metz" when only a rue exists);
5. a name without type where the context says it is a street: next to a crossing cue or
   connector ("angle Metz / Alsace-Lorraine"), or after a place preposition for long
   unambiguous names ("bouchon sur Alsace Lorraine").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from incidents.locate.gazetteer import END, ONLY, Gazetteer, Landmark
from incidents.locate.normalize import (
    STREET_TYPES,
    SYMBOLS,
    canonical_word,
    merge_compound_types,
    text_tokens,
    word_set,
)

# Type words that are also everyday words ("pas", "car", "all", "cours", "port"): the
# name after them must match exactly, never through a typo.
AMBIGUOUS_TYPE_WORDS = word_set(
    "pas pass car all lot res port cours voie qu sq tra esp ch che prom cite jard pont sente imp"
)
# Full type words long enough to recognise with one typo ("boulvard", "avnue", "impase").
TYPO_TYPE_WORDS = ("avenue", "boulevard", "allees", "impasse", "chemin", "passage", "esplanade", "promenade")
# Words saying two streets meet ("au croisement de", "à l'angle de", "at the corner of").
CROSSING_CUES = word_set(
    "croisement carrefour angle intersection coin niveau hauteur corner junction crossroads intersect"
)
# Words joining the two streets of a crossing ("X / Y", "X et Y", "X x Y").
CONNECTORS = frozenset({"/", "&", "+", "x", "et", "and", "avec", "with", "vs"})
# Words allowed between two streets of one crossing or "between" phrase.
GAP_WORDS = (
    CROSSING_CUES
    | CONNECTORS
    | frozenset(
        [
            "de",
            "la",
            "le",
            "les",
            "du",
            "des",
            "d",
            "l",
            "au",
            "aux",
            "a",
            "the",
            "of",
            "at",
            "with",
            "entre",
            "between",
            "sur",
            "on",
            "en",
        ]
    )
)
BETWEEN_CUES = frozenset({"entre", "between"})
# Words after which a name without type is read as a street ("sur Alsace Lorraine").
PLACE_PREPOSITIONS = word_set("sur a au vers pres devant niveau dans on at near along")
ARTICLES = frozenset(["la", "le", "l", "les", "the"])
# A crossing or "between" phrase spans at most this many words between the streets.
MAX_GAP_TOKENS = 6

# Token -> canonical words, cached: a post costs one dict lookup per word.
_CANON: dict[str, tuple[str, ...]] = {}


def _canon(token: str) -> tuple[str, ...]:
    canon = _CANON.get(token)
    if canon is None:
        canon = () if token in SYMBOLS else canonical_word(token)
        if len(_CANON) > 200_000:
            _CANON.clear()
        _CANON[token] = canon
    return canon


@dataclass(slots=True)
class Mention:
    """Words of the text that name a street, and which official names they may mean."""

    start: int  # index in the canonical stream
    end: int  # exclusive
    raw_start: int  # index in the raw tokens
    raw_end: int  # exclusive
    keys: tuple[str, ...]
    kind: str  # typed, short, hashtag, wrong_type, untyped
    edits: int = 0


@dataclass(slots=True)
class TextEvidence:
    """What :func:`scan` found in one text."""

    raw: tuple[str, ...]
    mentions: list[Mention] = field(default_factory=list)
    crossings: list[tuple[Mention, Mention]] = field(default_factory=list)
    betweens: list[tuple[Mention, Mention, Mention]] = field(default_factory=list)
    communes: list[str] = field(default_factory=list)
    landmarks: list[Landmark] = field(default_factory=list)


def _walk(gazetteer: Gazetteer, node: dict, stream: list[str], pos: int, fuzzy: bool, edits: int = 0):
    """Longest name in trie ``node`` from ``stream[pos]``: ``(end, payload, edits)`` or ``None``."""
    best = None
    payload = node.get(END)
    if payload is None and ONLY in node and len(stream[pos - 1]) >= 4:
        payload = node[ONLY]
    if payload is not None:
        best = (pos, payload, edits)
    if pos < len(stream):
        token = stream[pos]
        child = node.get(token)
        if child is not None:
            found = _walk(gazetteer, child, stream, pos + 1, fuzzy, edits)
            if found is not None and (best is None or found[0] > best[0]):
                best = found
        elif fuzzy and edits == 0:
            # A typo may read as several names ("rue de la Bouse": BOULE or BOURSE). The longest
            # reading wins; readings as long as each other are all kept, so that the street
            # is chosen among them as among homonyms (the text's other clues, else a lower
            # accuracy and a note), not by which one happened to be tried first.
            for candidate in gazetteer.fuzzy(token):
                child = node.get(candidate)
                if child is None:
                    continue
                found = _walk(gazetteer, child, stream, pos + 1, fuzzy, edits + 1)
                if found is None:
                    continue
                if best is None or found[0] > best[0]:
                    best = found
                elif found[0] == best[0] and best[2]:
                    best = (best[0], [*best[1], *(value for value in found[1] if value not in best[1])], best[2])
    return best


# Particles a glued hashtag may keep or drop: "#PlaceLaBourse", "#RueDePlage".
GLUED_PARTICLES = ("des", "de", "du", "la", "le", "les", "l", "d")


def _without_leading_particles(glued: str) -> list[str]:
    """``glued`` and the forms left after removing leading particles ("delabourse" -> "labourse", "bourse")."""
    forms = [glued]
    frontier = [glued]
    for _ in range(3):
        frontier = [
            rest[len(particle) :]
            for rest in frontier
            for particle in GLUED_PARTICLES
            if rest.startswith(particle) and len(rest) - len(particle) >= 3
        ]
        forms.extend(frontier)
    return forms


def _one_edit_variants(word: str) -> set[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return (
        {a + b[1:] for a, b in splits if b}
        | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        | {a + c + b[1:] for a, b in splits if b for c in letters}
        | {a + c + b for a, b in splits for c in letters}
    )


# Misspelt long type words ("boulvard", "avnue", "impase") -> canonical type; a few
# thousand strings, so recognising one is a set lookup.
TYPE_TYPOS: dict[str, str] = {
    variant: STREET_TYPES[word]
    for word in TYPO_TYPE_WORDS
    for variant in _one_edit_variants(word)
    if len(variant) >= 5 and variant not in STREET_TYPES
}


class _Scanner:
    def __init__(self, gazetteer: Gazetteer, text: str) -> None:
        self.g = gazetteer
        raw = text_tokens(text)
        self.raw = raw if "rond" not in raw and "rd" not in raw else tuple(merge_compound_types(raw))
        cache = _CANON
        pairs = [
            (word, index)
            for index, token in enumerate(self.raw)
            for word in (cache[token] if token in cache else _canon(token))
        ]
        self.stream = [word for word, _ in pairs]
        self.stream_raw = [index for _, index in pairs]
        self.covered = [False] * len(self.stream)
        self.mentions: list[Mention] = []

    def add(self, start: int, end: int, keys: tuple[str, ...], kind: str, edits: int = 0) -> Mention:
        mention = Mention(start, end, self.stream_raw[start], self.stream_raw[end - 1] + 1, keys, kind, edits)
        self.mentions.append(mention)
        for index in range(start, end):
            self.covered[index] = True
        return mention

    def free(self, start: int, end: int) -> bool:
        return not any(self.covered[start:end])

    # --- pass 1: typed names and hashtags -------------------------------------------------

    def typed(self) -> None:
        g, stream = self.g, self.stream
        roots = g.typed
        # Only words that can start a name are looked at (one set/dict test per word).
        starts = [i for i, token in enumerate(stream) if token in roots or token in STREET_TYPES or token in TYPE_TYPOS]
        end_of_last = 0
        for index in starts:
            if index < end_of_last:
                continue
            token = stream[index]
            street_type = STREET_TYPES.get(token, token)
            node = roots.get(street_type)
            if node is None and token in TYPE_TYPOS and index + 1 < len(stream) and stream[index + 1] in g.bodies:
                street_type = TYPE_TYPOS[token]
                node = roots.get(street_type)
            found = None
            if node is not None:
                found = _walk(g, node, stream, index + 1, fuzzy=token not in AMBIGUOUS_TYPE_WORDS)
                if found is not None and found[0] == index + 1 and token == street_type and token in STREET_TYPES:
                    found = None  # a bare type word is not a street
            if found is not None:
                end, payload, edits = found
                exact = tuple(key for key, alias in payload if not alias)
                keys = exact or tuple(key for key, _ in payload)
                self.add(index, end, keys, "typed" if exact else "short", edits)
                end_of_last = end
                continue
            if token in STREET_TYPES and token not in AMBIGUOUS_TYPE_WORDS:
                # Wrong type: "avenue de Metz" when only "RUE DE METZ" exists.
                found = _walk(g, g.bodies, stream, index + 1, fuzzy=False)
                if found is not None and (found[0] - index - 1 >= 2 or len(stream[index + 1]) >= 6):
                    self.add(index, found[0], found[1], "wrong_type")
                    end_of_last = found[0]

    def hashtags(self) -> None:
        g, raw = self.g, self.raw
        for index, token in enumerate(raw[:-1]):
            if token != "#":  # noqa: S105 (a hashtag sign, not a secret)
                continue
            tag = raw[index + 1]
            keys: list[str] = []
            for cut in range(1, min(len(tag), 10)):
                street_type = STREET_TYPES.get(tag[:cut])
                if street_type is not None:
                    for rest in _without_leading_particles(tag[cut:]):
                        keys.extend(g.hashtags.get(f"{street_type}|{rest}", ()))
            if not keys:
                keys.extend(g.hashtags.get(f"|{tag}", ()))
            position = self._stream_index(index + 1)
            if keys and position is not None and self.free(position, position + 1):
                mention = self.add(position, position + 1, tuple(dict.fromkeys(keys)), "hashtag")
                mention.raw_start = index

    def _stream_index(self, raw_index: int) -> int | None:
        for position, value in enumerate(self.stream_raw):
            if value == raw_index:
                return position
        return None

    # --- pass 2: names without type where the context says "street" -----------------------

    def _untyped_at(self, position: int, *, strict: bool, must_end_raw: int | None = None) -> Mention | None:
        if position >= len(self.stream) or self.covered[position]:
            return None
        found = _walk(self.g, self.g.bodies, self.stream, position, fuzzy=False)
        if found is None or not self.free(position, found[0]):
            return None
        end, keys, _ = found
        if must_end_raw is not None and self.stream_raw[end - 1] + 1 != must_end_raw:
            return None
        if strict and (end - position < 2 or len("".join(self.stream[position:end])) < 9 or len(keys) > 3):
            return None
        return self.add(position, end, keys, "untyped")

    def crossing_context(self) -> None:
        stream, raw = self.stream, self.raw
        # After a cue: "à l'angle de Metz / ...", "croisement Metz et Alsace".
        for position, token in enumerate(stream):
            if token in CROSSING_CUES:
                self._untyped_at(position + 1, strict=False)
        # Around a connector next to a known mention: "rue de Metz / Alsace", "Metz / rue d'Alsace".
        for raw_index, token in enumerate(raw):
            if token not in CONNECTORS:
                continue
            before = self._mention_ending(raw_index)
            after = self._mention_starting(raw_index + 1)
            if before is not None and after is None:
                nxt = self._first_stream_after(raw_index)
                if nxt is not None and self.stream_raw[nxt] - raw_index <= 3:
                    self._untyped_at(nxt, strict=False)
            elif after is not None and before is None:
                for position in range(max(0, after.start - 5), after.start):
                    if self.stream_raw[position] < raw_index and self._untyped_at(
                        position, strict=False, must_end_raw=raw_index
                    ):
                        break

    def _mention_ending(self, raw_index: int) -> Mention | None:
        for mention in self.mentions:
            gap = self.raw[mention.raw_end : raw_index]
            if mention.raw_end <= raw_index and len(gap) <= 2 and all(t in GAP_WORDS for t in gap):
                return mention
        return None

    def _mention_starting(self, raw_index: int) -> Mention | None:
        for mention in self.mentions:
            gap = self.raw[raw_index : mention.raw_start]
            if mention.raw_start >= raw_index and len(gap) <= 3 and all(t in GAP_WORDS for t in gap):
                return mention
        return None

    def _first_stream_after(self, raw_index: int) -> int | None:
        for position, value in enumerate(self.stream_raw):
            if value > raw_index:
                return position
        return None

    def free_text(self) -> None:
        raw = self.raw
        for position in range(len(self.stream)):
            if self.covered[position] or self.stream[position] not in self.g.bodies:
                continue
            before = self.stream_raw[position] - 1
            while before >= 0 and raw[before] in ARTICLES:
                before -= 1
            if before >= 0 and raw[before] in PLACE_PREPOSITIONS:
                self._untyped_at(position, strict=True)

    # --- evidence outside the mentions -----------------------------------------------------

    def named_places(self, trie: dict) -> list:
        found: list = []
        stream = self.stream
        covered = self.covered
        starts = [i for i, token in enumerate(stream) if token in trie and not covered[i]]
        position = 0
        for start in starts:
            if start < position:
                continue
            position = start
            node = trie.get(stream[position])
            end = None
            cursor = position
            while node is not None:
                cursor += 1
                if END in node:
                    end = (cursor, node[END])
                if cursor >= len(stream) or self.covered[cursor]:
                    break
                node = node.get(stream[cursor])
            if end is not None:
                found.extend(end[1])
                position = end[0]
        return found

    def hashtag_communes(self) -> list[str]:
        raw = self.raw
        return [
            self.g.commune_hashtags[raw[i + 1]]
            for i in range(len(raw) - 1)
            if raw[i] == "#" and raw[i + 1] in self.g.commune_hashtags
        ]

    # --- how mentions relate -----------------------------------------------------------------

    def relations(self, evidence: TextEvidence) -> None:
        mentions = evidence.mentions
        raw = self.raw
        for index in range(len(mentions) - 1):
            first, second = mentions[index], mentions[index + 1]
            gap = raw[first.raw_end : second.raw_start]
            if len(gap) > MAX_GAP_TOKENS or not all(token in GAP_WORDS for token in gap):
                continue
            if any(token in BETWEEN_CUES for token in gap) and index + 2 < len(mentions):
                third = mentions[index + 2]
                gap2 = raw[second.raw_end : third.raw_start]
                if len(gap2) <= 3 and any(token in CONNECTORS for token in gap2):
                    evidence.betweens.append((first, second, third))
                    continue
            before = raw[max(0, first.raw_start - 4) : first.raw_start]
            cue_in_gap = any(token in CROSSING_CUES for token in gap)
            symbol_in_gap = any(token in {"/", "&", "+", "x"} for token in gap)
            cue_before = any(token in CROSSING_CUES for token in before) and any(token in CONNECTORS for token in gap)
            if cue_in_gap or symbol_in_gap or cue_before:
                evidence.crossings.append((first, second))


def scan(gazetteer: Gazetteer, text: str) -> TextEvidence:
    """Find the streets, crossings, communes and landmarks named in ``text``."""
    scanner = _Scanner(gazetteer, text)
    evidence = TextEvidence(raw=scanner.raw)
    if not scanner.stream:
        return evidence
    scanner.typed()
    if "#" in scanner.raw:
        scanner.hashtags()
    if scanner.mentions or any(token in CROSSING_CUES for token in scanner.stream):
        scanner.crossing_context()
    if not scanner.mentions:
        scanner.free_text()
    scanner.mentions.sort(key=lambda mention: mention.start)
    evidence.mentions = scanner.mentions
    if scanner.mentions:
        scanner.relations(evidence)
        evidence.communes = scanner.named_places(gazetteer.communes) + scanner.hashtag_communes()
        if gazetteer.landmarks:
            evidence.landmarks = scanner.named_places(gazetteer.landmarks)
    return evidence
