"""Each page's success path, forbidden actions hidden and refused, and the
escaping of user content."""

from __future__ import annotations

from flask.testing import FlaskClient

from services.webui.tests.conftest import post
from services.webui.tests.fake_backend import FakeBackend


def test_dashboard_shows_counts_repositories_and_activity(
        admin_client: FlaskClient) -> None:
    page = admin_client.get("/").get_data(as_text=True)
    assert "library/busybox" in page and "secret/hidden" in page
    assert "repository.push" in page
    assert "<strong>2</strong> repositories" in page


def test_explore_is_open_to_anonymous_visitors_with_public_repositories_only(
        client: FlaskClient) -> None:
    resp = client.get("/explore")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "library/busybox" in page
    assert "secret/hidden" not in page


def test_search_finds_repositories_and_renders_a_fragment_for_live_search(
        alice_client: FlaskClient) -> None:
    full = alice_client.get("/search?q=busy").get_data(as_text=True)
    assert "library/busybox" in full and "<html" in full
    fragment = alice_client.get("/search?q=busy&partial=1").get_data(as_text=True)
    assert "library/busybox" in fragment and "<html" not in fragment
    nothing = alice_client.get("/search?q=zzz").get_data(as_text=True)
    assert "Nothing matches" in nothing


def test_repository_page_shows_tags_pull_command_and_escapes_the_description(
        alice_client: FlaskClient) -> None:
    resp = alice_client.get("/repositories/10")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "docker pull registry.example.test:8080/library/busybox:latest" in page
    assert "aaaaaaaaaaaa" in page and "a" * 13 not in page.replace("a" * 64, "")
    assert "1.5 KB" in page and "3.0 MB" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; tiny" in page


def test_delete_links_are_hidden_from_who_may_not_delete(
        alice_client: FlaskClient) -> None:
    page = alice_client.get("/repositories/10").get_data(as_text=True)
    assert "/tags/1/delete" not in page and "Delete repository" not in page


def test_delete_is_refused_for_who_may_not_delete(alice_client: FlaskClient,
                                                  backend: FakeBackend) -> None:
    resp = post(alice_client, "/repositories/10/tags/1/delete")
    assert resp.status_code == 302
    assert len(backend.tags[10]) == 3
    page = alice_client.get("/repositories/10").get_data(as_text=True)
    assert "not allowed" in page


def test_tag_delete_confirmation_names_every_tag_sharing_the_digest(
        admin_client: FlaskClient, backend: FakeBackend) -> None:
    page = admin_client.get("/repositories/10/tags/1/delete").get_data(as_text=True)
    assert "will all be deleted" in page
    assert "<li>latest</li>" in page and "<li>v1</li>" in page
    assert "<li>v0</li>" not in page
    resp = post(admin_client, "/repositories/10/tags/1/delete")
    assert resp.status_code == 302
    assert [t["name"] for t in backend.tags[10]] == ["v0"]


def test_private_repository_is_not_found_for_anonymous_visitors(
        client: FlaskClient) -> None:
    resp = client.get("/repositories/11")
    assert resp.status_code == 404
    assert "secret" not in resp.get_data(as_text=True)


def test_star_and_unstar(alice_client: FlaskClient, backend: FakeBackend) -> None:
    assert post(alice_client, "/repositories/10/star",
                {"action": "star"}).status_code == 302
    alice_id = next(u["id"] for u in backend.users.values() if u["username"] == "alice")
    assert (10, alice_id) in backend.stars
    page = alice_client.get("/repositories/10").get_data(as_text=True)
    assert "Unstar" in page and "1 star" in page
    post(alice_client, "/repositories/10/star", {"action": "unstar"})
    assert (10, alice_id) not in backend.stars


def test_anonymous_star_goes_to_sign_in(client: FlaskClient,
                                        backend: FakeBackend) -> None:
    resp = post(client, "/repositories/10/star", {"action": "star"}, "/login")
    assert resp.headers["Location"].startswith("/login")
    assert not backend.stars


def test_comment_with_script_is_shown_as_text(alice_client: FlaskClient,
                                              backend: FakeBackend) -> None:
    post(alice_client, "/repositories/10/comments",
         {"body": "<script>alert('x')</script> hello"})
    assert backend.comments[10][0]["body"].startswith("<script>")
    page = alice_client.get("/repositories/10").get_data(as_text=True)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; hello" in page


def test_comment_without_csrf_token_is_refused(alice_client: FlaskClient,
                                               backend: FakeBackend) -> None:
    resp = alice_client.post("/repositories/10/comments", data={"body": "hi"})
    assert resp.status_code == 400
    assert 10 not in backend.comments


