"""Posts and comments through the JSON API: the feed, a person's posts, a hashtag, search,
writing with a photo, editing, deleting, likes, comments and replies; what another user, a
blocked user and bad input get, and the queries the lists run."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from qosyl.actions import accounts
from qosyl.actions import posts as post_actions
from qosyl.extensions import db
from qosyl.models import Comment
from qosyl.models import Post
from qosyl.models import PostLike
from qosyl.render import media
from tests import factories
from tests.helpers import api_error
from tests.helpers import ApiClient
from tests.helpers import count_queries
from tests.helpers import post as http_post
from tests.images import png

EMPTY_POST = "Write something or add a photo."


def the_post(app, post_id: int) -> Post | None:
    with app.app_context():
        return db.session.get(Post, post_id)


def the_comment(app, comment_id: int) -> Comment | None:
    with app.app_context():
        return db.session.get(Comment, comment_id)


def ids(body) -> list[int]:
    return [item["id"] for item in body["items"]]


def too_long_message(length: int, limit: int) -> str:
    return f"Use at most {limit:,} characters (this has {length:,})."


# The feed


def test_the_feed_shows_mine_and_my_friends_posts_newest_first(app, user, other_user, make_user):
    stranger = make_user(username="carol")
    factories.befriend(app, user, other_user)
    mine = factories.write_post(app, user, "my #Tea and #cake, not `#code`")
    theirs = factories.write_post(app, other_user, "bob writes")
    factories.write_post(app, stranger, "not for alice")
    factories.like_post(app, user, theirs)
    body = ApiClient(app, user).get("/api/posts/feed/").json
    assert ids(body) == [theirs, mine] and body["next"] is None
    bobs, alices = body["items"]
    assert bobs["author"]["username"] == "bob" and bobs["body"] == "bob writes"
    assert bobs["liked_by_me"] is True and bobs["like_count"] == 1
    assert bobs["can_edit"] is False and bobs["can_delete"] is False
    assert alices["tags"] == ["cake", "tea"] and alices["can_edit"] is True
    assert alices["image_url"] is None and alices["edited_at"] is None
    assert "body_html" not in alices and "<" not in str(body)


def test_the_feed_is_what_the_home_page_shows(app, user, other_user, client):
    factories.befriend(app, user, other_user)
    written = [factories.write_post(app, other_user, f"post number {n}") for n in range(25)]
    factories.login(client, user)
    html = client.get("/").get_data(as_text=True)
    body = ApiClient(app, user).get("/api/posts/feed/").json
    on_page = [n for n in written if f'id="post-{n}"' in html]
    assert ids(body) == sorted(on_page, reverse=True) and len(on_page) == 20


def test_the_feed_cursor_is_stable_under_new_posts(app, user):
    written = [factories.write_post(app, user, f"p{n}") for n in range(5)]
    api = ApiClient(app, user)
    first = api.get("/api/posts/feed/?limit=2").json
    assert ids(first) == written[:2:-1][:2]
    factories.write_post(app, user, "a newer one")
    second = api.get(f"/api/posts/feed/?limit=2&cursor={first['next']}").json
    assert ids(second) == [written[2], written[1]]
    third = api.get(f"/api/posts/feed/?limit=2&cursor={second['next']}").json
    assert ids(third) == [written[0]] and third["next"] is None
    api_error(api.get("/api/posts/feed/?cursor=garbage"), 400)
    assert "limit" in api_error(api.get("/api/posts/feed/?limit=101"), 422)["fields"]


def test_the_feed_leaves_out_people_in_a_block_with_me(app, user, other_user, make_user):
    carol = make_user(username="carol")
    factories.befriend(app, user, other_user)
    factories.befriend(app, user, carol)
    factories.write_post(app, other_user, "bob")
    kept = factories.write_post(app, carol, "carol")
    factories.block(app, other_user, user)
    assert ids(ApiClient(app, user).get("/api/posts/feed/").json) == [kept]


def test_the_feed_runs_the_same_queries_for_3_or_25_posts(app, user, other_user, make_user):
    factories.befriend(app, user, other_user)
    api = ApiClient(app, user)

    def queries() -> int:
        with count_queries(app) as log:
            response = api.get("/api/posts/feed/?limit=30")
        assert response.status_code == 200
        return len(log), len(response.json["items"])

    for n in range(3):
        post_id = factories.write_post(app, other_user, f"#few {n}")
        factories.like_post(app, user, post_id)
    few, shown = queries()
    assert shown == 3
    for n in range(22):
        factories.write_post(app, make_user(username=f"author{n}"), f"many {n}")
        factories.write_post(app, other_user, f"more #many {n}")
    # The caller, the posts with their authors, the caller's likes among them, their tags.
    assert queries() == (few, 25) and few == 4


# A person's posts, a hashtag, search


def test_a_persons_posts_as_their_profile_shows_them(app, user, other_user):
    written = [factories.write_post(app, other_user, f"bob {n}") for n in range(3)]
    factories.write_post(app, user, "alice")
    api = ApiClient(app, user)
    first = api.get(f"/api/posts/?author={other_user.id}&limit=2").json
    assert ids(first) == [written[2], written[1]]
    factories.write_post(app, other_user, "newer")
    second = api.get(f"/api/posts/?author={other_user.id}&limit=2&cursor={first['next']}").json
    assert ids(second) == [written[0]] and second["next"] is None


def test_a_blocker_s_posts_are_404_and_a_blocked_persons_are_not_listed(
    app, user, other_user, make_user
):
    carol = make_user(username="carol")
    factories.write_post(app, other_user, "bob")
    factories.write_post(app, carol, "carol")
    factories.block(app, other_user, user)  # Bob blocked Alice
    factories.block(app, user, carol)  # Alice blocked Carol
    api = ApiClient(app, user)
    api_error(api.get(f"/api/posts/?author={other_user.id}"), 404)
    api_error(api.get("/api/posts/?author=999999"), 404)
    # As on Carol's profile for Alice: no posts while she blocks her.
    assert api.get(f"/api/posts/?author={carol.id}").json == {"items": [], "next": None}


def test_posts_with_a_hashtag(app, user, other_user, make_user):
    carol = make_user(username="carol")
    tagged = [factories.write_post(app, other_user, f"about #Cooking {n}") for n in range(3)]
    factories.write_post(app, other_user, "nothing tagged")
    factories.write_post(app, carol, "#cooking too")
    factories.block(app, carol, user)
    api = ApiClient(app, user)
    first = api.get("/api/posts/?tag=COOKING&limit=2").json
    assert ids(first) == [tagged[2], tagged[1]]
    second = api.get(f"/api/posts/?tag=%23cooking&limit=2&cursor={first['next']}").json
    assert ids(second) == [tagged[0]] and second["next"] is None
    assert api.get("/api/posts/?tag=nothing").json["items"] == []


def test_search_finds_posts_as_the_search_page_does(app, user, other_user, make_user, client):
    carol = make_user(username="carol")
    found = [factories.write_post(app, other_user, f"running shoes {n}") for n in range(3)]
    factories.write_post(app, other_user, "walking")
    factories.write_post(app, carol, "running late")
    factories.block(app, user, carol)
    api = ApiClient(app, user)
    first = api.get("/api/posts/?q=run&limit=2").json
    second = api.get(f"/api/posts/?q=run&limit=2&cursor={first['next']}").json
    assert sorted(ids(first) + ids(second)) == found and second["next"] is None
    factories.login(client, user)
    html = client.get("/search?q=run").get_data(as_text=True)
    assert all(f'id="post-{n}"' in html for n in found) and "running late" not in html
    assert api.get("/api/posts/?q=%20").json == {"items": [], "next": None}
    assert ids(api.get("/api/posts/?q=%23nothing%20@bob").json) == []


def test_a_list_needs_exactly_one_filter(app, user):
    api = ApiClient(app, user)
    api_error(api.get("/api/posts/"), 422)
    api_error(api.get("/api/posts/?tag=a&q=b"), 422)
    assert "author" in api_error(api.get("/api/posts/?author=x"), 422)["fields"]
    api_error(api.get("/api/posts/?tag=a&cursor=WzEsMl0"), 400)


# The caller, (the author,) the posts with their authors, the caller's likes, their tags.
@pytest.mark.parametrize(("which", "budget"), [("author", 5), ("tag", 4), ("q", 4)])
def test_the_lists_run_the_same_queries_for_3_or_25_posts(app, user, other_user, which, budget):
    api = ApiClient(app, user)
    url = {
        "author": f"/api/posts/?author={other_user.id}&limit=30",
        "tag": "/api/posts/?tag=topic&limit=30",
        "q": "/api/posts/?q=topic&limit=30",
    }[which]

    def queries() -> tuple[int, int]:
        with count_queries(app) as log:
            response = api.get(url)
        assert response.status_code == 200
        return len(log), len(response.json["items"])

    for n in range(3):
        factories.like_post(app, user, factories.write_post(app, other_user, f"#topic {n}"))
    few, shown = queries()
    assert shown == 3
    for n in range(22):
        factories.write_post(app, other_user, f"#topic more {n}")
    assert queries() == (few, 25) and few == budget


# Writing


def test_i_post_in_json_and_my_friend_sees_it(app, user, other_user):
    factories.befriend(app, user, other_user)
    response = ApiClient(app, user).post("/api/posts/", json={"body": "Hello #World @bob"})
    assert response.status_code == 201, response.json
    post = response.json
    assert post["body"] == "Hello #World @bob" and post["tags"] == ["world"]
    assert post["like_count"] == 0 and post["can_delete"] is True
    assert post["author"]["id"] == user.id
    assert the_post(app, post["id"]).body == "Hello #World @bob"
    assert ids(ApiClient(app, other_user).get("/api/posts/feed/").json) == [post["id"]]


def test_a_post_with_a_photo_in_multipart(app, user):
    data = {"body": "a view", "image": (io.BytesIO(png()), "view.png")}
    response = ApiClient(app, user).post("/api/posts/", data=data)
    assert response.status_code == 201, response.json
    assert response.json["image_url"].startswith("http://localhost/media/post/")
    # A photo alone is a post too.
    data = {"image": (io.BytesIO(png()), "alone.png")}
    assert ApiClient(app, user).post("/api/posts/", data=data).status_code == 201


def test_empty_and_too_long_posts_get_the_web_forms_messages(app, user, client):
    api = ApiClient(app, user)
    for payload in ({}, {"body": "   "}):
        error = api_error(api.post("/api/posts/", json=payload), 422)
        assert error["fields"] == {"body": EMPTY_POST}
    assert (
        api_error(api.post("/api/posts/", data={"body": ""}), 422)["fields"]["body"] == EMPTY_POST
    )
    long = "x" * (post_actions.MAX_POST_LENGTH + 1)
    error = api_error(api.post("/api/posts/", json={"body": long}), 422)
    message = too_long_message(len(long), post_actions.MAX_POST_LENGTH)
    assert error["fields"] == {"body": message}
    factories.login(client, user)
    web = http_post(client, "/posts", {"body": long}, htmx=True)
    assert web.status_code == 422 and message in web.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Post)).all() == []


def test_a_bad_photo_is_refused_on_its_field_with_the_web_message(app, user):
    with app.test_request_context():
        with pytest.raises(media.ImageRejected) as rejected:
            media.process_image(io.BytesIO(b"not an image"), media.POST_IMAGE)
    data = {"body": "hi", "image": (io.BytesIO(b"not an image"), "x.png")}
    error = api_error(ApiClient(app, user).post("/api/posts/", data=data), 422)
    assert error["fields"] == {"image": str(rejected.value)}
    # A photo is a file: a string in JSON is refused.
    error = api_error(ApiClient(app, user).post("/api/posts/", json={"image": "x"}), 422)
    assert set(error["fields"]) == {"image"}
    with app.app_context():
        assert db.session.scalars(select(Post)).all() == []


@pytest.mark.app_config(MAX_CONTENT_LENGTH=50_000)
def test_a_too_large_upload_is_413(app, user):
    data = {"body": "big", "image": (io.BytesIO(b"x" * 60_000), "big.png")}
    error = api_error(ApiClient(app, user).post("/api/posts/", data=data), 413)
    assert error["code"] == "too_large"
    api_error(ApiClient(app, user).post("/api/posts/", json={"body": "x" * 60_000}), 413)
    with app.app_context():
        assert db.session.scalars(select(Post)).all() == []


# One post


def test_a_post_and_who_may_see_it(app, user, other_user, make_user):
    carol = make_user(username="carol")
    post_id = factories.write_post(app, other_user, "bob's")
    body = ApiClient(app, user).get(f"/api/posts/{post_id}/").json
    assert body["id"] == post_id and body["liked_by_me"] is False
    factories.block(app, other_user, user)
    api_error(ApiClient(app, user).get(f"/api/posts/{post_id}/"), 404)
    factories.block(app, carol, other_user)
    api_error(ApiClient(app, carol).get(f"/api/posts/{post_id}/"), 404)
    api_error(ApiClient(app, user).get("/api/posts/999999/"), 404)


def test_i_edit_my_post(app, user, other_user):
    post_id = factories.write_post(app, user, "first")
    api = ApiClient(app, user)
    response = api.put(f"/api/posts/{post_id}/", json={"body": "second #take"})
    assert response.status_code == 200, response.json
    assert response.json["body"] == "second #take" and response.json["tags"] == ["take"]
    assert response.json["edited_at"] is not None
    data = {"image": (io.BytesIO(png()), "p.png")}
    with_photo = api.patch(f"/api/posts/{post_id}/", data=data).json
    assert with_photo["body"] == "second #take" and with_photo["image_url"]
    removed = api.patch(f"/api/posts/{post_id}/", json={"remove_image": True}).json
    assert removed["image_url"] is None and the_post(app, post_id).image_key is None


def test_editing_with_bad_input_gets_the_web_forms_messages(app, user):
    post_id = factories.write_post(app, user, "first")
    api = ApiClient(app, user)
    error = api_error(api.put(f"/api/posts/{post_id}/", json={"body": " "}), 422)
    assert error["fields"] == {"body": EMPTY_POST}
    long = "y" * (post_actions.MAX_POST_LENGTH + 2)
    error = api_error(api.patch(f"/api/posts/{post_id}/", json={"body": long}), 422)
    assert error["fields"] == {"body": too_long_message(len(long), post_actions.MAX_POST_LENGTH)}
    assert the_post(app, post_id).body == "first"


def test_nobody_edits_or_deletes_another_persons_post(app, user, other_user, client):
    post_id = factories.write_post(app, user, "alice's")
    api = ApiClient(app, other_user)
    api_error(api.put(f"/api/posts/{post_id}/", json={"body": "bob's now"}), 403)
    api_error(api.delete(f"/api/posts/{post_id}/"), 403)
    # The web answers the same.
    factories.login(client, other_user)
    assert http_post(client, f"/p/{post_id}/edit", {"body": "x"}).status_code == 403
    assert the_post(app, post_id).body == "alice's"
    # Someone the author blocked does not even see it.
    factories.block(app, user, other_user)
    api_error(api.put(f"/api/posts/{post_id}/", json={"body": "x"}), 404)
    api_error(api.delete(f"/api/posts/{post_id}/"), 404)


def test_i_delete_my_post(app, user, other_user):
    post_id = factories.write_post(app, user, "gone soon")
    factories.write_comment(app, other_user, post_id, "nice")
    api = ApiClient(app, user)
    response = api.delete(f"/api/posts/{post_id}/")
    assert response.status_code == 204 and response.data == b""
    assert the_post(app, post_id) is None
    api_error(api.get(f"/api/posts/{post_id}/"), 404)


# Likes


def test_like_and_unlike(app, user, other_user):
    post_id = factories.write_post(app, other_user, "like me")
    api = ApiClient(app, user)
    assert api.post(f"/api/posts/{post_id}/like/").json == {"like_count": 1, "liked": True}
    assert api.post(f"/api/posts/{post_id}/like/").json == {"like_count": 1, "liked": True}
    assert ApiClient(app, other_user).get(f"/api/posts/{post_id}/").json["liked_by_me"] is False
    assert api.get(f"/api/posts/{post_id}/").json["liked_by_me"] is True
    assert api.delete(f"/api/posts/{post_id}/like/").json == {"like_count": 0, "liked": False}
    assert api.delete(f"/api/posts/{post_id}/like/").json == {"like_count": 0, "liked": False}
    with app.app_context():
        assert db.session.scalars(select(PostLike)).all() == []


def test_a_blocked_user_cannot_like(app, user, other_user):
    post_id = factories.write_post(app, other_user, "not for alice")
    factories.block(app, other_user, user)
    api = ApiClient(app, user)
    api_error(api.post(f"/api/posts/{post_id}/like/"), 404)
    api_error(api.delete(f"/api/posts/{post_id}/like/"), 404)
    assert the_post(app, post_id).like_count == 0


# Comments


def test_comments_come_as_threads_like_on_the_post_page(app, user, other_user, make_user):
    carol = make_user(username="carol")
    post_id = factories.write_post(app, user, "post")
    first = factories.write_comment(app, other_user, post_id, "first")
    reply = factories.write_comment(app, user, post_id, "a reply", parent_id=first)
    second = factories.write_comment(app, carol, post_id, "second")
    factories.write_comment(app, other_user, post_id, "under carol", parent_id=second)
    third = factories.write_comment(app, other_user, post_id, "third")
    api = ApiClient(app, user)
    page = api.get(f"/api/posts/{post_id}/comments/?limit=2").json
    assert ids(page) == [first, second]
    top = page["items"][0]
    assert top["parent_id"] is None and top["author"]["username"] == "bob"
    assert top["can_edit"] is False and top["can_delete"] is True  # Alice owns the post
    assert [r["id"] for r in top["replies"]] == [reply]
    assert top["replies"][0]["parent_id"] == first and top["replies"][0]["can_edit"] is True
    later = factories.write_comment(app, other_user, post_id, "later")
    rest = api.get(f"/api/posts/{post_id}/comments/?limit=2&cursor={page['next']}").json
    assert ids(rest) == [third, later] and rest["next"] is None
    # Bob sees no delete button on Carol's comment; Carol's, with her reply, go for Alice
    # once she blocks Carol.
    bobs_view = ApiClient(app, other_user).get(f"/api/posts/{post_id}/comments/").json
    assert [c["can_delete"] for c in bobs_view["items"]] == [True, False, True, True]
    factories.block(app, user, carol)
    assert ids(api.get(f"/api/posts/{post_id}/comments/").json) == [first, third, later]


def test_the_comments_of_a_post_hidden_by_a_block_are_404(app, user, other_user):
    post_id = factories.write_post(app, other_user, "post")
    factories.block(app, other_user, user)
    api = ApiClient(app, user)
    api_error(api.get(f"/api/posts/{post_id}/comments/"), 404)
    api_error(api.post(f"/api/posts/{post_id}/comments/", json={"body": "hi"}), 404)


def test_comments_run_the_same_queries_for_3_or_25_threads(app, user, other_user):
    post_id = factories.write_post(app, user, "post")
    api = ApiClient(app, user)

    def queries() -> tuple[int, int]:
        with count_queries(app) as log:
            response = api.get(f"/api/posts/{post_id}/comments/?limit=30")
        assert response.status_code == 200
        return len(log), len(response.json["items"])

    def thread(n: int) -> None:
        parent = factories.write_comment(app, other_user, post_id, f"c{n}")
        factories.write_comment(app, user, post_id, f"r{n}", parent_id=parent)

    for n in range(3):
        thread(n)
    few, shown = queries()
    for n in range(22):
        thread(n)
    # The caller, the post with its author, the page of comments with their authors.
    assert shown == 3 and queries() == (few, 25) and few == 3


def test_i_comment_and_reply(app, user, other_user):
    post_id = factories.write_post(app, other_user, "post")
    api = ApiClient(app, user)
    response = api.post(f"/api/posts/{post_id}/comments/", json={"body": "nice"})
    assert response.status_code == 201, response.json
    comment = response.json
    assert comment["body"] == "nice" and comment["parent_id"] is None
    assert comment["can_edit"] is True and comment["can_delete"] is True
    reply = api.post(
        f"/api/posts/{post_id}/comments/", json={"body": "me again", "parent_id": comment["id"]}
    ).json
    assert reply["parent_id"] == comment["id"]
    # A reply to a reply joins the thread.
    deeper = api.post(
        f"/api/posts/{post_id}/comments/", json={"body": "deeper", "parent_id": reply["id"]}
    ).json
    assert deeper["parent_id"] == comment["id"]
    assert the_post(app, post_id).comment_count == 3
    threads = ApiClient(app, other_user).get(f"/api/posts/{post_id}/comments/").json["items"]
    assert [r["id"] for r in threads[0]["replies"]] == [reply["id"], deeper["id"]]


def test_bad_comments_get_the_web_forms_messages(app, user, other_user, make_user):
    post_id = factories.write_post(app, other_user, "post")
    other_post = factories.write_post(app, other_user, "another")
    elsewhere = factories.write_comment(app, other_user, other_post, "elsewhere")
    api = ApiClient(app, user)
    url = f"/api/posts/{post_id}/comments/"
    error = api_error(api.post(url, json={"body": "  "}), 422)
    assert error["fields"] == {"body": "Write a comment first."}
    long = "z" * (post_actions.MAX_COMMENT_LENGTH + 1)
    error = api_error(api.post(url, json={"body": long}), 422)
    assert error["fields"] == {"body": too_long_message(len(long), post_actions.MAX_COMMENT_LENGTH)}
    error = api_error(api.post(url, json={"body": "hi", "parent_id": elsewhere}), 409)
    assert error["message"] == "That comment belongs to another post."
    api_error(api.post(url, json={"body": "hi", "parent_id": 999999}), 404)
    # A reply to the comment of someone in a block with me: as on the web, 404.
    carol = make_user(username="carol")
    hers = factories.write_comment(app, carol, post_id, "carol's")
    factories.block(app, carol, user)
    api_error(api.post(url, json={"body": "hi", "parent_id": hers}), 404)
    assert the_post(app, post_id).comment_count == 1


def test_i_edit_my_comment(app, user, other_user):
    post_id = factories.write_post(app, other_user, "post")
    comment_id = factories.write_comment(app, user, post_id, "typo")
    api = ApiClient(app, user)
    response = api.put(f"/api/comments/{comment_id}/", json={"body": "fixed"})
    assert response.status_code == 200, response.json
    assert response.json["body"] == "fixed" and response.json["edited_at"] is not None
    error = api_error(api.patch(f"/api/comments/{comment_id}/", json={"body": ""}), 422)
    assert error["fields"] == {"body": "A comment cannot be empty. Delete it instead."}
    assert the_comment(app, comment_id).body == "fixed"


def test_nobody_edits_another_persons_comment(app, user, other_user):
    post_id = factories.write_post(app, user, "post")
    comment_id = factories.write_comment(app, other_user, post_id, "bob's")
    api = ApiClient(app, user)
    # Not even the post's owner.
    api_error(api.put(f"/api/comments/{comment_id}/", json={"body": "alice's"}), 403)
    factories.block(app, other_user, user)
    api_error(api.put(f"/api/comments/{comment_id}/", json={"body": "alice's"}), 404)
    assert the_comment(app, comment_id).body == "bob's"


def test_who_may_delete_a_comment(app, user, other_user, make_user):
    carol = make_user(username="carol")
    post_id = factories.write_post(app, user, "alice's post")
    bobs = factories.write_comment(app, other_user, post_id, "bob's")
    reply = factories.write_comment(app, carol, post_id, "carol's reply", parent_id=bobs)
    carols = factories.write_comment(app, carol, post_id, "carol's")
    # Carol may not delete Bob's comment; once Bob blocks her she cannot see it.
    api_error(ApiClient(app, carol).delete(f"/api/comments/{bobs}/"), 403)
    factories.block(app, other_user, carol)
    api_error(ApiClient(app, carol).delete(f"/api/comments/{bobs}/"), 404)
    # Bob deletes his own, with the reply under it.
    assert ApiClient(app, other_user).delete(f"/api/comments/{bobs}/").status_code == 204
    assert the_comment(app, bobs) is None and the_comment(app, reply) is None
    # Alice owns the post: she deletes Carol's comment, even after blocking her.
    factories.block(app, user, carol)
    assert ApiClient(app, user).delete(f"/api/comments/{carols}/").status_code == 204
    assert the_comment(app, carols) is None
    assert the_post(app, post_id).comment_count == 0
    api_error(ApiClient(app, user).delete(f"/api/comments/{carols}/"), 404)


def test_a_comment_whose_author_left_stays_above_its_replies(app, user, other_user, make_user):
    carol = make_user(username="carol")
    post_id = factories.write_post(app, user, "post")
    left = factories.write_comment(app, carol, post_id, "carol's")
    reply = factories.write_comment(app, other_user, post_id, "bob answers", parent_id=left)
    with app.app_context():
        accounts.delete_account(factories.reload(carol), factories.PASSWORD)
    (thread,) = ApiClient(app, other_user).get(f"/api/posts/{post_id}/comments/").json["items"]
    assert thread["id"] == left and thread["deleted"] is True and thread["author"] is None
    assert thread["body"] == "" and thread["can_edit"] is False and thread["can_delete"] is False
    assert [r["id"] for r in thread["replies"]] == [reply]
    api_error(ApiClient(app, other_user).put(f"/api/comments/{left}/", json={"body": "x"}), 403)
