"""A disabled user is refused at once, by the registry token endpoint and the API,
even though their password and application token were valid a moment before."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.support.api import Api
from tests.e2e.support.clients import Skopeo
from tests.e2e.support.oci import simple_image
from tests.e2e.support.stack import RunningStack


def test_disabling_a_user_refuses_their_next_request(
        stack: RunningStack, admin: dict[str, str], workdir: Path) -> None:
    api = Api(stack, admin["username"], admin["token"])
    erin = api.create_user("erin", "erin-password-1")
    token = stack.api("POST", f"/api/v1/users/{erin['id']}/application_tokens",
                      json={"application": "ci"}, auth=("erin", "erin-password-1"))
    assert token.status_code == 201, token.text
    creds = f"erin:{token.json()['plain_token']}"
    layout = workdir / "image"
    simple_image(layout, "v1", content="erin")
    skopeo = Skopeo(stack.host)
    assert skopeo.push(layout, "v1", "erin/app", creds).ok

    off = api.call("PUT", f"/api/v1/users/{erin['id']}",
                   json={"user": {"enabled": False}})
    assert off.status_code == 200, off.text

    for secret in ("erin-password-1", token.json()["plain_token"]):
        refused = stack.api("GET", "/v2/token", auth=("erin", secret),
                            params={"service": stack.host,
                                    "scope": "repository:erin/app:pull"})
        assert refused.status_code == 401
    assert not skopeo.push(layout, "v1", "erin/app2", creds).ok
    assert skopeo.digest("erin/app", "v1", creds) is None
    me = stack.api("GET", "/api/v1/users/" + str(erin["id"]),
                   headers={"Portus-Auth": creds})
    assert me.status_code == 401