def test_namespace_page_and_visibility_change(admin_client: FlaskClient,
                                              backend: FakeBackend) -> None:
    page = admin_client.get("/namespaces/1").get_data(as_text=True)
    assert "library/busybox" in page and "Change visibility" in page
    resp = post(admin_client, "/namespaces/1", {"visibility": "protected"})
    assert resp.status_code == 302
    assert backend.namespaces[1]["visibility"] == "protected"
    assert "Namespace updated." in admin_client.get("/namespaces/1").get_data(
        as_text=True)


def test_visibility_switch_is_hidden_and_refused_for_non_managers(
        alice_client: FlaskClient, backend: FakeBackend) -> None:
    page = alice_client.get("/namespaces/1").get_data(as_text=True)
    assert "Change visibility" not in page
    post(alice_client, "/namespaces/1", {"visibility": "private"})
    assert backend.namespaces[1]["visibility"] == "public"


def test_invalid_visibility_shows_the_catalog_message(admin_client: FlaskClient) -> None:
    post(admin_client, "/namespaces/1", {"visibility": "everyone"})
    page = admin_client.get("/namespaces/1").get_data(as_text=True)
    assert "visibility is invalid" in page


def test_unknown_namespace_is_a_404_page(admin_client: FlaskClient) -> None:
    resp = admin_client.get("/namespaces/999")
    assert resp.status_code == 404 and "<html" in resp.get_data(as_text=True)


def test_teams_list_and_member_management(admin_client: FlaskClient,
                                          backend: FakeBackend) -> None:
    assert "qa" in admin_client.get("/teams").get_data(as_text=True)
    post(admin_client, "/teams/1/members", {"user": "alice", "role": "contributor"})
    assert backend.members[1][0]["role"] == "contributor"
    page = admin_client.get("/teams/1").get_data(as_text=True)
    assert "alice" in page and "alice added as contributor." in page


def test_team_page_hides_management_from_non_owners(alice_client: FlaskClient) -> None:
    page = alice_client.get("/teams/1").get_data(as_text=True)
    assert "Add a member" not in page


def test_profile_creates_a_token_shown_once_and_revokes_it(
        alice_client: FlaskClient, backend: FakeBackend) -> None:
    resp = post(alice_client, "/profile/tokens", {"application": "laptop"})
    assert resp.status_code == 201
    tid = next(iter(backend.app_tokens))
    assert f"plain-{tid}-secret" in resp.get_data(as_text=True)
    again = alice_client.get("/profile").get_data(as_text=True)
    assert "laptop" in again and f"plain-{tid}-secret" not in again
    post(alice_client, f"/profile/tokens/{tid}/revoke")
    assert not backend.app_tokens


def test_profile_token_without_name_shows_the_error(alice_client: FlaskClient) -> None:
    resp = post(alice_client, "/profile/tokens", {"application": ""})
    assert resp.status_code == 302
    assert "application is required" in alice_client.get("/profile").get_data(
        as_text=True)


def test_password_change_requires_the_current_password(
        alice_client: FlaskClient, backend: FakeBackend) -> None:
    post(alice_client, "/profile/password", {
        "current_password": "wrong", "password": "new-password-1",
        "password_confirmation": "new-password-1"})
    assert backend.passwords["alice"] == "alice-password"
    resp = post(alice_client, "/profile/password", {
        "current_password": "alice-password", "password": "new-password-1",
        "password_confirmation": "new-password-1"})
    assert resp.headers["Location"] == "/login"
    assert backend.passwords["alice"] == "new-password-1"


def test_display_name_change(alice_client: FlaskClient, backend: FakeBackend) -> None:
    post(alice_client, "/profile/display_name", {"display_name": "<b>Alice</b>"})
    page = alice_client.get("/profile").get_data(as_text=True)
    assert "&lt;b&gt;Alice&lt;/b&gt;" in page and "<b>Alice</b>" not in page


def test_explain_shows_each_action_and_its_rule(alice_client: FlaskClient) -> None:
    page = alice_client.get("/explain?repository=library/busybox").get_data(
        as_text=True)
    assert "public_pull" in page
    assert page.count('class="ok"') == 1 and page.count('class="bad"') == 2


def test_dashboard_lists_starred_repositories(alice_client: FlaskClient,
                                              backend: FakeBackend) -> None:
    post(alice_client, "/repositories/10/star", {"action": "star"})
    page = alice_client.get("/").get_data(as_text=True)
    assert "<strong>1</strong> starred" in page
