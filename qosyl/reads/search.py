"""Search: posts by full text, #tags and @people; people by username and name.

The full-text objects are not on the models (see migration 0002 and models/base.py):
on SQLite an external-content FTS5 table `posts_fts(body)` whose rowid is posts.id,
kept in step by triggers; on PostgreSQL a generated column `posts.search_vector`
(to_tsvector('english', body)) with a GIN index. Both stem English words, so
"running" finds "run".

User input never reaches a query language unescaped: every FTS5 word is a quoted
string (so AND, OR, NOT, NEAR, *, -, : and parentheses are plain words), PostgreSQL
gets the words through plainto_tsquery (which knows no operators), and LIKE patterns
escape their wildcards.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import bindparam
from sqlalchemy import case
from sqlalchemy import column
from sqlalchemy import ColumnElement
from sqlalchemy import func
from sqlalchemy import literal_column
from sqlalchemy import or_
from sqlalchemy import Select
from sqlalchemy import select
from sqlalchemy import String
from sqlalchemy import table
from sqlalchemy.orm import aliased
from sqlalchemy.orm import contains_eager

from qosyl.extensions import db
from qosyl.models import Hashtag
from qosyl.models import Post
from qosyl.models import PostHashtag
from qosyl.models import PostMention
from qosyl.models import Room
from qosyl.models import Topic
from qosyl.models import User
from qosyl.reads.people import blocked_ids
from qosyl.reads.rooms import room_cards
from qosyl.reads.rooms import RoomCard

# At most this many words, and as many #tags and @names, are used from one query.
MAX_TERMS = 10
# Input past this length is ignored: ten words never need more.
MAX_QUERY_CHARS = 1000
# A longer "word" is noise (or an attempt at a huge query): it is dropped.
MAX_WORD_CHARS = 100
# Deeper pages are not served (and the OFFSET stays a small integer on every backend).
MAX_PAGE = 500
# A search with words ranks only this many of the newest matching posts (10 pages of 20):
# finding them newest first stops early however common the words, and at issue 15's scale
# (1M posts) no word costs more than ~12 ms (500: up to ~40 ms; see bench/README.md).
MAX_CANDIDATES = 200
# Posts on a page of the search page.
PER_PAGE = 20

# The shapes markup.py gives hashtags and mentions in a post: a tag is 1-64 letters,
# digits, underscores or combining marks with at least one letter; a username is 3-30
# ASCII letters, digits or underscores. Each runs to the first character that cannot
# be part of it, so "#python's" is the tag "python", as it is in a post.
TAG_MAX_LENGTH = 64
_USERNAME = re.compile(r"[A-Za-z0-9_]{3,30}(?![A-Za-z0-9_])")

# " first last" with hyphens as spaces, lower-cased: " word" in it starts a name or a part
# of one. Written out, so that on PostgreSQL it is the expression migration 0013 gave a
# trigram index, as is lower(username): the indexes find the names without reading every
# user (85 ms for 100,000 users).
NAMES_SQL = "replace(' ' || lower(users.first_name) || ' ' || lower(users.last_name), '-', ' ')"

# The FTS5 table, as a lightweight construct: it is not on the models.
_posts_fts = table("posts_fts", column("rowid"))
# Referring to the FTS5 table by name, as MATCH and bm25() want it.
_posts_fts_name = literal_column("posts_fts")
# The generated tsvector column (PostgreSQL only), not declared on Post.
_search_vector = literal_column(f"{Post.__tablename__}.search_vector")
_english = literal_column("'english'")


@dataclass(frozen=True)
class PostQuery:
    """A parsed post search: every part must match (see parse_query)."""

    words: tuple[str, ...]  # plain search words, as typed less surrounding punctuation
    tags: tuple[str, ...]  # from "#tag" terms, lower-cased, without '#'
    users: tuple[str, ...]  # from "@name" terms, without '@', lower-cased

    @property
    def is_empty(self) -> bool:
        return not (self.words or self.tags or self.users)


def _clean(q: str) -> str:
    """The input cut to length, with control, format and surrogate characters made spaces.

    NUL bytes and lone surrogates would make the database driver raise.
    """
    q = unicodedata.normalize("NFC", q[:MAX_QUERY_CHARS])
    return "".join(" " if unicodedata.category(char)[0] == "C" else char for char in q)


def _unique(items: list[str]) -> tuple[str, ...]:
    """The first MAX_TERMS distinct items (case-insensitively), in order."""
    seen: set[str] = set()
    kept: list[str] = []
    for item in items:
        key = item.casefold()
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return tuple(kept[:MAX_TERMS])


def _is_tag_char(char: str) -> bool:
    return char.isalnum() or char == "_" or unicodedata.category(char)[0] == "M"


def _is_word_char(char: str) -> bool:
    """A letter, digit or combining mark: what the full-text tokenizers index."""
    return char.isalnum() or unicodedata.category(char)[0] == "M"


def _tag(text: str) -> str | None:
    """The hashtag `text` starts with (after the '#'), in its stored form, or None."""
    end = 0
    while end < len(text) and _is_tag_char(text[end]):
        end += 1
    tag = text[:end]
    if not 0 < len(tag) <= TAG_MAX_LENGTH:
        return None
    # At least one letter: "#123" is not a tag.
    if not any(char.isalnum() and not char.isdecimal() for char in tag):
        return None
    return tag.lower()


def _word(term: str) -> str | None:
    """The term without the punctuation around it, or None when nothing is left to index."""
    start, end = 0, len(term)
    while start < end and not _is_word_char(term[start]):
        start += 1
    while end > start and not _is_word_char(term[end - 1]):
        end -= 1
    word = term[start:end]
    if not word or len(word) > MAX_WORD_CHARS or not any(char.isalnum() for char in word):
        return None
    return word


def parse_query(q: str) -> PostQuery:
    """Split a search box's text into words, #tags and @names.

    Terms are separated by whitespace. A term starting with '#' is a tag filter and one
    starting with '@' a user filter, read as markup.py reads them in a post: the name
    runs up to the first character that cannot be part of it ("#python," and
    "#python's" are "python"; "@bob." is "bob"), and a term whose name is not of the
    tag or username shape ("#123", "@ab", "#") is ignored. Every other term is a word,
    without the punctuation around it ("(tea)!" is "tea"); a word with no letter or
    digit ("*", "-", "(", an emoji) or longer than MAX_WORD_CHARS is ignored.
    Duplicates are dropped (words case-insensitively) and each kind is capped at
    MAX_TERMS. Any str is accepted; nothing here raises.
    """
    words: list[str] = []
    tags: list[str] = []
    users: list[str] = []
    for term in _clean(q).split():
        if term[0] == "#":
            if tag := _tag(term[1:]):
                tags.append(tag)
        elif term[0] == "@":
            if match := _USERNAME.match(term, 1):
                users.append(match.group().lower())
        elif word := _word(term):
            words.append(word)
    return PostQuery(words=_unique(words), tags=_unique(tags), users=_unique(users))


def fts5_expression(words: tuple[str, ...]) -> str:
    """An FTS5 MATCH expression requiring every word: each one a quoted FTS5 string.

    Inside a string FTS5 sees no operators, column filters or prefix stars; a double
    quote is written twice. A word of several tokens ("e-mail") is a phrase.
    Precondition: `words` is not empty.
    """
    return " ".join('"' + word.replace('"', '""') + '"' for word in words)


def _dialect_name() -> str:
    return db.session.get_bind().dialect.name


def _post_search_statement(viewer_id: int, query: PostQuery, dialect: str) -> Select:
    """The whole search as one SELECT of posts with their authors, best matches first."""
    # Posts the viewer may see that carry every tag and name every @user.
    conditions: list[ColumnElement[bool]] = [Post.author_id.not_in(blocked_ids(viewer_id))]
    if query.tags:
        # Posts carrying every tag: one row per (post, tag), and tag names are unique.
        conditions.append(
            Post.id.in_(
                select(PostHashtag.post_id)
                .join(Hashtag, Hashtag.id == PostHashtag.hashtag_id)
                .where(Hashtag.name.in_(query.tags))
                .group_by(PostHashtag.post_id)
                .having(func.count() == len(query.tags))
            )
        )
    for name in query.users:
        # An unknown name gives NULL, which matches nothing. An alias: `users` is joined below.
        named = aliased(User)
        user_id = select(named.id).where(func.lower(named.username) == name).scalar_subquery()
        conditions.append(
            or_(
                Post.author_id == user_id,
                Post.id.in_(select(PostMention.post_id).where(PostMention.user_id == user_id)),
            )
        )
    statement = (
        select(Post)
        .join(Post.author)
        # Every result shows its author: the join that keeps to verified authors loads them.
        .options(contains_eager(Post.author))
        .where(User.email_verified_at.is_not(None))
    )
    if not query.words:
        return statement.where(*conditions).order_by(Post.id.desc())
    if dialect == "postgresql":
        # plainto_tsquery ANDs the lexemes of all the words and reads no operators.
        tsquery = func.plainto_tsquery(_english, bindparam("words", " ".join(query.words)))
        match = _search_vector.bool_op("@@")(tsquery)
        rank = func.ts_rank_cd(_search_vector, tsquery).desc()
        candidates = select(Post.id).where(match, *conditions)
    else:
        # SQLite: the quoted words side by side are an implicit AND; bm25 is lower for better,
        # and only known in a query that MATCHes, so the ranking query matches again.
        words = bindparam("match", fts5_expression(query.words))
        match = _posts_fts_name.bool_op("MATCH")(words)
        rank = func.bm25(_posts_fts_name)
        candidates = (
            select(Post.id)
            .join(_posts_fts, _posts_fts.c.rowid == Post.id)
            .where(match, *conditions)
        )
        statement = statement.join(_posts_fts, _posts_fts.c.rowid == Post.id).where(match)
    # Only the newest matches are ranked: a common word matches most posts, and ranking them
    # all took seconds (bench/scale.py). Newest first, the database stops after
    # MAX_CANDIDATES matches; a rare word's few matches come from the full-text index.
    newest = candidates.order_by(Post.id.desc()).limit(MAX_CANDIDATES)
    return statement.where(Post.id.in_(newest.scalar_subquery())).order_by(rank, Post.id.desc())


def search_posts(
    viewer_id: int, q: str, *, page: int = 1, per_page: int = PER_PAGE
) -> tuple[list[Post], bool]:
    """One page of the posts matching `q` that `viewer_id` may see, and whether more follow.

    A post matches when its body holds every word (English stemming), it carries every
    #tag, and for each @name it is written by that user or mentions them. Only posts of
    verified authors outside any block relation with the viewer (either direction) are
    returned. With words, the newest MAX_CANDIDATES matches are taken and ranked, the best
    first (SQLite: bm25; PostgreSQL: ts_rank_cd), ties newest first: older matches are not
    found (the page says so), and pages end after MAX_CANDIDATES results. Without words,
    newest first, to page MAX_PAGE. Each post's `author` is loaded. Runs exactly one SQL
    query, or none when the query has nothing to search for or `page` is past MAX_PAGE.

    On PostgreSQL English stop words ("the", "and", ...) are ignored; a query of only
    stop words finds nothing. On SQLite every word must be in the post.

    Preconditions: inside an app context; `per_page` >= 1. A `page` below 1 is page 1.
    """
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    page = max(page, 1)
    query = parse_query(q)
    if query.is_empty or page > MAX_PAGE:
        return [], False
    statement = (
        _post_search_statement(viewer_id, query, _dialect_name())
        .limit(per_page + 1)
        .offset((page - 1) * per_page)
    )
    posts = list(db.session.scalars(statement))
    return posts[:per_page], len(posts) > per_page


def ranked_only_the_newest(q: str, page: int, per_page: int, shown: int, more: bool) -> int:
    """MAX_CANDIDATES when this page of a search ends where the newest matches that were
    ranked end (so older posts may match too), else 0: for the last page's note. `shown`
    posts are on the page, `more` says whether another follows."""
    ended = not more and (page - 1) * per_page + shown >= MAX_CANDIDATES
    return MAX_CANDIDATES if ended and parse_query(q).words else 0


def _people_words(q: str) -> tuple[str, ...]:
    """The query's distinct words, lower-cased, without a leading '@', at most MAX_TERMS."""
    words = []
    for term in _clean(q).split():
        word = term.removeprefix("@").lower()
        if word:
            words.append(word)
    return _unique(words)


