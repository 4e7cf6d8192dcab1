"""
Conversations: a reply with no place of its own takes the place and incident of the post it answers.

Replies, self-replies and quotes ("c'est réparé, merci !", "pareil ce matin", "still not
fixed") often name no street and carry no GPS; the post they answer does. A post is a
**waiting reply** when the decide step could not locate it, it answers another post, and
it is relevant, reads as a follow-up (:attr:`Classification.follow_up
<incidents.classify.result.Classification.follow_up>`), or says nothing off-topic
(:func:`waits`): its state is ``unlocated``.

Its **source** is found by walking up its conversation. Its references are tried in this
order (:func:`references`):

1. the post it replies to (X ``replied_to``, Bluesky ``reply.parent``; Mastodon
   ``in_reply_to_id``, an id local to the instance both posts were read from),
2. the post it quotes,
3. the first post of its conversation (X ``conversation_id``, Bluesky ``reply.root``),
4. for a Mastodon reply read from another instance than its parent (its
   ``in_reply_to_id`` is that instance's id, which no stored status has), the last
   located report its parent's author (``in_reply_to_account_id``, named by profile URL)
   posted in the :data:`AUTHOR_WINDOW` before it: the status it answers is most likely
   the report it comments on;

the first that is stored and located (with an incident) is the source; one that is
stored but not located and answers another post in turn ("Qui a vu ça ?") is passed
through, its own references tried next. The reply then takes the source's point,
accuracy and segment (location method ``thread``, ``thread_parent`` = the source), joins
the source's incident — whatever its status: a "c'est réparé" belongs to the history of
the incident it closes —, and takes the source's category unless it names a problem of
an unrelated category of its own (:func:`incidents.classify.taxonomy.related`).

**Order does not matter.** A reply is placed by the same walk whenever it is decided:
processed before its source, it waits; when a batch is written, every waiting or
thread-placed reply below the batch's posts (through replies, quotes, conversations and
posts passed through) is walked again (:func:`settle`), and so are the replies below
those that move. Both run under the grouping lock, after the batch's posts are written,
so a worker sees everything the workers before it committed. Whatever the order of
files, batches and workers, every reply ends with the source the walk gives on all the
stored posts (tests/pipeline/test_threads.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from incidents.categories import Category
from incidents.classify.lexicon import classify
from incidents.classify.result import Classification
from incidents.classify.taxonomy import related
from incidents.models import LocationMethod, Post, PostState
from incidents.pipeline.link import link_works
from incidents.pipeline.locks import hold_incidents
from incidents.sources.record import PostRecord

POST = Post._meta.db_table
# A reply's own category counts from this score: one word that names a problem on its own (a
# "strong" lexicon term) scores 0.63, still 0.59 beside a weak word of another category; weak
# and place words alone ("pram", "walking") score 0.33-0.45.
OWN_CATEGORY_MIN_SCORE = 0.5

# A reference to another post: ("id", external id), ("local", Mastodon instance id) or
# ("author", the parent's author: their last report before the reply, see references()).
Reference = tuple[str, str]
# The reference columns, in order of preference, and the kind of key each holds.
REFERENCE_COLUMNS = (("reply_to", "id"), ("reply_to_local", "local"), ("quote_of", "id"), ("thread_root", "id"))
# How far back a reply known only by its parent's author looks for that author's report:
# replies come within hours or days; further back, the author's other reports are likelier.
AUTHOR_WINDOW = dt.timedelta(days=7)
# How far up (or down) a conversation is followed through posts that are not located.
MAX_DEPTH = 12
# Rounds of settling: each round places the replies below the posts placed by the last one.
MAX_ROUNDS = 24

_OPEN = f"location_method IN ('{LocationMethod.NONE}', '{LocationMethod.THREAD}')"
_COLUMNS = (
    "id, source, external_id, local_id, state, location_method, incident_id, thread_parent_id, category, "
    "reply_to, reply_to_local, quote_of, thread_root, text, language, declared_category, "
    "author_id, reply_to_author, posted_at"
)
# The replies known only by their parent's author (the last reference of references()).
_BY_AUTHOR = "p.reply_to_author <> '' AND p.reply_to_local <> '' AND p.reply_to = ''"


_KEY_PAIRS = "unnest(%s::varchar[], %s::varchar[]) AS k(source, key)"
# The keys of the posts read into ``keys`` (see _Posts.below), as rows k(source, key), per kind of reference.
_KEYS_READ = {
    "id": "(SELECT source, external_id AS key FROM keys) AS k",
    "local": "(SELECT source, local_id AS key FROM keys WHERE local_id <> '') AS k",
    "author": "(SELECT source, author_id AS key FROM keys WHERE author_id <> '') AS k",
}


def _probe(column: str, condition: str = "TRUE", keys: str = _KEY_PAIRS) -> str:
    """SQL: the posts whose ``source`` and ``column`` match a key row ``k(source, key)`` of ``keys``.

    One index probe per key (a ``LATERAL`` join the planner cannot turn into a scan of the
    post table): the partial indexes over replies (``condition`` matches their predicate)
    are small, and a batch asks for a few thousand keys. By default the keys are the pairs
    of two array parameters.
    """
    return f"""
        SELECT p.* FROM {keys}
        CROSS JOIN LATERAL (
            SELECT {_COLUMNS} FROM {POST} p
            WHERE p.source = k.source AND p.{column} = k.key AND {condition}
            OFFSET 0
        ) p
    """


def references(post) -> tuple[Reference, ...]:
    """The posts ``post`` (a record or a row) answers, in order of preference.

    Last, for a reply that names its parent only by an instance id (Mastodon), the
    parent's author: the walk takes their last located report before the reply.
    """
    found: list[Reference] = []
    for column, kind in REFERENCE_COLUMNS:
        key = getattr(post, column)
        if key and (kind, key) not in found:
            found.append((kind, key))
    if post.reply_to_local and not post.reply_to and post.reply_to_author:
        found.append(("author", post.reply_to_author))
    return tuple(found)


def waits(record: PostRecord, classification: Classification, located: bool) -> bool:
    """Whether a decided post is a waiting reply: unlocated, answering a post, and about its problem.

    About its problem: relevant, a follow-up, or saying nothing off-topic. A reply that names
    no problem is about the post it answers: its author continues the report ("photo prise
    ce matin", "3 semaines que ça dure"), others add to it ("ah oui vu ce matin", "je passe
    là tous les jours"); banter, a promotion or a match is not (``off_topic``).
    """
    if located or not references(record):
        return False
    return classification.is_relevant or classification.follow_up is not None or not classification.off_topic


@dataclass(slots=True)
class _Row:
    id: int
    source: str
    external_id: str
    local_id: str
    state: str
    location_method: str
    incident_id: int | None
    thread_parent_id: int | None
    category: str
    reply_to: str
    reply_to_local: str
    quote_of: str
    thread_root: str
    text: str
    language: str
    declared_category: str
    author_id: str
    reply_to_author: str
    posted_at: dt.datetime

    @property
    def is_source(self) -> bool:
        return self.state == PostState.LOCATED and self.incident_id is not None

    @property
    def may_wait(self) -> bool:
        """Placed by the walk, now or later: a waiting reply, or one placed from its conversation."""
        return (
            self.state == PostState.UNLOCATED and self.location_method == LocationMethod.NONE
        ) or self.location_method == LocationMethod.THREAD

    @property
    def passes(self) -> bool:
        """Not located on its own: the walk goes on through its references."""
        return self.location_method == LocationMethod.NONE and self.state != PostState.PENDING


@dataclass(slots=True)
class SettleResult:
    placed: int = 0
    # Incidents that gained or lost a reply: they are recounted in full.
    incident_ids: set[int] = field(default_factory=set)


class _Posts:
    """Stored posts by id and by reference, read on demand and kept for one settling."""

    def __init__(self, cursor) -> None:
        self.cursor = cursor
        self.by_id: dict[int, _Row] = {}
        self.by_key: dict[tuple[str, Reference], list[_Row]] = {}
        self.asked: set[tuple[str, Reference]] = set()
        self.asked_reports: set[tuple[str, str, dt.datetime]] = set()

    def _keep(self, rows: Iterable[tuple]) -> list[_Row]:
        """Keep rows read from the database; a post read again is the same object, brought up to date."""
        kept = []
        for values in rows:
            fresh = _Row(*values)
            row = self.by_id.get(fresh.id)
            if row is None:
                row = self.by_id[fresh.id] = fresh
                for key in (
                    (row.source, ("id", row.external_id)),
                    (row.source, ("local", row.local_id)),
                    (row.source, ("author", row.author_id)),
                ):
                    if key[1][1]:
                        bucket = self.by_key.setdefault(key, [])
                        bucket.append(row)
                        bucket.sort(key=lambda other: other.id)  # the same walk in every process
            else:
                for name in _Row.__slots__:
                    setattr(row, name, getattr(fresh, name))
            kept.append(row)
        return kept

    def load(self, post_ids: Iterable[int]) -> list[_Row]:
        if not post_ids:
            return []
        self.cursor.execute(f"SELECT {_COLUMNS} FROM {POST} WHERE id = ANY(%s) ORDER BY id", [sorted(set(post_ids))])
        return self._keep(self.cursor.fetchall())

    def find(self, keys: Iterable[tuple[str, Reference]]) -> None:
        """Read the posts named by ``keys`` (source, reference) not asked for yet (authors: find_reports)."""
        wanted = sorted({(source, key) for source, key in keys if key[0] != "author"} - self.asked)
        if not wanted:
            return
        self.asked.update(wanted)
        by_kind = {kind: [(source, key) for source, (k, key) in wanted if k == kind] for kind in ("id", "local")}
        self.cursor.execute(
            f"""
            {_probe("external_id")}
            UNION
            {_probe("local_id", "p.local_id <> ''")}
            ORDER BY id
            """,
            [
                [source for source, _ in by_kind["id"]],
                [key for _, key in by_kind["id"]],
                [source for source, _ in by_kind["local"]],
                [key for _, key in by_kind["local"]],
            ],
        )
        self._keep(self.cursor.fetchall())

    def find_reports(self, rows: Iterable[_Row]) -> None:
        """Read the reports the author references of ``rows`` may name (see :meth:`named`)."""
        asking = {(row.source, ref[1], row.posted_at) for row in rows for ref in references(row) if ref[0] == "author"}
        wanted = sorted(asking - self.asked_reports)
        if not wanted:
            return
        self.asked_reports.update(wanted)
        # Located posts only: the posted_at index narrows them to the window, few per author.
        self.cursor.execute(
            f"""
            SELECT p.* FROM unnest(%s::varchar[], %s::varchar[], %s::timestamptz[]) AS k(source, author, before)
            CROSS JOIN LATERAL (
                SELECT {_COLUMNS} FROM {POST} p
                WHERE p.source = k.source AND p.author_id = k.author AND p.state = %s
                  AND p.posted_at < k.before AND p.posted_at >= k.before - %s
                OFFSET 0
            ) p
            ORDER BY id
            """,
            [[w[0] for w in wanted], [w[1] for w in wanted], [w[2] for w in wanted], PostState.LOCATED, AUTHOR_WINDOW],
        )
        self._keep(self.cursor.fetchall())

    def named(self, row: _Row, reference: Reference) -> list[_Row]:
        """The stored posts ``reference`` of ``row`` names: for an author, their last report before ``row``."""
        found = self.by_key.get((row.source, reference), [])
        if reference[0] != "author":
            return found
        reports = [
            other
            for other in found
            if other.is_source and row.posted_at - AUTHOR_WINDOW <= other.posted_at < row.posted_at
        ]
        return [max(reports, key=lambda other: (other.posted_at, other.external_id))] if reports else []

    def below(self, rows: Sequence[_Row | Written]) -> list[_Row]:
        """The posts answering any of ``rows`` that the walk may place or pass through."""
        if not rows:
            return []
        # The keys are read back by id in the query (one integer array to send, not two
        # string arrays per reference column: quoting those cost more than the probes).
        branches = [
            *(_probe(column, f"{_OPEN} AND p.{column} <> ''", _KEYS_READ[kind]) for column, kind in REFERENCE_COLUMNS),
            _probe("reply_to_author", f"{_OPEN} AND {_BY_AUTHOR}", _KEYS_READ["author"]),
        ]
        self.cursor.execute(
            "WITH keys AS MATERIALIZED "
            f"(SELECT source, external_id, local_id, author_id FROM {POST} WHERE id = ANY(%s)) "
            + " UNION ".join(branches)
            + " ORDER BY id",
            [[row.id for row in rows]],
        )
        return self._keep(self.cursor.fetchall())


def _read_ancestors(posts: _Posts, rows: Iterable[_Row]) -> None:
    """Read, level by level, every post the walks from ``rows`` may reach (one query per level)."""
    frontier = list(rows)
    seen = {row.id for row in frontier}
    for _ in range(MAX_DEPTH):
        posts.find((post.source, reference) for post in frontier for reference in references(post))
        posts.find_reports(frontier)
        frontier = [
            found
            for post in frontier
            for reference in references(post)
            for found in posts.named(post, reference)
            if found.id not in seen and not found.is_source and found.passes
        ]
        seen.update(found.id for found in frontier)
        if not frontier:
            return


def _source_of(row: _Row, posts: _Posts, seen: frozenset[int] = frozenset(), depth: int = 0) -> _Row | None:
    """The post ``row`` takes its place from: the first located post its references lead to, in order.

    Each reference is followed to its end (through posts not located) before the next is
    tried: a reply to a located reply takes that reply's place, not its conversation's
    first post's. Reads nothing: :func:`_read_ancestors` did.
    """
    if depth >= MAX_DEPTH:
        return None
    seen = seen | {row.id}
    for reference in references(row):
        for found in posts.named(row, reference):
            if found.id in seen:
                continue
            if found.is_source:
                return found
            if found.passes:
                source = _source_of(found, posts, seen, depth + 1)
                if source is not None:
                    return source
    return None


@dataclass(frozen=True, slots=True)
class Written:
    """A post of the batch just written, as :func:`settle` needs it (no read back)."""

    id: int
    waiting: bool  # a waiting reply (see waits())
    frontier: bool  # located, or answering a post: replies below it may be placed through it

    @classmethod
    def of(cls, post_id: int, record: PostRecord, state: str) -> Written:
        """The post ``post_id`` as written: decided from ``record``, in ``state``."""
        answers = bool(references(record))
        # Unlocated and answering a post: exactly the posts waits() kept as waiting replies.
        return cls(
            post_id, waiting=answers and state == PostState.UNLOCATED, frontier=answers or state == PostState.LOCATED
        )


def settle(cursor, batch: Sequence[Written]) -> SettleResult:
    """Place the waiting replies of ``batch`` and every reply below its posts; return what moved.

    ``batch``: the posts a batch just wrote. Takes the grouping lock. Placed replies get
    their works links; the incidents they join or leave must be recounted
    (:attr:`SettleResult.incident_ids`).
    """
    result = SettleResult()
    frontier = [post for post in batch if post.frontier]
    if not frontier:
        return result
    hold_incidents(cursor)
    posts = _Posts(cursor)
    candidates = {row.id: row for row in posts.load([post.id for post in batch if post.waiting])}
    for _ in range(MAX_ROUNDS):
        below = _below(posts, frontier)
        candidates.update((row.id, row) for row in below if row.may_wait)
        _read_ancestors(posts, candidates.values())
        moves = []
        for row in sorted(candidates.values(), key=lambda row: row.id):
            source = _source_of(row, posts)
            if source is None:
                continue
            if source.id != row.thread_parent_id or source.incident_id != row.incident_id:
                moves.append((row, source))
        if not moves:
            break
        _place(cursor, moves, result)
        frontier = [row for row, _ in moves]
        candidates = {}
    return result


def _below(posts: _Posts, rows: Sequence[_Row | Written]) -> list[_Row]:
    """Every post that may be placed through ``rows``: their replies, and on through replies not located."""
    found: list[_Row] = []
    # Rows of ``rows`` may be below others of them (a reply and the reply to it moved together):
    # they are found again, and walked again.
    seen: set[int] = set()
    level = rows
    for _ in range(MAX_DEPTH):
        level = [row for row in posts.below(level) if row.id not in seen]
        if not level:
            break
        seen.update(row.id for row in level)
        found.extend(level)
        level = [row for row in level if row.passes]
    return found


def _category(row: _Row, source: _Row) -> str:
    """The reply's category: its source's, unless it reports a problem of an unrelated category itself.

    ``other`` names no problem ("je passe tous les jours sur le pont"): the source's stands.
    Nor do words that only tell how the source's problem is lived ("saw it with the pram, had
    to go on the road"): the reply's own category must rest on a word that names a problem
    (a score of :data:`OWN_CATEGORY_MIN_SCORE`).
    Nor does a follow-up ("chez nous aussi, le camion ne peut pas livrer"), or a reply that
    names the source's problem among others ("et à pied aussi, le trou déborde jusqu'au
    passage piéton"): they are about the same problem, whatever else they tell of it.
    """
    own = row.declared_category or classify(row.text, row.language)
    if isinstance(own, str):
        return source.category if related(own, source.category) else own
    names_source = any(item.startswith(f"{source.category}:") for item in own.evidence)
    if (
        own.is_relevant
        and own.follow_up is None
        and not names_source
        and own.category != Category.OTHER
        and own.score >= OWN_CATEGORY_MIN_SCORE
        and not related(own.category, source.category)
    ):
        return own.category
    return source.category


def _place(cursor, moves: list[tuple[_Row, _Row]], result: SettleResult) -> None:
    """Give each reply of ``moves`` its source's place and incident."""
    categories = [_category(row, source) for row, source in moves]
    cursor.execute(
        f"""
        UPDATE {POST} p SET
            location = s.location, location_method = %(thread)s, location_accuracy_m = s.location_accuracy_m,
            location_text = left(s.location_text, 500), location_note = '',
            segment_id = s.segment_id, segment_distance_m = s.segment_distance_m,
            state = %(located)s, incident_id = s.incident_id, thread_parent_id = s.id,
            category = m.category, processed_at = now()
        FROM unnest(%(replies)s::bigint[], %(sources)s::bigint[], %(categories)s::varchar[])
             AS m(reply_id, source_id, category)
        JOIN {POST} s ON s.id = m.source_id
        WHERE p.id = m.reply_id
        """,
        {
            "thread": LocationMethod.THREAD,
            "located": PostState.LOCATED,
            "replies": [row.id for row, _ in moves],
            "sources": [source.id for _, source in moves],
            "categories": categories,
        },
    )
    for (row, source), category in zip(moves, categories, strict=True):
        if row.incident_id is not None:
            result.incident_ids.add(row.incident_id)
        result.incident_ids.add(source.incident_id)
        row.state, row.location_method = PostState.LOCATED, LocationMethod.THREAD
        row.incident_id, row.thread_parent_id, row.category = source.incident_id, source.id, category
    result.placed += len(moves)
    link_works(cursor, [row.id for row, _ in moves])
