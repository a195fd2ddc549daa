"""THE authorization matrix: role x namespace kind x action x knob, one row per
case, named by behaviour."""

from __future__ import annotations

from dataclasses import replace

import pytest
from berth.catalog import policy
from berth.catalog.policy import Knobs, NamespaceFacts, Subject

ME = 10
SUBJECTS = {
    "admin": Subject(kind="user", user_id=1, username="root", admin=True),
    "owner": Subject(kind="user", user_id=ME, username="me"),
    "contributor": Subject(kind="user", user_id=ME, username="me"),
    "viewer": Subject(kind="user", user_id=ME, username="me"),
    "non_member": Subject(kind="user", user_id=ME, username="me"),
    "bot_contributor": Subject(kind="bot", user_id=ME, username="ci"),
    "anonymous": Subject(),
    "service": Subject(kind="service", username="berth", admin=True),
    "disabled_admin": Subject(kind="user", user_id=1, username="root", admin=True,
                              enabled=False),
    "disabled_owner": Subject(kind="user", user_id=ME, username="me", enabled=False),
}
ROLE_OF = {"owner": "owner", "contributor": "contributor", "viewer": "viewer",
           "bot_contributor": "contributor", "disabled_owner": "owner"}


def facts(kind: str, role: str | None) -> NamespaceFacts:
    if kind.startswith("team_"):
        return NamespaceFacts(name="team", kind="team",
                              visibility=kind.removeprefix("team_"), role=role)
    if kind == "personal_own":
        return NamespaceFacts(name="me", kind="personal", owner_user_id=ME)
    if kind == "personal_other":
        return NamespaceFacts(name="other", kind="personal", owner_user_id=99)
    if kind == "global":
        return NamespaceFacts(name="", kind="global", visibility="public")
    return NamespaceFacts(name="nowhere", exists=False)


KINDS = ("team_private", "team_protected", "team_public", "personal_own",
         "personal_other", "global", "unknown")
ALL = "pull push delete *"
# Expected grants with the default knobs: role -> kind -> granted actions.
MATRIX: dict[str, dict[str, str]] = {
    "admin": {k: ALL for k in KINDS},
    "service": {k: ALL for k in KINDS},
    "owner": {"team_private": ALL, "team_protected": ALL, "team_public": ALL,
              "personal_own": ALL, "personal_other": "", "global": "pull",
              "unknown": ""},
    "contributor": {"team_private": "pull push", "team_protected": "pull push",
                    "team_public": "pull push", "personal_own": ALL,
                    "personal_other": "", "global": "pull", "unknown": ""},
    "bot_contributor": {"team_private": "pull push", "team_protected": "pull push",
                        "team_public": "pull push", "personal_own": ALL,
                        "personal_other": "", "global": "pull", "unknown": ""},
    "viewer": {"team_private": "pull", "team_protected": "pull",
               "team_public": "pull", "personal_own": ALL, "personal_other": "",
               "global": "pull", "unknown": ""},
    "non_member": {"team_private": "", "team_protected": "pull",
                   "team_public": "pull", "personal_own": ALL,
                   "personal_other": "", "global": "pull", "unknown": ""},
    "anonymous": {"team_private": "", "team_protected": "", "team_public": "pull",
                  "personal_own": "", "personal_other": "", "global": "pull",
                  "unknown": ""},
    "disabled_admin": {k: "" for k in KINDS},
    "disabled_owner": {k: "" for k in KINDS},
}
CATALOG = {"admin": True, "service": True, "owner": False, "contributor": False,
           "bot_contributor": False, "viewer": False, "non_member": False,
           "anonymous": False, "disabled_admin": False, "disabled_owner": False}


def _cases() -> list[object]:
    out = []
    for role, kinds in MATRIX.items():
        for kind, granted in kinds.items():
            for action in ("pull", "push", "delete", "*"):
                expected = action in granted.split()
                verb = "can" if expected else "cannot"
                name = f"{role}_{verb}_{'star' if action == '*' else action}_{kind}"
                out.append(pytest.param(role, kind, action, expected, id=name))
    return out


@pytest.mark.parametrize(("role", "kind", "action", "expected"), _cases())
def test_default_matrix(role: str, kind: str, action: str, expected: bool) -> None:
    subject = SUBJECTS[role]
    ns = facts(kind, ROLE_OF.get(role))
    decision = policy.repository_actions(subject, ns, [action], Knobs())[action]
    assert decision.allowed is expected, decision.rule
    assert decision.rule  # every decision is explainable


@pytest.mark.parametrize("role", list(CATALOG), ids=lambda r: f"catalog_{r}")
def test_registry_catalog_only_admins_and_service(role: str) -> None:
    decision = policy.registry_actions(SUBJECTS[role], "catalog", ["*"])["*"]
    assert decision.allowed is CATALOG[role], decision.rule


def test_registry_resource_other_than_catalog_is_never_granted() -> None:
    decision = policy.registry_actions(SUBJECTS["admin"], "other", ["*"])["*"]
    assert not decision.allowed


