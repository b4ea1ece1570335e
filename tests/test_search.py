"""Search: posts by full text, #tags and @people (FTS5 on SQLite, tsvector on PostgreSQL),
and people by username and name."""

from __future__ import annotations

import pytest
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import update

from qosyl.extensions import db
from qosyl.models import Hashtag
from qosyl.models import Post
from qosyl.models import PostHashtag
from qosyl.models import PostMention
from qosyl.models import User
from qosyl.reads import search
from qosyl.reads.search import fts5_expression
from qosyl.reads.search import parse_query
from qosyl.reads.search import people_statement
from qosyl.reads.search import PostQuery
from qosyl.reads.search import search_people
from qosyl.reads.search import search_posts
from tests import factories
from tests.factories import block
from tests.helpers import assert_query_count


def add_post(
    app, author: User, body: str, *, tags: tuple[str, ...] = (), mentions: tuple[User, ...] = ()
) -> int:
    """A committed post with its hashtag and mention rows; returns its id."""
    with app.app_context():
        post = Post(author_id=author.id, body=body, body_html="")
        db.session.add(post)
        db.session.flush()
        for name in tags:
            tag = db.session.scalar(select(Hashtag).where(Hashtag.name == name))
            if tag is None:
                tag = Hashtag(name=name)
                db.session.add(tag)
                db.session.flush()
            db.session.add(PostHashtag(post_id=post.id, hashtag_id=tag.id))
        for mentioned in mentions:
            db.session.add(PostMention(post_id=post.id, user_id=mentioned.id))
        db.session.commit()
        return post.id


def found(app, viewer: User, q: str, **kwargs) -> list[int]:
    """Ids of the posts `viewer` finds with `q`, in order."""
    with app.app_context():
        posts, _ = search_posts(viewer.id, q, **kwargs)
        return [post.id for post in posts]


def people(app, viewer: User, q: str, **kwargs) -> list[str]:
    with app.app_context():
        return [person.username for person in search_people(viewer.id, q, **kwargs)]


# parse_query


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("", PostQuery((), (), ())),
        ("   \t\n ", PostQuery((), (), ())),
        ("hello world", PostQuery(("hello", "world"), (), ())),
        ("#Python #python #PYTHON", PostQuery((), ("python",), ())),
        ("@Bob_99 hi", PostQuery(("hi",), (), ("bob_99",))),
        ("#python, @bob. (tea)!", PostQuery(("tea",), ("python",), ("bob",))),
        ("#Қазақ", PostQuery((), ("қазақ",), ())),
        ("#123 # #_ #-a @ab @ @toolong_toolong_toolong_toolong_", PostQuery((), (), ())),
        # Tags and names run as far as in a post.
        ("#python's @bob's #c++ #a-b", PostQuery((), ("python", "c", "a"), ("bob",))),
        ("#हिन्दी हिन्दी!", PostQuery(("हिन्दी",), ("हिन्दी",), ())),
        ("#" + "t" * 64 + " #" + "t" * 65, PostQuery((), ("t" * 64,), ())),
        ("#snake_case_42", PostQuery((), ("snake_case_42",), ())),
        ('AND "OR" NOT', PostQuery(("AND", "OR", "NOT"), (), ())),
        ("* - : ( ) \" ''", PostQuery((), (), ())),
        ("body:x NEAR(a b) -x", PostQuery(("body:x", "NEAR(a", "b", "x"), (), ())),
        ("Tea tea TEA", PostQuery(("Tea",), (), ())),
        ("қазақ 🎉 cake🎂", PostQuery(("қазақ", "cake"), (), ())),
        ("a\x00b \ud800c", PostQuery(("a", "b", "c"), (), ())),
    ],
)
def test_parse_query(q, expected):
    assert parse_query(q) == expected


def test_parse_query_caps_each_kind_at_ten():
    query = parse_query(" ".join(f"w{n} #t{n} @user{n}" for n in range(15)))
    assert query.words == tuple(f"w{n}" for n in range(10))
    assert query.tags == tuple(f"t{n}" for n in range(10))
    assert query.users == tuple(f"user{n}" for n in range(10))


