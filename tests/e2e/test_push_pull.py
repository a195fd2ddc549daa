"""First scenario: bootstrap the admin, podman login, push to the global
namespace, pull it back with identical digests; a wrong password is refused."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.support.clients import Podman, Skopeo
from tests.e2e.support.oci import simple_image
from tests.e2e.support.stack import RunningStack


def test_admin_pushes_to_global_namespace_and_pulls_it_back(
        stack: RunningStack, admin: dict[str, str], workdir: Path) -> None:
    layout = workdir / "image"
    pushed = simple_image(layout, "v1", content="global", layers=2)
    skopeo = Skopeo(stack.host)
    creds = f"{admin['username']}:{admin['token']}"
    res = skopeo.push(layout, "v1", "busybox", creds)
    assert res.ok, res.err

    podman = Podman(stack.host, workdir / "podman")
    login = podman.login(admin["username"], admin["token"])
    assert login.ok, login.err
    pulled = podman.pull(f"{stack.host}/busybox:v1")
    assert pulled.ok, pulled.err
    assert podman.image_digest(f"{stack.host}/busybox:v1") == pushed
    assert skopeo.digest("busybox", "v1", creds) == pushed


def test_podman_login_with_wrong_password_is_refused(
        stack: RunningStack, admin: dict[str, str], workdir: Path) -> None:
    podman = Podman(stack.host, workdir / "podman")
    res = podman.login(admin["username"], "not-the-password")
    assert not res.ok
    assert "invalid username/password" in res.err or "401" in res.err


def test_anonymous_push_is_refused(stack: RunningStack, workdir: Path) -> None:
    layout = workdir / "image"
    simple_image(layout, "v1", content="anon")
    res = Skopeo(stack.host).push(layout, "v1", "anonymous-push", None)
    assert not res.ok
