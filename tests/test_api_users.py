"""People through the JSON API: the directory and search, profiles, editing one's own
profile and picture; what another user, a blocked user and bad input get."""

from __future__ import annotations

import io

from qosyl.extensions import db
from qosyl.models import User
from tests import factories
from tests.helpers import api_error
from tests.helpers import ApiClient
from tests.helpers import count_queries
from tests.images import png


def test_the_directory_pages_newest_first_with_a_stable_cursor(app, user, make_user):
    people = [make_user(username=f"person{n}") for n in range(5)]
    api = ApiClient(app, user)
    first = api.get("/api/users/?limit=3").json
    assert [p["username"] for p in first["items"]] == ["person4", "person3", "person2"]
    assert first["next"]
    # Someone signing up meanwhile does not shift the next page.
    make_user(username="latecomer")
    second = api.get(f"/api/users/?limit=3&cursor={first['next']}").json
    assert [p["username"] for p in second["items"]] == ["person1", "person0", "alice"]
    assert second["next"] is None
    assert second["items"][2]["relation"]["is_self"] is True
    assert people[0].id == second["items"][1]["id"]


def test_the_directory_leaves_out_blocks_both_ways_and_unverified_accounts(
    app, user, other_user, make_user
):
    carol = make_user(username="carol")
    make_user(username="unverified", verified=False)
    factories.block(app, other_user, user)  # Bob blocked Alice
    factories.block(app, user, carol)  # Alice blocked Carol
    names = [p["username"] for p in ApiClient(app, user).get("/api/users/").json["items"]]
    assert names == ["alice"]


def test_search_finds_people_by_name(app, user, other_user):
    found = ApiClient(app, user).get("/api/users/?q=bak").json
    assert [p["username"] for p in found["items"]] == ["bob"]
    assert found["next"] is None
    assert found["items"][0]["relation"]["friends"] is False


def test_bad_list_arguments_are_refused(app, user):
    api = ApiClient(app, user)
    assert "limit" in api_error(api.get("/api/users/?limit=0"), 422)["fields"]
    assert "limit" in api_error(api.get("/api/users/?limit=101"), 422)["fields"]
    api_error(api.get("/api/users/?cursor=garbage"), 400)
    api_error(api.get("/api/users/?cursor=WzEsMl0"), 400)  # [1,2]: wrong shape


def test_the_directory_runs_the_same_queries_for_3_or_25_people(app, user, make_user):
    api = ApiClient(app, user)

    def queries() -> int:
        with count_queries(app) as log:
            assert api.get("/api/users/?limit=30").status_code == 200
        return len(log)

    for n in range(2):
        make_user(username=f"few{n}")
    few = queries()
    for n in range(22):
        make_user(username=f"many{n}")
    assert queries() == few <= 4


def test_a_profile_with_counts_and_relation(app, user, other_user):
    factories.befriend(app, user, other_user)
    factories.write_post(app, other_user, "Hello")
    body = ApiClient(app, user).get(f"/api/users/{other_user.id}/").json
    assert body["username"] == "bob"
    assert body["counts"] == {"posts": 1, "friends": 1, "followers": 0, "following": 0}
    assert body["relation"]["friends"] is True
    assert "email" not in body and "github" not in body


def test_my_own_profile_has_my_private_fields(app, user):
    body = ApiClient(app, user).get("/api/users/me/").json
    assert body["email"] == user.email and body["relation"]["is_self"] is True


def test_someone_who_blocked_me_or_is_unverified_is_not_found(app, user, other_user, make_user):
    hidden = make_user(username="hidden", verified=False)
    factories.block(app, other_user, user)
    api = ApiClient(app, user)
    assert api_error(api.get(f"/api/users/{other_user.id}/"), 404)["code"] == "not_found"
    api_error(api.get(f"/api/users/{hidden.id}/"), 404)
    api_error(api.get("/api/users/999999/"), 404)
    # Bob, the blocker, still sees Alice (to unblock her).
    assert ApiClient(app, other_user).get(f"/api/users/{user.id}/").status_code == 200


def test_i_edit_my_profile_with_the_web_forms_rules(app, user):
    api = ApiClient(app, user)
    response = api.put(
        f"/api/users/{user.id}/", json={"bio": "Tea and maps", "github": "github.com/alice"}
    )
    assert response.status_code == 200, response.json
    assert response.json["bio"] == "Tea and maps"
    assert response.json["github"] == "https://github.com/alice"
    error = api_error(
        api.patch(f"/api/users/{user.id}/", json={"bio": "x" * 161, "first_name": " "}), 422
    )
    assert error["fields"]["bio"] == "Use at most 160 characters."
    assert "first_name" in error["fields"]
    with app.app_context():
        assert db.session.get(User, user.id).bio == "Tea and maps"


def test_nobody_edits_another_persons_profile(app, user, other_user):
    api = ApiClient(app, other_user)
    api_error(api.put(f"/api/users/{user.id}/", json={"bio": "pwned"}), 403)
    files = {"avatar": (io.BytesIO(png()), "a.png")}
    api_error(api.post(f"/api/users/{user.id}/avatar/", data=files), 403)
    with app.app_context():
        assert db.session.get(User, user.id).bio == ""


def test_a_blocked_user_cannot_reach_the_blockers_profile_to_edit(app, user, other_user):
    factories.block(app, user, other_user)
    api_error(ApiClient(app, other_user).put(f"/api/users/{user.id}/", json={"bio": "x"}), 404)


def test_i_upload_and_remove_my_picture(app, user):
    api = ApiClient(app, user)
    files = {"avatar": (io.BytesIO(png()), "me.png")}
    response = api.post(f"/api/users/{user.id}/avatar/", data=files)
    assert response.status_code == 200, response.json
    assert response.json["avatar_url"].startswith("http://localhost/media/avatar/")
    response = api.delete(f"/api/users/{user.id}/avatar/")
    assert response.json["avatar_url"] is None


def test_a_file_that_is_not_an_image_is_refused_on_its_field(app, user):
    files = {"avatar": (io.BytesIO(b"not an image"), "me.png")}
    error = api_error(ApiClient(app, user).post(f"/api/users/{user.id}/avatar/", data=files), 422)
    assert set(error["fields"]) == {"avatar"}
    api_error(ApiClient(app, user).post(f"/api/users/{user.id}/avatar/", data={}), 422)