def test_parse_query_drops_overlong_words_and_input():
    assert parse_query("x" * 5000) == PostQuery((), (), ())
    assert len(parse_query("word " * 1000).words) == 1


def test_fts5_expression_quotes_every_word():
    assert fts5_expression(("AND", 'say"hi', "body:x")) == '"AND" "say""hi" "body:x"'


# Posts: matching


def test_words_match_with_english_stemming(app, user, other_user):
    running = add_post(app, other_user, "I was running in the park")
    add_post(app, other_user, "Reading a book")
    assert found(app, user, "run") == [running]
    assert found(app, user, "RUNS") == [running]
    assert found(app, user, "parks") == [running]


def test_every_word_must_match(app, user, other_user):
    both = add_post(app, other_user, "Green tea with honey")
    add_post(app, other_user, "Green apples")
    add_post(app, other_user, "Honey cake")
    assert found(app, user, "honey green") == [both]
    assert found(app, user, "green honey lemon") == []


def test_more_mentions_in_a_short_body_rank_first(app, user, other_user):
    once = add_post(
        app,
        other_user,
        "Yesterday we walked along the river, ate lunch in a small cafe, looked at old "
        "houses, talked about work and holidays, and somewhere in the middle drank coffee "
        "before taking the long bus ride home through the hills at sunset.",
    )
    thrice = add_post(app, other_user, "Coffee, coffee and more coffee.")
    # Newer posts do not jump ahead of better matches.
    assert once < thrice
    assert found(app, user, "coffee") == [thrice, once]
    later = add_post(app, other_user, "One more long walk mentioning coffee " + "and stuff " * 30)
    assert found(app, user, "coffee")[0] == thrice
    assert set(found(app, user, "coffee")) == {once, thrice, later}


def test_equal_matches_are_newest_first(app, user, other_user):
    ids = [add_post(app, other_user, "Same words here") for _ in range(3)]
    assert found(app, user, "words") == ids[::-1]


def test_tags_match_case_insensitively_and_all_must_match(app, user, other_user):
    python = add_post(app, other_user, "Snakes", tags=("python",))
    both = add_post(app, other_user, "Snakes again", tags=("python", "flask"))
    add_post(app, other_user, "Web", tags=("flask",))
    add_post(app, other_user, "No tags, but python in the text")
    assert found(app, user, "#PYTHON") == [both, python]
    assert found(app, user, "#Python #flask") == [both]
    assert found(app, user, "#nothing") == []


def test_user_filter_finds_posts_by_and_about_the_user(app, user, other_user, make_user):
    carol = make_user(username="carol")
    by_bob = add_post(app, other_user, "My own post")
    about_bob = add_post(app, carol, "Thanks for lunch", mentions=(other_user,))
    add_post(app, carol, "Nothing to do with him")
    assert found(app, user, "@Bob") == [about_bob, by_bob]
    assert found(app, user, "@bob @carol") == [about_bob]
    assert found(app, user, "@nobody") == []


def test_words_tags_and_users_combine(app, user, other_user, make_user):
    carol = make_user(username="carol")
    match = add_post(app, carol, "Baking bread with @bob", tags=("baking",), mentions=(other_user,))
    add_post(app, carol, "Baking bread alone", tags=("baking",))
    add_post(app, carol, "Baking bread with @bob, untagged", mentions=(other_user,))
    cookies = add_post(app, other_user, "Baked cookies", tags=("baking",))
    assert found(app, user, "bread #baking @bob") == [match]
    by_bob = add_post(app, other_user, "Baked more bread", tags=("baking",))
    assert set(found(app, user, "bake #Baking @BOB")) == {match, cookies, by_bob}
    assert set(found(app, user, "bakes breads #Baking @BOB")) == {match, by_bob}


