"""The scope parser, one row per behaviour."""

from __future__ import annotations

import pytest
from berth.common.errors import BadRequest
from berth.token.services.scopes import Scope, parse_scopes

R = "repository"

VALID = [
    ("pull_and_push", ["repository:foo/bar:pull,push"],
     [Scope(R, "foo/bar", ("pull", "push"))]),
    ("global_repository", ["repository:busybox:pull"], [Scope(R, "busybox", ("pull",))]),
    ("plugin_class", ["repository(plugin):foo/bar:pull"],
     [Scope(R, "foo/bar", ("pull",), "plugin")]),
    ("registry_catalog", ["registry:catalog:*"], [Scope("registry", "catalog", ("*",))]),
    ("hostname_with_port", ["repository:localhost:5000/foo/bar:pull"],
     [Scope(R, "localhost:5000/foo/bar", ("pull",))]),
    ("dotted_hostname", ["repository:reg.example.com/a/b/c:push"],
     [Scope(R, "reg.example.com/a/b/c", ("push",))]),
    ("deep_slashes", ["repository:a/b/c/d:pull"], [Scope(R, "a/b/c/d", ("pull",))]),
    ("separators", ["repository:my_ns/re-po.x__y:pull"],
     [Scope(R, "my_ns/re-po.x__y", ("pull",))]),
    ("unknown_action_dropped", ["repository:foo:pull,frobnicate"],
     [Scope(R, "foo", ("pull",))]),
    ("only_unknown_actions", ["repository:foo:frobnicate"], [Scope(R, "foo", ())]),
    ("empty_action_list", ["repository:foo:"], [Scope(R, "foo", ())]),
    ("star_action", ["repository:foo:*"], [Scope(R, "foo", ("*",))]),
    ("canonical_order", ["repository:foo:delete,push,pull"],
     [Scope(R, "foo", ("pull", "push", "delete"))]),
    ("repeated_scopes_merge", ["repository:foo:pull", "repository:foo:push"],
     [Scope(R, "foo", ("pull", "push"))]),
    ("space_separated_in_one_param", ["repository:a:pull repository:b:push"],
     [Scope(R, "a", ("pull",)), Scope(R, "b", ("push",))]),
    ("class_is_a_distinct_resource", ["repository:foo:pull", "repository(plugin):foo:push"],
     [Scope(R, "foo", ("pull",)), Scope(R, "foo", ("push",), "plugin")]),
    ("order_is_kept", ["repository:b:pull", "repository:a:pull", "repository:b:push"],
     [Scope(R, "b", ("pull", "push")), Scope(R, "a", ("pull",))]),
    ("no_scope", [], []),
    ("empty_scope_param", [""], []),
]

INVALID = [
    ("unknown_type", "widget:foo:pull"),
    ("missing_actions", "repository:foo"),
    ("only_type", "repository"),
    ("empty_name", "repository::pull"),
    ("upper_case_name", "repository:Foo:pull"),
    ("trailing_slash", "repository:foo/:pull"),
    ("leading_slash", "repository:/foo:pull"),
    ("double_slash", "repository:a//b:pull"),
    ("bad_separator", "repository:foo..bar:pull"),
    ("upper_case_action", "repository:foo:PULL"),
    ("action_with_symbols", "repository:foo:pu$ll"),
    ("uppercase_type", "Repository:foo:pull"),
    ("unclosed_class", "repository(plugin:foo:pull"),
    ("empty_class", "repository():foo:pull"),
    ("registry_unknown_resource", "registry:users:*"),
    ("registry_with_class", "registry(x):catalog:*"),
    ("name_too_long", "repository:" + "a" * 256 + ":pull"),
    ("spaces_in_name", "repository:fo o:pull"),
    ("newline", "repository:foo:pull\n"),
]


@pytest.mark.parametrize(("case", "values", "expected"), VALID, ids=[v[0] for v in VALID])
def test_valid_scopes(case: str, values: list[str], expected: list[Scope]) -> None:
    assert parse_scopes(values) == expected


@pytest.mark.parametrize(("case", "raw"), INVALID, ids=[v[0] for v in INVALID])
def test_malformed_scope_fails_the_whole_request(case: str, raw: str) -> None:
    with pytest.raises(BadRequest) as info:
        parse_scopes(["repository:fine:pull", raw])
    assert info.value.code == "SCOPE_INVALID"
    assert info.value.status == 400


def test_too_many_scopes_are_refused() -> None:
    with pytest.raises(BadRequest):
        parse_scopes([f"repository:r{i}:pull" for i in range(65)])


def test_claim_form_has_class_only_when_set() -> None:
    assert Scope(R, "a", ("pull",)).to_claim() == {"type": R, "name": "a",
                                                  "actions": ["pull"]}
    assert Scope(R, "a", ("pull",), "plugin").to_claim()["class"] == "plugin"