# (name, role, kind, action, knob overrides, expected, expected rule)
KNOB_ROWS = [
    ("delete_disabled_refuses_owner", "owner", "team_private", "delete",
     {"delete_enabled": False}, False, "delete_disabled"),
    ("delete_disabled_refuses_admin", "admin", "team_private", "delete",
     {"delete_enabled": False}, False, "delete_disabled"),
    ("delete_disabled_refuses_star_for_owner", "owner", "team_private", "*",
     {"delete_enabled": False}, False, "delete_disabled"),
    ("delete_disabled_refuses_personal_owner", "non_member", "personal_own", "delete",
     {"delete_enabled": False}, False, "delete_disabled"),
    ("delete_disabled_keeps_push", "owner", "team_private", "push",
     {"delete_enabled": False}, True, "team_owner"),
    ("delete_contributors_lets_contributor_delete", "contributor", "team_private",
     "delete", {"delete_contributors": True}, True, "team_contributor_delete_enabled"),
    ("delete_contributors_gives_contributor_star", "contributor", "team_public", "*",
     {"delete_contributors": True}, True, "every_action_granted"),
    ("delete_contributors_not_viewer", "viewer", "team_private", "delete",
     {"delete_contributors": True}, False, "team_viewer_cannot_delete"),
    ("allow_personal_refuses_team_contributor_push", "contributor", "team_private",
     "push", {"push_policy": "allow-personal"}, False, "push_policy_allow_personal"),
    ("allow_personal_refuses_team_owner_push", "owner", "team_private", "push",
     {"push_policy": "allow-personal"}, False, "push_policy_allow_personal"),
    ("allow_personal_keeps_personal_push", "non_member", "personal_own", "push",
     {"push_policy": "allow-personal"}, True, "personal_namespace_owner"),
    ("allow_personal_keeps_admin_push", "admin", "team_private", "push",
     {"push_policy": "allow-personal"}, True, "admin"),
    ("admin_only_refuses_personal_push", "non_member", "personal_own", "push",
     {"push_policy": "admin-only"}, False, "push_policy_admin_only"),
    ("admin_only_refuses_team_owner_push", "owner", "team_public", "push",
     {"push_policy": "admin-only"}, False, "push_policy_admin_only"),
    ("admin_only_keeps_admin_push", "admin", "team_public", "push",
     {"push_policy": "admin-only"}, True, "admin"),
    ("admin_only_keeps_owner_pull", "owner", "team_private", "pull",
     {"push_policy": "admin-only"}, True, "team_owner"),
    ("no_anonymous_browsing_refuses_public_pull", "anonymous", "team_public", "pull",
     {"anonymous_browsing": False}, False, "anonymous_browsing_disabled"),
    ("no_anonymous_browsing_refuses_global_pull", "anonymous", "global", "pull",
     {"anonymous_browsing": False}, False, "anonymous_browsing_disabled"),
    ("no_anonymous_browsing_keeps_logged_in_public_pull", "non_member", "team_public",
     "pull", {"anonymous_browsing": False}, True, "public_namespace"),
]


@pytest.mark.parametrize(("role", "kind", "action", "knobs", "expected", "rule"),
                         [pytest.param(*row[1:], id=row[0]) for row in KNOB_ROWS])
def test_knobs(role: str, kind: str, action: str, knobs: dict[str, object],
               expected: bool, rule: str) -> None:
    decision = policy.repository_actions(SUBJECTS[role], facts(kind, ROLE_OF.get(role)),
                                         [action], replace(Knobs(), **knobs))[action]
    assert (decision.allowed, decision.rule) == (expected, rule)


def test_star_is_checked_per_action_not_first_only() -> None:
    # Portus granted "*,push" after checking only the first action.
    ns = facts("team_private", "contributor")
    out = policy.repository_actions(SUBJECTS["contributor"], ns, ["*", "push"], Knobs())
    assert not out["*"].allowed and out["push"].allowed


def test_unknown_action_is_refused() -> None:
    ns = facts("team_private", "owner")
    out = policy.repository_actions(SUBJECTS["owner"], ns, ["pull", "fly"], Knobs())
    assert out["pull"].allowed and out["fly"].rule == "unknown_action"


def test_admin_push_into_unknown_namespace_is_explained_as_creation() -> None:
    d = policy.can_push(SUBJECTS["admin"], facts("unknown", None), Knobs())
    assert d == policy.Decision(True, "admin_creates_namespace")


def test_user_push_into_unknown_namespace_is_refused_and_explained() -> None:
    d = policy.can_push(SUBJECTS["non_member"], facts("unknown", None), Knobs())
    assert d == policy.Decision(False, "namespace_unknown_only_admins_create")


def test_personal_namespace_without_owner_is_admins_only() -> None:
    orphan = NamespaceFacts(name="gone", kind="personal", owner_user_id=None)
    assert not policy.can_pull(SUBJECTS["non_member"], orphan, Knobs())
    assert policy.can_pull(SUBJECTS["admin"], orphan, Knobs())