def test_pages_of_twenty(app, user, other_user):
    with app.app_context():
        posts = [
            Post(author_id=other_user.id, body=f"Daily note {n}", body_html="") for n in range(25)
        ]
        db.session.add_all(posts)
        db.session.commit()
        ids = [post.id for post in posts]
    with app.app_context():
        first, more = search_posts(user.id, "note")
        assert [post.id for post in first] == ids[::-1][:20] and more
        second, more = search_posts(user.id, "note", page=2)
        assert [post.id for post in second] == ids[::-1][20:] and not more
        assert search_posts(user.id, "note", page=3) == ([], False)
        assert [post.id for post in search_posts(user.id, "note", page=0)[0]] == ids[::-1][:20]
        small, more = search_posts(user.id, "note", page=5, per_page=5)
        assert [post.id for post in small] == ids[::-1][20:] and not more
    with app.app_context(), pytest.raises(ValueError):
        search_posts(user.id, "note", per_page=0)


# Posts: only the newest matches are ranked


def add_posts(app, author: User, bodies: list[str]) -> list[int]:
    with app.app_context():
        posts = [Post(author_id=author.id, body=body, body_html="") for body in bodies]
        db.session.add_all(posts)
        db.session.commit()
        return [post.id for post in posts]


def test_only_the_newest_matches_are_ranked(app, user, other_user, monkeypatch):
    monkeypatch.setattr(search, "MAX_CANDIDATES", 4)
    best_but_old = add_post(app, other_user, "Coffee, coffee and sugar coffee.")
    newer = add_posts(
        app,
        other_user,
        ["Note coffee", "Note coffee", "Coffee, coffee", "Note coffee", "Note coffee"],
    )
    # The four newest matches, the better one first, then newest first; the older best
    # match is not ranked at all.
    assert found(app, user, "coffee") == [newer[2], newer[4], newer[3], newer[1]]
    # Narrowing the search reaches further back.
    assert found(app, user, "coffee sugar") == [best_but_old]


def test_pages_of_the_ranked_matches_neither_overlap_nor_skip(app, user, other_user, monkeypatch):
    monkeypatch.setattr(search, "MAX_CANDIDATES", 7)
    add_posts(app, other_user, ["Tea " + "filler " * (n % 4) for n in range(10)])
    with app.app_context():
        pages = [search_posts(user.id, "tea", page=n, per_page=3) for n in (1, 2, 3, 4)]
        everything, _ = search_posts(user.id, "tea", per_page=50)
    assert [more for _, more in pages] == [True, True, False, False]
    ids = [post.id for posts, _ in pages for post in posts]
    assert len(ids) == len(set(ids)) == 7
    assert ids == [post.id for post in everything]


def test_posts_the_viewer_cannot_see_take_no_ranked_place(
    app, user, other_user, make_user, monkeypatch
):
    monkeypatch.setattr(search, "MAX_CANDIDATES", 3)
    carol = make_user(username="carol")
    visible = add_posts(app, other_user, ["Garden one", "Garden two", "Garden three"])
    add_posts(app, carol, ["Garden four", "Garden five", "Garden six"])
    block(app, user, carol)
    assert sorted(found(app, user, "garden")) == visible


def test_searches_without_words_page_on_past_the_ranked_matches(app, user, other_user, monkeypatch):
    monkeypatch.setattr(search, "MAX_CANDIDATES", 3)
    ids = [add_post(app, other_user, "Untagged", tags=("tea",)) for _ in range(5)]
    assert found(app, user, "#tea") == ids[::-1]


def test_the_last_page_says_when_older_posts_may_match(app, client, user, other_user, monkeypatch):
    monkeypatch.setattr(search, "MAX_CANDIDATES", 22)
    add_posts(app, other_user, [f"Tea note {n}" for n in range(30)])
    factories.login(client, user)
    note = "best of the newest 22 matching posts"
    assert note not in client.get("/search?q=tea").text
    assert note in client.get("/search?q=tea&page=2").text
    monkeypatch.setattr(search, "MAX_CANDIDATES", 40)
    # All 30 ranked: nothing older was left out.
    assert note.replace("22", "40") not in client.get("/search?q=tea&page=2").text


# Posts: who is visible


def test_blocks_hide_posts_both_ways(app, user, other_user, make_user):
    carol = make_user(username="carol")
    dave = make_user(username="dave")
    add_post(app, other_user, "Garden tomatoes from bob")
    add_post(app, carol, "Garden tomatoes from carol")
    visible = add_post(app, dave, "Garden tomatoes from dave")
    block(app, other_user, user)  # bob blocked the viewer
    block(app, user, carol)  # the viewer blocked carol
    assert found(app, user, "tomato") == [visible]
    assert found(app, user, "#garden @bob") == []
    # Blocks between others do not matter.
    block(app, carol, dave)
    assert found(app, user, "tomatoes") == [visible]


