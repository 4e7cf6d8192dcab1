"""
Find street names in a post's text: typed names, short forms, typos, hashtags, crossings,
and the places, house numbers and position phrases around them.

:func:`scan` reads the text once through the shared tokeniser and returns what it saw:
the street mentions (each with the candidate names it may mean), the landmarks named
("gare Matabiau", "métro Jean Jaurès", "au Capitole") and the words that name a kind of
landmark alone ("le lycée", "la gare"), house numbers ("au 12 rue X", "rue X n°12"), the
communes, and how these relate: crossings ("au croisement de X et Y", "X, près du
croisement avec Y", "at the corner of X and Y"), "à hauteur de"/"au niveau de" (a crossing,
or the nearest point), stretches ("X entre Y et Z", "X de Y jusqu'à Z", "X from Y to Z"),
sides ("X côté Garonne", "X jusqu'à la gare", "X on the Esquirol side"). Choosing among
homonymous streets and computing points is the locator's job
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
   unambiguous names ("bouchon sur Alsace Lorraine");
6. two names without type, or their short forms, joined by "/", "x", "&" or "+" ("Feuga /
   Sabots", "Lucien Cassagne x Marancin"), when streets of those names meet.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from incidents.locate.gazetteer import END, ONLY, Gazetteer, Landmark
from incidents.locate.landmarks import GENERIC_WORDS
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
    "croisement carrefour angle intersection coin niveau hauteur corner junction crossroads intersect meets meet "
    "croise pres proche near by debouche embranchement"
)
# Of those, the ones that also say "along X, level with Y" ("à hauteur de", "au niveau de",
# "près de", "near"): when the two streets do not meet, the point of the first nearest the second.
LEVEL_CUES = word_set("niveau hauteur pres proche near by")
# Words joining the two streets of a crossing ("X / Y", "X et Y", "X x Y").
CONNECTORS = frozenset({"/", "&", "+", "x", "et", "and", "avec", "with", "vs"})
# Of those, the ones that join two names without type into a crossing on their own ("Feuga /
# Sabots", "Cassagne x Marancin"): symbols, which join nothing else; "et" joins anything.
PAIR_CONNECTORS = frozenset({"/", "&", "+", "x"})
BETWEEN_CUES = frozenset({"entre", "between"})
# "X de Y jusqu'à Z", "X depuis Y jusqu'au Z", "X from Y (up) to Z".
STRETCH_STARTS = word_set("de du des depuis from")
STRETCH_ENDS = word_set("jusqu jusque to until till up")
# "à" ends a stretch only after a start word ("de la rue Y à la rue Z").
STRETCH_ENDS_AFTER_START = word_set("a au aux")
# "X côté Garonne", "X vers la gare", "X direction Capitole", "X towards the station".
SIDE_CUES = word_set("cote vers direction towards toward")
# ... except "à côté de" ("next to"): a landmark there narrows the street instead.
BESIDE = word_set("cote")
# "X on the Esquirol side", "the station end of X".
SIDE_AFTER = word_set("side end")
# Words after which a name without type is read as a street when another street was named
# ("rue de Metz jusqu'à Alsace-Lorraine", "rue de Metz côté Alsace").
UNTYPED_AFTER = word_set("jusqu jusque cote")
# Words that may stand between a street and what locates along it ("rue X, juste en face du ...").
POSITION_WORDS = word_set(
    "pres proche juste face devant derriere cote vers direction jusqu jusque depuis niveau hauteur "
    "near close next just by outside opposite behind towards toward up to from until till side end"
)
# Words allowed between two streets (or a street and a place) of one crossing, stretch or side phrase.
GAP_WORDS = (
    CROSSING_CUES
    | CONNECTORS
    | POSITION_WORDS
    | word_set("de la le les du des d l au aux a the of at with entre between sur on en")
)
# Words after which a name without type is read as a street ("sur Alsace Lorraine").
PLACE_PREPOSITIONS = word_set("sur a au vers pres devant niveau dans on at near along")
# Words after which a place's bare name is read as that place ("au Capitole", "devant Esquirol").
PLACE_CUES = PLACE_PREPOSITIONS | word_set(
    "aux derriere proche cote hauteur face depuis jusqu jusque entre direction outside opposite behind around "
    "by from towards toward"
)
ARTICLES = frozenset(["la", "le", "l", "les", "the"])
# A crossing or "between" phrase spans at most this many words between the streets.
MAX_GAP_TOKENS = 6
# ... or this many when a crossing cue stands right before the second street, after other
# words ("rue Neuve barrée ce matin au croisement de la rue Perchepinte").
MAX_CUE_GAP_TOKENS = 10
# Words a generic place word needs before it to name one place ("le lycée", "du marché", "the school").
DETERMINERS = word_set("le la l les du des au aux ce cet cette the this that")
# "marché" is also a verb ("ça marche") and "la marche" a step: only masculine determiners.
MASCULINE_DETERMINERS = word_set("le du au ce the this that")
MASCULINE_ONLY = word_set("marche")
# "la station de vélos", "la station-service": not a transport station.
NOT_AFTER_GENERIC = word_set("velo velos velotoulouse service essence taxi taxis lavage recharge bus")
# A house number: "12", "12b", "12bis", "n°12" (read "n 12"), "nº12" (read "no12"); not a year ("depuis 2014 rue X").
HOUSE_NUMBER = re.compile(r"(?:n|no|num|numero)?([0-9]{1,3})(bis|ter|[a-g])?")
NUMBER_WORDS_BEFORE = word_set("n no num numero number nr")
NUMBER_SUFFIXES = word_set("bis ter a b c d")

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
class PlaceMention:
    """Words of the text that name a landmark ("gare Matabiau", "au Capitole"), and which landmarks."""

    raw_start: int
    raw_end: int
    landmarks: tuple[Landmark, ...]


@dataclass(slots=True)
class KindMention:
    """A word naming a kind of landmark alone ("le lycée", "la gare"): the one near the street named."""

    raw_start: int
    raw_end: int
    kinds: frozenset[str]


# What a position phrase may point at: a street, a landmark, or "the <kind> near the street".
Target = Mention | PlaceMention | KindMention


@dataclass(slots=True)
class TextEvidence:
    """What :func:`scan` found in one text (empty tuples until something is found: most posts name nothing)."""

    raw: tuple[str, ...]
    # The text scanned: character spans of its tokens are those of the post's text.
    text: str = ""
    mentions: Sequence[Mention] = ()
    crossings: Sequence[tuple[Mention, Mention]] = ()
    # Crossings said "à hauteur de"/"au niveau de": the nearest point when the streets do not meet.
    level_with: Sequence[tuple[Mention, Mention]] = ()
    betweens: Sequence[tuple[Mention, Target, Target]] = ()
    sides: Sequence[tuple[Mention, Target]] = ()
    # Of the sides' targets, those said as where the street goes up to ("X jusqu'à Y"), not its side ("X côté Y").
    up_to: Sequence[Target] = ()
    # House numbers: the street mention, the number, and the raw span of both together.
    numbers: Sequence[tuple[Mention, str, int, int]] = ()
    communes: Sequence[str] = ()
    places: Sequence[PlaceMention] = ()
    kinds: Sequence[KindMention] = ()

    @property
    def landmarks(self) -> list[Landmark]:
        """The landmarks named, in text order (each once)."""
        if not self.places:
            return []
        return list(dict.fromkeys(landmark for place in self.places for landmark in place.landmarks))


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
        # After "jusqu'à" or "côté" following a street: "rue de Metz jusqu'à Alsace-Lorraine".
        if self.mentions and not UNTYPED_AFTER.isdisjoint(stream):
            for position in [i for i, token in enumerate(stream[:-1]) if token in UNTYPED_AFTER]:
                following = stream[position + 1]
                found = self._name_at(position + 1) if len(following) >= 5 else None
                # A one-word name that starts a landmark's is the landmark's ("côté Garonne", "côté gare");
                # "côté Saint-Pantaléon" is the street; "côté Roudil" the short form of rue Jacques-Roudil.
                if found is not None and (found[0] - position > 2 or following not in self.g.landmarks):
                    self.add(position + 1, found[0], found[1], "untyped")
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
            elif before is None and token in PAIR_CONNECTORS:
                self._untyped_pair(raw_index)

    def _untyped_pair(self, raw_index: int) -> None:
        """Two names without type around the connector at ``raw_index``, kept when streets of those
        names meet: the map is the context that says "streets" ("Feuga / Sabots")."""
        following = self._first_stream_after(raw_index)
        if following is None or self.stream_raw[following] != raw_index + 1:
            return
        after = self._name_at(following)
        if after is None:
            return
        for position in range(max(0, following - 6), following):
            if self.stream_raw[position] >= raw_index:
                return
            before = self._name_at(position)
            if before is None or self.stream_raw[before[0] - 1] + 1 != raw_index:
                continue
            if self.g.streets_meet(before[1], after[1]):
                self.add(position, before[0], before[1], "untyped")
                self.add(following, after[0], after[1], "untyped")
                return

    def _name_at(self, position: int) -> tuple[int, tuple[str, ...]] | None:
        """The longest name without type, or short form of one, from stream ``position``: ``(end, keys)``."""
        found = None
        for trie in (self.g.bodies, self.g.short_bodies):
            walked = _walk(self.g, trie, self.stream, position, fuzzy=False)
            if walked is not None and (found is None or walked[0] > found[0]):
                found = walked
        if found is None or not self.free(position, found[0]) or len("".join(self.stream[position : found[0]])) < 4:
            return None
        return found[0], tuple(dict.fromkeys(found[1]))

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

    # --- landmarks, kind words, house numbers ---------------------------------------------

    def places(self) -> list[PlaceMention]:
        """Landmarks named outside the street mentions, longest phrase first; bare names need a place word.

        A landmark's name wins over a street only guessed from a name without its type or
        with the wrong one ("université du Mirail" is the university, not RUE UNIVERSITE DU
        MIRAIL; "allées François Verdier" not RUE FRANCOIS VERDIER of another commune).
        """
        trie, stream = self.g.landmarks, self.stream
        found: list[PlaceMention] = []
        # Only words that can start a landmark's name are looked at (one dict test per word).
        starts = [i for i, token in enumerate(stream) if token in trie]
        if "#" in self.raw:
            found.extend(self._place_hashtags())
        if not starts:
            return found
        weak = [mention for mention in self.mentions if mention.kind in ("wrong_type", "untyped")]
        free = [not covered for covered in self.covered]
        for mention in weak:
            free[mention.start : mention.end] = [True] * (mention.end - mention.start)
        end_of_last = 0
        for position in starts:
            if position < end_of_last or not free[position]:
                continue
            node = trie[stream[position]]
            best = None
            cursor = position
            while node is not None:
                cursor += 1
                payload = node.get(END)
                if payload is not None:
                    usable = tuple(landmark for landmark, needs_cue in payload if not needs_cue or self._cued(position))
                    if usable:
                        best = (cursor, usable)
                if cursor >= len(stream) or not free[cursor]:
                    break
                node = node.get(stream[cursor])
            if best is None:
                continue
            end, landmarks = best
            overlapped = [mention for mention in weak if mention.start < end and position < mention.end]
            if any(mention.start < position or mention.end > end for mention in overlapped):
                continue  # the street guess reaches beyond the landmark's name: keep the street
            for mention in overlapped:
                self.mentions.remove(mention)
            end_of_last = end
            found.append(PlaceMention(self.stream_raw[position], self.stream_raw[end - 1] + 1, landmarks))
            for index in range(position, end):
                self.covered[index] = True
                free[index] = False
        found.sort(key=lambda place: place.raw_start)
        return found

    def _place_hashtags(self) -> list[PlaceMention]:
        """Landmarks written as one glued hashtag ("#GareMatabiau", "#GrandRond")."""
        raw, tags, found = self.raw, self.g.landmark_tags, []
        for index in range(len(raw) - 1):
            if raw[index] == "#" and raw[index + 1] in tags:
                position = self._stream_index(index + 1)
                if position is not None and not self.covered[position]:
                    landmarks = tuple(landmark for landmark, _ in tags[raw[index + 1]])
                    found.append(PlaceMention(index, index + 2, landmarks))
                    self.covered[position] = True
        return found

    def _cued(self, position: int) -> bool:
        """Whether the words before stream ``position`` say a place follows ("au", "devant la", "#", text start)."""
        index = self.stream_raw[position] - 1
        raw = self.raw
        skipped = 0
        while index >= 0 and skipped < 3 and raw[index] in ARTICLES | {"de", "du", "des", "d"}:
            index -= 1
            skipped += 1
        return index < 0 or raw[index] == "#" or raw[index] in PLACE_CUES

    def kind_words(self, taken: list) -> list[KindMention]:
        """Words naming a kind of landmark alone after a determiner ("le lycée", "du marché", "the school")."""
        raw = self.raw
        candidates = [index for index, token in enumerate(raw) if token in GENERIC_WORDS and index]
        if not candidates:
            return []
        busy = {index for anchor in taken for index in range(anchor.raw_start, anchor.raw_end)}
        found = []
        for index in candidates:
            token = raw[index]
            kinds = GENERIC_WORDS[token]
            if index in busy:
                continue
            allowed = MASCULINE_DETERMINERS if token in MASCULINE_ONLY else DETERMINERS
            if raw[index - 1] not in allowed and raw[index - 1] not in SIDE_CUES:  # "côté gare", "côté canal"
                continue
            following = raw[index + 1 : index + 3]
            if following and (following[0] in NOT_AFTER_GENERIC or following[-1] in NOT_AFTER_GENERIC):
                continue
            found.append(KindMention(index, index + 1, kinds))
        return found

    def house_number(self, mention: Mention) -> tuple[str, int, int] | None:
        """The house number written next to a street mention and its raw token span, if any.

        "au 12 rue X", "devant le 12 bis rue X", "n°12 rue X" (read "n 12"), "rue X n°12",
        "outside number 12 rue X", "rue X au 12".
        """
        raw, start, end = self.raw, mention.raw_start, mention.raw_end
        before = raw[start - 1][-1:] if start else ""
        after = raw[end][:1] if end < len(raw) else ""
        if not (before.isdigit() or before in "abcdrs" or after in ("n", "a")):  # a digit, "bis", "ter", "n°", "au"
            return None
        if start >= 2 and raw[start - 1] in NUMBER_SUFFIXES:
            number = HOUSE_NUMBER.fullmatch(raw[start - 2])
            if number and not number.group(2):
                return number.group(1) + raw[start - 1], self._number_start(start - 2), end
        if start >= 1:
            number = HOUSE_NUMBER.fullmatch(raw[start - 1])
            if number:
                return number.group(1) + (number.group(2) or ""), self._number_start(start - 1), end
        if end + 1 < len(raw) and raw[end] in NUMBER_WORDS_BEFORE | {"au"}:
            number = HOUSE_NUMBER.fullmatch(raw[end + 1])
            if number:
                return number.group(1) + (number.group(2) or ""), start, end + 2
        if end < len(raw) and raw[end][:1] == "n":
            number = HOUSE_NUMBER.fullmatch(raw[end])
            if number and raw[end] != number.group(1):
                return number.group(1) + (number.group(2) or ""), start, end + 1
        return None

    def _number_start(self, index: int) -> int:
        """Where a number written before a street starts: with its "n°" or "number" word."""
        return index - 1 if index >= 1 and self.raw[index - 1] in NUMBER_WORDS_BEFORE else index

    # --- how mentions relate -----------------------------------------------------------------

    def relations(self, evidence: TextEvidence) -> None:
        """Crossings, stretches and sides between consecutive streets, landmarks and kind words."""
        raw = self.raw
        if len(evidence.mentions) + len(evidence.places) + len(evidence.kinds) < 2:
            return
        anchors: list[Target] = sorted(
            [*evidence.mentions, *evidence.places, *evidence.kinds], key=lambda anchor: anchor.raw_start
        )
        crossings, level_with, betweens, sides, ends = [], [], [], [], []

        def crossing(first: Mention, second: Mention, words: tuple[str, ...]) -> None:
            crossings.append((first, second))
            if not LEVEL_CUES.isdisjoint(words):
                level_with.append((first, second))

        for index in range(len(anchors) - 1):
            first, second = anchors[index], anchors[index + 1]
            if not isinstance(first, Mention):
                continue
            gap = raw[first.raw_end : second.raw_start]
            if len(gap) > MAX_GAP_TOKENS or not all(token in GAP_WORDS for token in gap):
                tail = _trailing_gap_words(gap)
                # "X still closed at Y": "at" right before the second street says where along X.
                cue_before_second = not CROSSING_CUES.isdisjoint(tail) or tail[-1:] == ("at",)
                if isinstance(second, Mention) and len(gap) <= MAX_CUE_GAP_TOKENS:
                    if cue_before_second:
                        crossing(first, second, tail)
                    # "rue des Fontaines devant la boulangerie, côté Roudil": the side said last.
                    elif tail and _side_cue(tail, len(tail) - 1):
                        sides.append((first, second))
                continue
            third = anchors[index + 2] if index + 2 < len(anchors) else None
            if third is not None and self._stretch(gap, raw[second.raw_end : third.raw_start]):
                betweens.append((first, second, third))
                continue
            if isinstance(second, Mention):
                before = raw[max(0, first.raw_start - 4) : first.raw_start]
                cue_in_gap = any(token in CROSSING_CUES for token in gap)
                symbol_in_gap = not PAIR_CONNECTORS.isdisjoint(gap)
                cue_before = any(token in CROSSING_CUES for token in before) and any(t in CONNECTORS for t in gap)
                if cue_in_gap or symbol_in_gap or cue_before:
                    crossing(first, second, gap)
                    continue
            after = raw[second.raw_end : second.raw_end + 1]
            # "côté Garonne" is a side; "à côté de la gare" is beside it (a landmark narrows the street).
            towards = any(_side_cue(gap, index) for index in range(len(gap))) or (
                bool(after) and after[0] in SIDE_AFTER
            )
            up_to = any(token in STRETCH_ENDS for token in gap) and not any(token in STRETCH_STARTS for token in gap)
            if towards or up_to:
                sides.append((first, second))
                if not towards:
                    ends.append(second)
        evidence.crossings, evidence.level_with = crossings, level_with
        evidence.betweens, evidence.sides, evidence.up_to = betweens, sides, ends

    @staticmethod
    def _stretch(gap: tuple[str, ...], gap2: tuple[str, ...]) -> bool:
        """Whether "X <gap> Y <gap2> Z" says the stretch of X between Y and Z."""
        if len(gap2) > 3 or not all(token in GAP_WORDS for token in gap2):
            return False
        if any(token in BETWEEN_CUES for token in gap):
            return any(token in CONNECTORS for token in gap2)
        if any(token in STRETCH_STARTS for token in gap):
            return any(token in STRETCH_ENDS or token in STRETCH_ENDS_AFTER_START for token in gap2)
        return False


def scan(gazetteer: Gazetteer, text: str) -> TextEvidence:
    """Find the streets, landmarks, house numbers, position phrases and communes named in ``text``."""
    scanner = _Scanner(gazetteer, text)
    evidence = TextEvidence(raw=scanner.raw, text=text)
    if not scanner.stream:
        return evidence
    scanner.typed()
    if "#" in scanner.raw:
        scanner.hashtags()
    if scanner.mentions or not CROSSING_CUES.isdisjoint(scanner.stream) or not PAIR_CONNECTORS.isdisjoint(scanner.raw):
        scanner.crossing_context()
    if not scanner.mentions:
        scanner.free_text()
    scanner.mentions.sort(key=lambda mention: mention.start)
    evidence.mentions = scanner.mentions
    if gazetteer.landmarks:
        evidence.places = scanner.places()
    if scanner.mentions:
        if gazetteer.landmarks_by_kind:
            evidence.kinds = scanner.kind_words([*evidence.mentions, *evidence.places])
        numbers = [(mention, *found) for mention in scanner.mentions if (found := scanner.house_number(mention))]
        if numbers:
            evidence.numbers = numbers
        scanner.relations(evidence)
        evidence.communes = scanner.named_places(gazetteer.communes) + scanner.hashtag_communes()
    return evidence


def _side_cue(words: tuple[str, ...], index: int) -> bool:
    """Whether ``words[index]`` says a side ("côté Garonne", "vers la gare"); "à côté de" is beside, not a side."""
    token = words[index]
    return token in SIDE_CUES and (token not in BESIDE or index == 0 or words[index - 1] != "a")


def _trailing_gap_words(gap: tuple[str, ...]) -> tuple[str, ...]:
    """The words at the end of ``gap`` that may stand between two streets ("au croisement de la")."""
    start = len(gap)
    while start > 0 and gap[start - 1] in GAP_WORDS:
        start -= 1
    return tuple(gap[start:])
