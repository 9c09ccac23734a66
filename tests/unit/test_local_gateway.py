"""chalice local's route matching, patched to match as API Gateway does."""

import pytest
from chalice.local import RouteMatcher

from devtools import local_gateway

local_gateway.apply()

ROUTES = [
    "/",
    "/users",
    "/user",
    "/user/{username}",
    "/user/{username}/avatar",
    "/static/{name}",
    "/{proxy+}",
]


def match(url):
    result = RouteMatcher(ROUTES).match_route(url)
    return result.route, result.captured


@pytest.mark.parametrize(
    "url, route, captured",
    [
        ("/", "/", {}),
        ("/users", "/users", {}),
        ("/users/", "/users", {}),
        ("/users?x=1", "/users", {}),
        ("/user/kburns/avatar", "/user/{username}/avatar", {"username": "kburns"}),
        ("/user/kburns", "/user/{username}", {"username": "kburns"}),
        ("/static/app.js", "/static/{name}", {"name": "app.js"}),
        ("//users", "/users", {}),
        ("http://127.0.0.1:8000/users?x=1", "/users", {}),
    ],
)
def test_a_path_matches_its_own_resource_before_the_catch_all(url, route, captured):
    assert match(url) == (route, captured)


@pytest.mark.parametrize(
    "url, username",
    [
        ("/user/%6Bburns/avatar", "kburns"),
        ("/user/a%20b/avatar", "a b"),
        ("/user/a%2Fb/avatar", "a/b"),
        ("/user/caf%C3%A9/avatar", "café"),
        ("/user/a+b/avatar", "a+b"),
    ],
)
def test_path_parameters_are_percent_decoded(url, username):
    assert match(url) == ("/user/{username}/avatar", {"username": username})


@pytest.mark.parametrize(
    "url, rest",
    [
        ("/nope", "nope"),
        ("/users/x", "users/x"),
        ("/user/kburns/avatar/extra", "user/kburns/avatar/extra"),
        ("/static/a/b.js", "static/a/b.js"),
        ("/a%2Fb", "a/b"),
        ("/%FF", "\ufffd"),
        ("*", "*"),
        ("users", "users"),
        ("127.0.0.1:8000", "127.0.0.1:8000"),
    ],
)
def test_every_other_path_reaches_the_greedy_catch_all(url, rest):
    assert match(url) == ("/{proxy+}", {"proxy": rest})


def test_without_a_catch_all_an_unknown_path_is_still_unmatched():
    with pytest.raises(ValueError):
        RouteMatcher(["/users"]).match_route("/nope")