def test_posts_of_unverified_authors_are_left_out(app, user, make_user):
    ghost = make_user(username="ghost", verified=False)
    add_post(app, ghost, "Unverified musings")
    assert found(app, user, "musings") == []
    assert found(app, user, "@ghost") == []


def test_viewer_finds_their_own_posts(app, user):
    mine = add_post(app, user, "My own thoughts")
    assert found(app, user, "thoughts") == [mine]


# Posts: the index follows changes


def test_an_edited_post_is_found_by_its_new_words_only(app, user, other_user):
    post_id = add_post(app, other_user, "Original wording about mountains")
    with app.app_context():
        db.session.execute(update(Post).where(Post.id == post_id).values(body="Now about oceans"))
        db.session.commit()
    assert found(app, user, "mountains") == []
    assert found(app, user, "original") == []
    assert found(app, user, "oceans") == [post_id]


def test_a_deleted_post_is_gone(app, user, other_user):
    kept = add_post(app, other_user, "Sunny weather today")
    gone = add_post(app, other_user, "Sunny weather tomorrow", tags=("weather",))
    with app.app_context():
        db.session.execute(delete(Post).where(Post.id == gone))
        db.session.commit()
    assert found(app, user, "sunny") == [kept]
    assert found(app, user, "#weather") == []


# Posts: hostile and unusual input


HOSTILE = [
    '"',
    '""',
    "AND",
    "OR NOT",
    "*",
    "body:x",
    "NEAR(a b)",
    "-x",
    "(",
    ")",
    "^",
    "'; DROP TABLE posts; --",
    "x" * 5000,
    "word " * 1000,
    ("a" * 60 + " ") * 90,
    "🎉",
    "🎉🎂 💛",
    "\x00",
    "\ud800",
    "%",
    "_",
    "\\",
]


@pytest.mark.parametrize("q", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_neither_raises_nor_matches_everything(app, user, other_user, q):
    add_post(app, other_user, "Plain post about cats")
    add_post(app, other_user, "Another post about dogs", tags=("pets",))
    add_post(app, other_user, "Celebration 🎉 with cake 🎂")
    assert found(app, user, q) == []
    # The table is still there.
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Post)) == 3


def test_operator_words_are_searched_as_words(app, user, other_user):
    near = add_post(app, other_user, "Meet me near the station")
    add_post(app, other_user, "Meet me at home")
    assert found(app, user, "NEAR") == [near]
    assert found(app, user, "station*") == [near]
    assert found(app, user, "-home") == found(app, user, "home") != []


def test_unicode_words(app, user, other_user):
    kazakh = add_post(app, other_user, "қазақ тілі сабағы")
    add_post(app, other_user, "English lesson")
    assert found(app, user, "қазақ") == [kazakh]
    assert found(app, user, "тілі қазақ") == [kazakh]
    assert found(app, user, "қазақ English") == []
    hindi = add_post(app, other_user, "हिन्दी भाषा", tags=("हिन्दी",))
    assert found(app, user, "हिन्दी") == [hindi]
    assert found(app, user, "#हिन्दी") == [hindi]


def test_empty_query_touches_no_database(app, user):
    with assert_query_count(app, 0), app.app_context():
        assert search_posts(user.id, "") == ([], False)
        assert search_posts(user.id, "  * ( 🎉 #1 @x ") == ([], False)
        assert search_posts(user.id, "anything", page=10_000) == ([], False)


# Posts: query budget