def search_people(viewer_id: int, q: str, *, limit: int = 20) -> list[User]:
    """Verified users whose username or names match every word of `q`, best first.

    Each whitespace-separated word (case-insensitive, a leading '@' ignored) must start
    the username, or start the first name, the last name or a part of them after a
    space or hyphen ("ann" finds "Mary Ann" and "Smith-Annan"). % and _ match
    themselves. Users in a block relation with the viewer (either direction) are left
    out; the viewer is listed like anyone else when they match. Order: username equal
    to a word, then username starting with a word, then the rest; ties by first name,
    last name and username, case-insensitively. Runs one SQL query, or none when `q`
    has no word.

    On SQLite lower() folds only ASCII letters, so there a lower-case query does not
    find a name written with a non-ASCII capital (PostgreSQL folds every letter).

    Preconditions: inside an app context; `limit` >= 1.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    words = _people_words(q)
    if not words:
        return []
    return list(db.session.scalars(people_statement(viewer_id, words, limit)))


def people_statement(viewer_id: int, words: tuple[str, ...], limit: int) -> Select:
    """search_people's query for these words (not empty)."""
    username = func.lower(User.username)
    names = literal_column(NAMES_SQL, String)
    conditions: list[ColumnElement[bool]] = [
        or_(
            username.startswith(word, autoescape=True),
            names.contains(" " + word, autoescape=True),
        )
        for word in words
    ]
    rank = case(
        (username.in_(words), 0),
        (or_(*(username.startswith(word, autoescape=True) for word in words)), 1),
        else_=2,
    )
    return (
        select(User)
        .where(
            User.email_verified_at.is_not(None),
            User.id.not_in(blocked_ids(viewer_id)),
            *conditions,
        )
        .order_by(
            rank,
            func.lower(User.first_name),
            func.lower(User.last_name),
            username,
        )
        .limit(limit)
    )