# Management rules: (name, role, function, knobs, expected)
def _manage(role: str, what: str, knobs: Knobs) -> policy.Decision:
    s = SUBJECTS[role]
    team = facts("team_private", ROLE_OF.get(role))
    if what == "create_team":
        return policy.can_create_team(s, knobs)
    if what == "manage_team":
        return policy.can_manage_team(s, ROLE_OF.get(role), False, knobs)
    if what == "manage_hidden_team":
        return policy.can_manage_team(s, ROLE_OF.get(role), True, knobs)
    if what == "create_namespace":
        return policy.can_create_namespace(s, ROLE_OF.get(role), False, knobs)
    if what == "manage_namespace":
        return policy.can_manage_namespace(s, team, knobs)
    if what == "change_visibility":
        return policy.can_change_visibility(s, team, "public", knobs)
    if what == "make_global_private":
        return policy.can_change_visibility(s, facts("global", None), "private", knobs)
    if what == "make_global_protected":
        return policy.can_change_visibility(s, facts("global", None), "protected",
                                            knobs)
    if what == "delete_personal_namespace":
        return policy.can_delete_namespace(s, facts("personal_own", None), knobs)
    if what == "create_webhook":
        return policy.can_manage_webhooks(s, team, knobs, create=True)
    if what == "manage_webhook":
        return policy.can_manage_webhooks(s, team, knobs, create=False)
    raise AssertionError(what)


MANAGE_ROWS = [
    ("user_can_create_team", "non_member", "create_team", {}, True),
    ("anonymous_cannot_create_team", "anonymous", "create_team", {}, False),
    ("user_cannot_create_team_when_knob_off", "non_member", "create_team",
     {"create_team": False}, False),
    ("admin_creates_team_when_knob_off", "admin", "create_team",
     {"create_team": False}, True),
    ("owner_manages_team", "owner", "manage_team", {}, True),
    ("contributor_cannot_manage_team", "contributor", "manage_team", {}, False),
    ("owner_cannot_manage_team_when_knob_off", "owner", "manage_team",
     {"manage_team": False}, False),
    ("admin_manages_team_when_knob_off", "admin", "manage_team",
     {"manage_team": False}, True),
    ("nobody_manages_hidden_team", "admin", "manage_hidden_team", {}, False),
    ("contributor_creates_namespace", "contributor", "create_namespace", {}, True),
    ("viewer_cannot_create_namespace", "viewer", "create_namespace", {}, False),
    ("contributor_cannot_create_namespace_when_knob_off", "contributor",
     "create_namespace", {"create_namespace": False}, False),
    ("owner_manages_namespace", "owner", "manage_namespace", {}, True),
    ("contributor_cannot_manage_namespace", "contributor", "manage_namespace", {},
     False),
    ("owner_cannot_manage_namespace_when_knob_off", "owner", "manage_namespace",
     {"manage_namespace": False}, False),
    ("owner_changes_visibility", "owner", "change_visibility", {}, True),
    ("owner_cannot_change_visibility_when_knob_off", "owner", "change_visibility",
     {"change_visibility": False}, False),
    ("admin_changes_visibility_when_knob_off", "admin", "change_visibility",
     {"change_visibility": False}, True),
    ("even_admin_cannot_make_global_private", "admin", "make_global_private", {},
     False),
    ("admin_can_make_global_protected", "admin", "make_global_protected", {}, True),
    ("owner_cannot_touch_global_visibility", "owner", "make_global_protected", {},
     False),
    ("personal_namespace_is_never_deleted", "admin", "delete_personal_namespace", {},
     False),
    ("owner_creates_webhook", "owner", "create_webhook", {}, True),
    ("owner_cannot_create_webhook_when_knob_off", "owner", "create_webhook",
     {"create_webhook": False}, False),
    ("owner_cannot_manage_webhook_when_knob_off", "owner", "manage_webhook",
     {"manage_webhook": False}, False),
    ("viewer_cannot_manage_webhook", "viewer", "manage_webhook", {}, False),
    ("disabled_owner_manages_nothing", "disabled_owner", "manage_team", {}, False),
]


@pytest.mark.parametrize(("role", "what", "knobs", "expected"),
                         [pytest.param(*row[1:], id=row[0]) for row in MANAGE_ROWS])
def test_management(role: str, what: str, knobs: dict[str, object],
                    expected: bool) -> None:
    decision = _manage(role, what, replace(Knobs(), **knobs))
    assert decision.allowed is expected, decision.rule


def test_comment_deleted_by_author_or_admin_only() -> None:
    assert policy.can_delete_comment(SUBJECTS["owner"], ME)
    assert not policy.can_delete_comment(SUBJECTS["owner"], 99)
    assert policy.can_delete_comment(SUBJECTS["admin"], 99)
    assert not policy.can_delete_comment(SUBJECTS["anonymous"], None)