@pytest.mark.parametrize("matches", [2, 25])
@pytest.mark.parametrize("q", ["garden", "#garden", "@bob", "garden #garden @bob"])
def test_post_search_runs_one_query_whatever_the_number_of_results(
    app, user, other_user, make_user, matches, q
):
    carol = make_user(username="carol")
    with app.app_context():
        garden = Hashtag(name="garden")
        db.session.add(garden)
        db.session.flush()
        for n in range(matches):
            post = Post(author_id=carol.id, body=f"Garden diary, day {n}", body_html="")
            db.session.add(post)
            db.session.flush()
            db.session.add(PostHashtag(post_id=post.id, hashtag_id=garden.id))
            db.session.add(PostMention(post_id=post.id, user_id=other_user.id))
        db.session.commit()
    block(app, user, make_user(username="blocked"))
    with assert_query_count(app, 1), app.app_context():
        posts, more = search_posts(user.id, q)
        # Authors come with the posts (Post.author raises on a lazy load).
        assert {post.author.username for post in posts} == {"carol"}
    assert len(posts) == min(matches, 20)
    assert more == (matches > 20)


# People


def test_people_ranked_exact_then_prefix_then_by_name(app, user, make_user):
    make_user(username="anna", first_name="Zoe", last_name="Zed")
    make_user(username="annabel", first_name="Yara", last_name="Young")
    make_user(username="zed1", first_name="Anna", last_name="Black")
    make_user(username="zed2", first_name="Mary Ann", last_name="Adams")
    make_user(username="zed3", first_name="Tom", last_name="Smith-Annan")
    make_user(username="zed4", first_name="Hanna", last_name="Nope")
    assert people(app, user, "ANNA") == ["anna", "annabel", "zed1", "zed3"]
    # Both usernames start with "ann": their first names decide.
    assert people(app, user, "@ann") == ["annabel", "anna", "zed1", "zed2", "zed3"]
    assert people(app, user, "ann", limit=2) == ["annabel", "anna"]


def test_people_every_word_must_match(app, user, make_user):
    make_user(username="tom_s", first_name="Tom", last_name="Smith")
    make_user(username="tom_j", first_name="Tom", last_name="Jones")
    assert people(app, user, "tom smi") == ["tom_s"]
    assert people(app, user, "Smith TOM") == ["tom_s"]
    assert people(app, user, "tom_ jones") == ["tom_j"]


def test_people_wildcards_match_literally(app, user, make_user):
    make_user(username="under_score", first_name="Una", last_name="One")
    make_user(username="underXscore", first_name="Una", last_name="Two")
    make_user(username="percent", first_name="Per", last_name="Cent")
    assert people(app, user, "under_") == ["under_score"]
    assert people(app, user, "%") == []
    assert people(app, user, "_") == []
    assert people(app, user, "per%") == []
    assert people(app, user, "/") == []
    assert people(app, user, "\\") == []


def test_people_leave_out_blocks_and_unverified(app, user, other_user, make_user):
    carol = make_user(username="bobcat")
    make_user(username="bobby", verified=False)
    visible = make_user(username="bobo")
    block(app, other_user, user)
    block(app, user, carol)
    assert people(app, user, "bob") == [visible.username]


def test_people_include_the_viewer_when_they_match(app, user):
    assert people(app, user, "alice") == ["alice"]
    assert people(app, user, "Archer") == ["alice"]


@pytest.mark.parametrize("q", ["", "   ", "@", "@ @"])
def test_people_empty_query_touches_no_database(app, user, q):
    with assert_query_count(app, 0), app.app_context():
        assert search_people(user.id, q) == []


@pytest.mark.parametrize("q", HOSTILE, ids=range(len(HOSTILE)))
def test_people_hostile_input(app, user, other_user, q):
    assert people(app, user, q) == []


@pytest.mark.parametrize("members", [2, 25])
def test_people_search_runs_one_query(app, user, make_user, members):
    for n in range(members):
        make_user(username=f"member{n}")
    with assert_query_count(app, 1), app.app_context():
        found_people = search_people(user.id, "member")
    assert len(found_people) == min(members, 20)


def test_people_search_reads_the_trigram_indexes_on_postgresql(app, user):
    """The query's expressions are those migration 0013 indexed, character for character:
    otherwise PostgreSQL reads every user (85 ms for 100,000)."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the trigram indexes are PostgreSQL's")
        statement = people_statement(user.id, ("ann", "smi"), 5)
        sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(db.session.scalars(text("EXPLAIN " + sql)))
        db.session.rollback()
    assert "ix_users_username_trgm" in plan and "ix_users_names_trgm" in plan, plan
