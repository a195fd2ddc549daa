"""An in-memory stand-in for the token, catalog, audit and syncer APIs, speaking
their HTTP contract (Portus API v1 paths and fields, the one error shape), so
the web UI's pages can be tested without the other services' databases.

It records every request it receives, so tests can assert what the UI sent."""

from __future__ import annotations

import base64
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from flask import Flask, Response, jsonify, request

Json = dict[str, Any]


def _error(status: int, message: str, code: str = "ERROR",
           headers: dict[str, str] | None = None) -> Response:
    resp = jsonify({"message": message, "errors": [
        {"code": code, "message": message, "detail": {}}]})
    resp.status_code = status
    resp.headers.update(headers or {})
    return resp


def _page(items: list[Json]) -> Response:
    page = int(request.args.get("page", 1))
    per_page = int(request.args.get("per_page", 15))
    chunk = items if request.args.get("all") == "true" else \
        items[(page - 1) * per_page: page * per_page]
    resp = jsonify(chunk)
    resp.headers.update({"X-Total": str(len(items)), "X-Page": str(page),
                         "X-Total-Pages": str(max(1, -(-len(items) // per_page))),
                         "X-Per-Page": str(per_page)})
    return resp


@dataclass
class FakeBackend:
    """State of the fake services; tests arrange it directly."""

    users: dict[int, Json] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)  # API JWT -> user id
    refresh: dict[str, int] = field(default_factory=dict)
    app_tokens: dict[int, Json] = field(default_factory=dict)
    repositories: dict[int, Json] = field(default_factory=dict)
    tags: dict[int, list[Json]] = field(default_factory=dict)
    comments: dict[int, list[Json]] = field(default_factory=dict)
    stars: set[tuple[int, int]] = field(default_factory=set)
    namespaces: dict[int, Json] = field(default_factory=dict)
    teams: dict[int, Json] = field(default_factory=dict)
    members: dict[int, list[Json]] = field(default_factory=dict)
    audit: list[Json] = field(default_factory=list)
    audit_cap: int | None = None  # past this many records, a capped X-Total
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    sync_runs: list[Json] = field(default_factory=list)
    registries: list[Json] = field(default_factory=list)
    scans: dict[int, Json] = field(default_factory=dict)  # tag id -> the syncer's scan
    scanner_down: bool = False
    throttled: bool = False
    token_lifetime: int = 300
    ids: Any = field(default_factory=lambda: itertools.count(100))

    def add_user(self, username: str, password: str, admin: bool = False) -> Json:
        uid = next(self.ids)
        user = {"id": uid, "username": username, "email": f"{username}@example.test",
                "admin": admin, "enabled": True, "bot": False, "display_name": None,
                "locked_at": None}
        self.users[uid] = user
        self.passwords[username] = password
        return user

    def issue(self, user: Json) -> Json:
        token = jwt.encode({"sub": user["username"], "uid": user["id"],
                            "adm": user["admin"], "bot": False, "aud": "berth-api",
                            "jti": str(next(self.ids)), "iat": int(time.time())},
                           "fake-secret-of-the-fake-backend-only", algorithm="HS256")
        refresh = f"refresh-{next(self.ids)}"
        self.tokens[token] = user["id"]
        self.refresh[refresh] = user["id"]
        return {"token": token, "expires_in": self.token_lifetime,
                "refresh_token": refresh}

    def caller(self) -> Json | None:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            uid = self.tokens.get(header[7:])
            return self.users.get(uid) if uid else None
        return None


class Current:
    """The state the served app uses; tests swap it per test (one server per run)."""

    def __init__(self) -> None:
        self.state = FakeBackend()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["state"], name)


def create_fake_app(state: Any) -> Flask:
    """A Flask app serving every fake endpoint (``state``: a FakeBackend or Current)."""
    app = Flask("fake_backend")

    @app.before_request
    def _record() -> Response | None:
        body = request.get_json(silent=True)
        state.requests.append((request.method, request.path, body))
        if request.headers.get("Authorization", "").startswith("Bearer ") and \
                state.caller() is None:
            return _error(401, "invalid or expired token", "UNAUTHORIZED")
        return None

    def me() -> Json:
        user = state.caller()
        if user is None:
            raise _Abort(_error(401, "authentication required", "UNAUTHORIZED"))
        return user

    class _Abort(Exception):
        def __init__(self, resp: Response) -> None:
            self.resp = resp

    @app.errorhandler(_Abort)
    def _abort(err: _Abort) -> Response:
        return err.resp

    @app.get("/api/v1/health")
    def health() -> Response:
        return jsonify({"database": {"success": True, "msg": "ok"}})

    # -- token ---------------------------------------------------------------
    @app.post("/api/v1/auth/token")
    def auth_token() -> Response:
        if state.throttled:
            return _error(429, "too many attempts", "TOO_MANY_REQUESTS",
                          {"Retry-After": "42"})
        body = request.get_json(silent=True) or {}
        if body.get("grant_type") == "refresh_token":
            uid = state.refresh.pop(body.get("refresh_token", ""), None)
            if uid is None:
                return _error(401, "invalid refresh token", "UNAUTHORIZED")
            return jsonify(state.issue(state.users[uid]))
        raw = request.headers.get("Authorization", "")
        user_pw = base64.b64decode(raw[6:]).decode() if raw.startswith("Basic ") else ":"
        username, _, password = user_pw.partition(":")
        user = next((u for u in state.users.values() if u["username"] == username), None)
        if user is None or state.passwords.get(username) != password or \
                not user["enabled"]:
            return _error(401, "invalid credentials", "UNAUTHORIZED")
        return jsonify(state.issue(user))

    @app.post("/api/v1/users")
    def create_user() -> Response:
        fields = (request.get_json() or {}).get("user", {})
        if any(u["username"] == fields.get("username") for u in state.users.values()):
            return _error(422, "username has already been taken", "INVALID")
        user = state.add_user(fields["username"], fields.get("password", ""),
                              admin=not state.users)
        return jsonify(user), 201  # type: ignore[return-value]

    @app.get("/api/v1/users")
    def list_users() -> Response:
        if not me()["admin"]:
            return _error(403, "admin rights required", "DENIED")
        return _page(list(state.users.values()))

    @app.route("/api/v1/users/<int:uid>", methods=["GET", "PUT"])
    def user(uid: int) -> Response:
        caller = me()
        if uid not in state.users or (caller["id"] != uid and not caller["admin"]):
            return _error(404, "user not found", "NOT_FOUND")
        if request.method == "PUT":
            fields = (request.get_json() or {}).get("user", {})
            if "password" in fields:
                if state.passwords[caller["username"]] != fields.get("current_password"):
                    return _error(422, "current password is wrong", "INVALID")
                state.passwords[caller["username"]] = fields["password"]
            for key in ("display_name", "enabled", "admin"):
                if key in fields:
                    state.users[uid][key] = fields[key]
        return jsonify(state.users[uid])

    @app.route("/api/v1/users/<int:uid>/application_tokens", methods=["GET", "POST"])
    def app_tokens(uid: int) -> Response:
        if me()["id"] != uid:
            return _error(404, "user not found", "NOT_FOUND")
        if request.method == "POST":
            tid = next(state.ids)
            app_name = (request.get_json() or {}).get("application", "")
            if not app_name:
                return _error(422, "application is required", "INVALID")
            state.app_tokens[tid] = {"id": tid, "application": app_name, "user_id": uid}
            return jsonify({**state.app_tokens[tid],  # type: ignore[return-value]
                            "plain_token": f"plain-{tid}-secret"}), 201
        return _page([t for t in state.app_tokens.values() if t["user_id"] == uid])

    @app.delete("/api/v1/users/application_tokens/<int:tid>")
    def revoke(tid: int) -> Response:
        token = state.app_tokens.get(tid)
        if token is None or token["user_id"] != me()["id"]:
            return _error(404, "token not found", "NOT_FOUND")
        del state.app_tokens[tid]
        return Response(status=204)

    # -- catalog ---------------------------------------------------------------
    def visible(repo: Json) -> bool:
        ns = state.namespaces[repo["namespace"]["id"]]
        caller = state.caller()
        return ns["visibility"] == "public" or (caller is not None and (
            caller["admin"] or ns["visibility"] == "protected"
            or caller["username"] in ns.get("_members", [])))

    def repo_json(repo: Json) -> Json:
        caller = state.caller()
        uid = caller["id"] if caller else None
        return {**repo, "stars": sum(1 for s in state.stars if s[0] == repo["id"]),
                "tags_count": len(state.tags.get(repo["id"], [])),
                "starred": (repo["id"], uid) in state.stars,
                "destroyable": bool(caller and caller["admin"])}

    def find_repo(rid: int) -> Json:
        repo = state.repositories.get(rid)
        if repo is None or not visible(repo):
            raise _Abort(_error(404, "repository not found", "NOT_FOUND"))
        return repo

    @app.get("/api/v1/repositories")
    def repositories() -> Response:
        return _page([repo_json(r) for r in state.repositories.values() if visible(r)])

    @app.get("/api/v1/stars")
    def stars() -> Response:
        uid = me()["id"]
        return _page([repo_json(r) for r in state.repositories.values()
                      if (r["id"], uid) in state.stars])

    @app.get("/api/v1/authorize/explain")
    def explain() -> Response:
        caller = me()
        scope = request.args.get("scope", "")
        parts = scope.split(":")
        if len(parts) != 3 or parts[0] != "repository":
            return _error(422, "malformed scope", "INVALID")
        return jsonify({"user": caller["username"], "scopes": [{
            "scope": scope, "type": "repository", "name": parts[1], "actions": [
                {"action": a, "allowed": caller["admin"] or a == "pull",
                 "rule": "admin" if caller["admin"] else "public_pull"}
                for a in parts[2].split(",")]}]})

    @app.route("/api/v1/repositories/<int:rid>", methods=["GET", "PUT"])
    def repository(rid: int) -> Response:
        repo = find_repo(rid)
        if request.method == "PUT":
            if not me()["admin"]:
                return _error(403, "not allowed", "DENIED")
            repo["description"] = (request.get_json() or {})["repository"]["description"]
        return jsonify(repo_json(repo))

    @app.get("/api/v1/repositories/<int:rid>/tags")
    def tags(rid: int) -> Response:
        find_repo(rid)
        return _page(state.tags.get(rid, []))

    @app.delete("/api/v1/tags/<int:tid>")
    def delete_tag(tid: int) -> Response:
        if not me()["admin"]:
            return _error(403, "not allowed", "DENIED")
        for rid, tags in state.tags.items():
            doomed = next((t for t in tags if t["id"] == tid), None)
            if doomed:
                state.tags[rid] = [t for t in tags if t["digest"] != doomed["digest"]]
                return Response(status=204)
        return _error(404, "tag not found", "NOT_FOUND")

    @app.route("/api/v1/repositories/<int:rid>/stars", methods=["POST", "DELETE"])
    def star(rid: int) -> Response:
        find_repo(rid)
        key = (rid, me()["id"])
        if request.method == "POST":
            state.stars.add(key)
        else:
            state.stars.discard(key)
        return Response(status=204)

    @app.route("/api/v1/repositories/<int:rid>/comments", methods=["GET", "POST"])
    def comments(rid: int) -> Response:
        find_repo(rid)
        if request.method == "POST":
            body = (request.get_json() or {})["comment"]["body"]
            caller = me()
            comment = {"id": next(state.ids), "repository_id": rid, "body": body,
                       "author": {"id": caller["id"], "username": caller["username"]},
                       "created_at": "2026-01-01T00:00:00Z", "destroyable": True}
            state.comments.setdefault(rid, []).append(comment)
            return jsonify(comment), 201  # type: ignore[return-value]
        return _page(state.comments.get(rid, []))

    @app.get("/api/v1/namespaces")
    def namespaces() -> Response:
        return _page(list(state.namespaces.values()))

    @app.route("/api/v1/namespaces/<int:nid>", methods=["GET", "PUT"])
    def namespace(nid: int) -> Response:
        ns = state.namespaces.get(nid)
        if ns is None:
            return _error(404, "namespace not found", "NOT_FOUND")
        caller = state.caller()
        if request.method == "PUT":
            if not (caller and caller["admin"]):
                return _error(403, "not allowed", "DENIED")
            fields = (request.get_json() or {})["namespace"]
            if fields.get("visibility") not in (None, "private", "protected", "public"):
                return _error(422, "visibility is invalid", "INVALID")
            ns.update(fields)
        return jsonify({**ns, "updatable": bool(caller and caller["admin"])})

    @app.get("/api/v1/namespaces/<int:nid>/repositories")
    def namespace_repositories(nid: int) -> Response:
        return _page([repo_json(r) for r in state.repositories.values()
                      if r["namespace"]["id"] == nid and visible(r)])

    @app.get("/api/v1/teams")
    def teams() -> Response:
        me()
        return _page(list(state.teams.values()))

    @app.get("/api/v1/teams/<int:tid>")
    def team(tid: int) -> Response:
        caller = me()
        if tid not in state.teams:
            return _error(404, "team not found", "NOT_FOUND")
        return jsonify({**state.teams[tid], "updatable": caller["admin"]})

    @app.route("/api/v1/teams/<int:tid>/members", methods=["GET", "POST"])
    def members(tid: int) -> Response:
        caller = me()
        if request.method == "POST":
            if not caller["admin"]:
                return _error(403, "not allowed", "DENIED")
            body = request.get_json() or {}
            user = next((u for u in state.users.values()
                         if u["username"] == body.get("user")), None)
            if user is None:
                return _error(422, "user not found", "INVALID")
            member = {"id": next(state.ids), "team_id": tid, "user_id": user["id"],
                      "role": body["role"], "display_name": user["username"]}
            state.members.setdefault(tid, []).append(member)
            return jsonify(member), 201  # type: ignore[return-value]
        return _page(state.members.get(tid, []))

    @app.get("/api/v1/teams/<int:tid>/namespaces")
    def team_namespaces(tid: int) -> Response:
        return _page([n for n in state.namespaces.values()
                      if n.get("team", {}).get("id") == tid])

    @app.get("/api/v1/search")
    def search() -> Response:
        q = request.args.get("q", "").lower()
        return jsonify({
            "repositories": [repo_json(r) for r in state.repositories.values()
                             if q in r["full_name"].lower() and visible(r)],
            "namespaces": [n for n in state.namespaces.values() if q in n["name"]],
            "teams": [t for t in state.teams.values() if q in t["name"].lower()],
        })

    # -- audit -------------------------------------------------------------------
    @app.get("/api/v1/audit/events")
    def audit_events() -> Response:
        me()
        resp = _page(state.audit)
        page = int(request.args.get("page", 1))
        per_page = int(request.args.get("per_page", 15))
        shown = len(resp.get_json())
        if state.audit_cap is not None and len(state.audit) > state.audit_cap \
                and shown == per_page:
            # As the audit service answers: a lower bound, never below this page.
            total = max(state.audit_cap, (page - 1) * per_page + shown)
            resp.headers.update({"X-Total": str(total), "X-Total-Capped": "true",
                                 "X-Total-Pages": str(-(-total // per_page))})
        return resp

    @app.get("/api/v1/audit/verify")
    def audit_verify() -> Response:
        if not me()["admin"]:
            return _error(403, "admin rights required", "DENIED")
        return jsonify({"intact": False, "records": 7,
                        "broken": {"id": 5, "reason": "hash mismatch"}})

    @app.get("/api/v1/audit/export")
    def audit_export() -> Response:
        me()
        resp = Response("id,action\n1,repository.push\n", mimetype="text/csv")
        resp.headers["Content-Disposition"] = 'attachment; filename="audit-x.csv"'
        return resp

    # -- syncer and registries -------------------------------------------------------
    @app.route("/api/v1/sync", methods=["GET", "POST"])
    def sync() -> Response:
        if not me()["admin"]:
            return _error(403, "admin rights required", "DENIED")
        if request.method == "POST":
            run = {"id": len(state.sync_runs) + 1, "status": "running",
                   "triggered_by": "admin", "started_at": "2026-01-01T00:00:00Z",
                   "repositories": 3, "tags": 9, "added": 1, "removed": 0,
                   "changed": 0, "errors": 0, "error_details": []}
            state.sync_runs.insert(0, run)
            return jsonify(run), 202  # type: ignore[return-value]
        return _page(state.sync_runs)

    # -- syncer: scanning ----------------------------------------------------------
    @app.get("/internal/v1/scans")
    def scan_summaries() -> Response:
        if request.headers.get("X-Berth-Internal") != "internal-test-secret":
            return _error(401, "internal endpoint", "UNAUTHORIZED")
        if state.scanner_down:
            return _error(503, "database unavailable", "UNAVAILABLE")
        by_digest = {s["digest"]: s for s in state.scans.values()}
        out = {}
        for digest in request.args.getlist("digest"):
            scan = by_digest.get(digest)
            out[digest] = ({"status": scan["status"], "summary": scan["summary"],
                            "scanned_at": scan.get("scanned_at")}
                           if scan else {"status": "none", "summary": None,
                                         "scanned_at": None})
        return jsonify({"scans": out})

    @app.get("/api/v1/tags/<int:tag_id>/vulnerabilities")
    def tag_vulnerabilities(tag_id: int) -> Response:
        if tag_id not in state.scans:
            return _error(404, "tag not found", "TAG_UNKNOWN")
        return jsonify(state.scans[tag_id])

    @app.get("/api/v1/tags/<int:tag_id>/sbom")
    def tag_sbom(tag_id: int) -> Response:
        scan = state.scans.get(tag_id)
        if scan is None or scan["status"] != "done":
            return _error(404, "not inventoried yet", "SBOM_UNKNOWN")
        return jsonify({"bomFormat": "CycloneDX", "specVersion": "1.5",
                        "components": [{"name": v["package"]}
                                       for v in scan["vulnerabilities"]]})

    @app.post("/api/v1/vulnerabilities/<int:tag_id>")
    def rescan(tag_id: int) -> Response:
        if not me()["admin"]:
            return _error(403, "admin rights required", "DENIED")
        if tag_id not in state.scans:
            return _error(404, "tag not found", "TAG_UNKNOWN")
        state.scans[tag_id]["status"] = "none"
        return jsonify(state.scans[tag_id]), 202  # type: ignore[return-value]

    @app.route("/api/v1/registries", methods=["GET", "POST"])
    def registries() -> Response:
        if not me()["admin"]:
            return _error(403, "admin rights required", "DENIED")
        if request.method == "POST":
            fields = (request.get_json() or {}).get("registry", {})
            if not fields.get("hostname"):
                return _error(422, "hostname is required", "INVALID")
            state.registries.append({"id": next(state.ids), **fields})
            return jsonify(state.registries[-1]), 201  # type: ignore[return-value]
        return _page(state.registries)

    return app
