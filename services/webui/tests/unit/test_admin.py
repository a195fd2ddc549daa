"""Admin pages: refused to non-admins (and hidden from their navigation)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from services.webui.tests.conftest import post
from services.webui.tests.fake_backend import FakeBackend


@pytest.mark.parametrize("path", ["/admin/users", "/admin/registries", "/admin/sync",
                                  "/admin/audit", "/admin/health"])
def test_admin_pages_are_forbidden_to_users(alice_client: FlaskClient, path: str) -> None:
    resp = alice_client.get(path)
    assert resp.status_code == 403
    assert "for administrators" in resp.get_data(as_text=True)


def test_admin_link_is_hidden_from_users(alice_client: FlaskClient) -> None:
    assert "/admin/users" not in alice_client.get("/").get_data(as_text=True)


def test_admin_pages_require_sign_in(client: FlaskClient) -> None:
    resp = client.get("/admin/users")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_admin_disables_a_user(admin_client: FlaskClient, backend: FakeBackend) -> None:
    page = admin_client.get("/admin/users").get_data(as_text=True)
    assert "alice@example.test" in page
    alice = next(u for u in backend.users.values() if u["username"] == "alice")
    post(admin_client, f"/admin/users/{alice['id']}", {"action": "disable"})
    assert alice["enabled"] is False
    post(admin_client, f"/admin/users/{alice['id']}", {"action": "make_admin"})
    assert alice["admin"] is True


def test_user_toggle_without_csrf_is_refused(admin_client: FlaskClient,
                                             backend: FakeBackend) -> None:
    alice = next(u for u in backend.users.values() if u["username"] == "alice")
    resp = admin_client.post(f"/admin/users/{alice['id']}", data={"action": "disable"})
    assert resp.status_code == 400 and alice["enabled"] is True


def test_audit_page_lists_records(admin_client: FlaskClient) -> None:
    page = admin_client.get("/admin/audit?actor=admin").get_data(as_text=True)
    assert "repository.push" in page and "library/busybox" in page


def _many_records(backend: FakeBackend, count: int) -> None:
    backend.audit[:] = [{"id": i, "action": "repository.push",
                         "occurred_at": "2026-01-02T03:04:05Z",
                         "actor": {"name": "admin"},
                         "target": {"type": "repository", "name": f"library/r{i}"}}
                        for i in range(count, 0, -1)]


def test_audit_page_says_a_capped_total_is_a_lower_bound(
        admin_client: FlaskClient, backend: FakeBackend) -> None:
    _many_records(backend, 1025)
    backend.audit_cap = 1000
    page = admin_client.get("/admin/audit?actor=admin").get_data(as_text=True)
    assert "Page 1 of 50+ (1,000+ records)" in page
    assert 'href="/admin/audit?actor=admin&amp;page=2" rel="next"' in page
    # Past the cap a full page still leads on; the last page is exact.
    page = admin_client.get("/admin/audit?actor=admin&page=51").get_data(as_text=True)
    assert "Page 51 of 51+ (1,020+ records)" in page
    assert 'page=52" rel="next"' in page and 'page=50" rel="prev"' in page
    page = admin_client.get("/admin/audit?actor=admin&page=52").get_data(as_text=True)
    assert "Page 52 of 52 (1025)" in page and 'rel="next"' not in page
    assert "+" not in page.split('class="pager"')[1].split("</nav>")[0]


def test_audit_page_total_under_the_cap_is_exact(admin_client: FlaskClient,
                                                 backend: FakeBackend) -> None:
    _many_records(backend, 45)
    backend.audit_cap = 1000
    page = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "Page 1 of 3 (45)" in page and "records)" not in page


def test_health_page_reports_each_service(admin_client: FlaskClient) -> None:
    page = admin_client.get("/admin/health").get_data(as_text=True)
    assert page.count("healthy") >= 4


def test_sync_now_starts_a_run_and_the_page_lists_it(admin_client: FlaskClient,
                                                     backend: FakeBackend) -> None:
    assert "No synchronisation has run yet" in admin_client.get(
        "/admin/sync").get_data(as_text=True)
    assert post(admin_client, "/admin/sync").status_code == 302
    assert len(backend.sync_runs) == 1
    page = admin_client.get("/admin/sync").get_data(as_text=True)
    assert "running" in page and "A synchronisation has started." in page


def test_audit_verify_names_the_broken_record(admin_client: FlaskClient) -> None:
    page = admin_client.get("/admin/audit/verify").get_data(as_text=True)
    assert "broken at record 5: hash mismatch" in page


def test_audit_export_is_a_download(admin_client: FlaskClient) -> None:
    resp = admin_client.get("/admin/audit/export?format=csv&actor=admin")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    assert resp.get_data(as_text=True).startswith("id,action")


def test_registries_are_listed_and_added(admin_client: FlaskClient,
                                         backend: FakeBackend) -> None:
    post(admin_client, "/admin/registries", {"name": "second", "hostname": ""})
    assert not backend.registries
    assert "hostname is required" in admin_client.get(
        "/admin/registries").get_data(as_text=True)
    post(admin_client, "/admin/registries", {"name": "second",
                                             "hostname": "reg2.example:5000"})
    assert backend.registries[0]["hostname"] == "reg2.example:5000"
    assert "reg2.example:5000" in admin_client.get("/admin/registries").get_data(
        as_text=True)
