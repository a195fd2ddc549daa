"""A team's life through the whole stack: a contributor pushes with podman and
the tag appears with its digest and author; a viewer's push is refused; an
admin deletes the tag through the API and the registry no longer has it."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.support.api import Api, eventually
from tests.e2e.support.clients import Podman, Skopeo
from tests.e2e.support.oci import simple_image
from tests.e2e.support.stack import RunningStack


def test_contributor_push_viewer_refused_admin_delete(
        stack: RunningStack, admin: dict[str, str], workdir: Path) -> None:
    api = Api(stack, admin["username"], admin["token"])
    api.create_user("carol", "carol-password-1")
    api.create_user("victor", "victor-password-1")
    team = api.call("POST", "/api/v1/teams", json={"team": {"name": "devs"}})
    assert team.status_code == 201, team.text
    team_id = team.json()["id"]

    def add(user: str, role: str) -> bool:
        # The catalog learns of new users from the bus: retry until it has.
        resp = api.call("POST", f"/api/v1/teams/{team_id}/members",
                        json={"user": user, "role": role})
        assert resp.status_code in (201, 422), resp.text
        return resp.status_code == 201

    eventually(lambda: add("carol", "contributor"))
    eventually(lambda: add("victor", "viewer"))
    ns = api.call("POST", "/api/v1/namespaces",
                  json={"namespace": {"name": "devs", "team": "devs"}})
    assert ns.status_code == 201, ns.text

    layout = workdir / "image"
    simple_image(layout, "v1", content="team", layers=2)
    carol = Podman(stack.host, workdir / "carol")
    assert carol.login("carol", "carol-password-1").ok
    loaded = carol.pull(f"oci:{layout}:v1")  # into podman's own storage
    assert loaded.ok, loaded.err
    image_id = loaded.out.strip().splitlines()[-1]
    pushed = carol.push(image_id, f"{stack.host}/devs/app:v1")
    assert pushed.ok, pushed.err

    skopeo = Skopeo(stack.host)
    admin_creds = f"{admin['username']}:{admin['token']}"
    digest = skopeo.digest("devs/app", "v1", admin_creds)
    assert digest

    repo = eventually(lambda: api.repository("devs/app"))
    tag = eventually(lambda: next((t for t in api.tags(repo["id"])
                                   if t["name"] == "v1"), None))
    assert tag["digest"] == digest
    assert tag["author"]["name"] == "carol"

    victor = Podman(stack.host, workdir / "victor")
    assert victor.login("victor", "victor-password-1").ok
    assert victor.pull(f"oci:{layout}:v1").ok
    refused = victor.push(image_id, f"{stack.host}/devs/app:v2")
    assert not refused.ok

    deleted = api.call("DELETE", f"/api/v1/tags/{tag['id']}")
    assert deleted.status_code in (200, 202, 204), deleted.text
    assert skopeo.digest("devs/app", "v1", admin_creds) is None
    eventually(lambda: all(t["name"] != "v1" for t in api.tags(repo["id"]))
               if api.repository("devs/app") else True)