# Rooms: full text over name and description, or the topic named in the query.

_rooms_fts = table("rooms_fts", column("rowid"))
_rooms_fts_name = literal_column("rooms_fts")


def search_rooms(q: str, *, page: int = 1, per_page: int = 20):
    """One page of rooms matching `q`, best first, and whether more follow.

    A room matches when its name and description hold every word (English stemming) or
    its topic's name contains the words as typed ("#python" searches for "python").
    Returns queries.RoomCard rows (topic, host, member count, last activity); one query.
    """

    parsed = parse_query(q)
    words = parsed.words + parsed.tags
    page = max(page, 1)
    if not words or page > MAX_PAGE:
        return [], False
    phrase = " ".join(word.lower() for word in words)
    topic_hit = Room.topic_id.in_(
        select(Topic.id).where(func.lower(Topic.name).contains(phrase, autoescape=True))
    )
    if _dialect_name() == "postgresql":
        vector = literal_column("rooms.search_vector")
        tsquery = func.plainto_tsquery(_english, bindparam("room_words", " ".join(words)))
        text_hit = vector.bool_op("@@")(tsquery)
        statement = (
            select(Room)
            .where(or_(text_hit, topic_hit))
            .order_by(func.ts_rank_cd(vector, tsquery).desc(), Room.id.desc())
        )
    else:
        matches = (
            select(
                _rooms_fts.c.rowid.label("room_id"),
                func.bm25(_rooms_fts_name).label("rank"),
            )
            .select_from(_rooms_fts)
            .where(
                _rooms_fts_name.bool_op("MATCH")(bindparam("room_match", fts5_expression(words)))
            )
            .subquery()
        )
        statement = (
            select(Room)
            .outerjoin(matches, matches.c.room_id == Room.id)
            .where(or_(matches.c.room_id.is_not(None), topic_hit))
            # Text matches by bm25 (lower is better); topic-only matches after them.
            .order_by(matches.c.rank.is_(None), matches.c.rank, Room.id.desc())
        )
    cards: list[RoomCard] = room_cards(statement.limit(per_page + 1).offset((page - 1) * per_page))
    return cards[:per_page], len(cards) > per_page
