"""`chalice local` routing requests as API Gateway does, for `make run` and the tests.

Three differences matter to this app's contract (chalicelib/routing.py):
1. API Gateway matches a greedy resource (`/{proxy+}`) against one or more
   path segments, after every other resource; `chalice local` matches it as
   exactly one segment, and answers API Gateway's 403 "Missing
   Authentication Token" for the rest.
2. API Gateway percent-decodes path parameters (`/user/%6Bburns/avatar` is
   kburns's); `chalice local` passes them as sent.
3. A method API Gateway does not route (TRACE, QUERY, CONNECT, ...) never
   reaches the app; `chalice local` answers it with http.server's HTML 501.
   Here the app's own JSON answer for a method a path lacks is sent: 405 with
   `Allow`, or 404 where there is no such path. What API Gateway itself
   answers to those methods only AWS shows.

`apply()` patches chalice.local's classes in place; it is idempotent.
"""

import functools
from urllib.parse import parse_qs, unquote

from chalice.local import ChaliceRequestHandler, MatchResult, RouteMatcher

from chalicelib import services
from chalicelib.http import with_security_headers
from chalicelib.routing import allowed_methods, handled_methods, method_not_allowed, not_found

_applied = False


def apply():
    global _applied
    if _applied:
        return
    RouteMatcher.match_route = _match_route
    # http.server looks a method's handler up as `do_<METHOD>`; chalice local
    # defines those of API Gateway, and this answers every other.
    ChaliceRequestHandler.__getattr__ = _handler_for_any_method
    _applied = True


def _match_route(self, url: str) -> MatchResult:
    # Not urlparse: it reads "//users" as a host name.
    path, _, query = url.partition("?")
    query_params = parse_qs(query, keep_blank_values=True)
    # API Gateway drops a trailing slash, except the root's.
    if path != "/" and path.endswith("/"):
        path = path[:-1]
    parts = path.split("/")
    routes = sorted(self.route_urls, key=_is_greedy)
    for route in routes:
        captured = _match(parts, route.split("/"))
        if captured is not None:
            return MatchResult(route, captured, query_params)
    raise ValueError(f"No matching route found for: {url}")


def _is_greedy(route: str) -> bool:
    return route.endswith("+}")


def _match(parts, route_parts):
    """The path parameters, decoded, if `parts` match `route_parts`; else None."""
    greedy = _is_greedy(route_parts[-1])
    fixed = route_parts[:-1] if greedy else route_parts
    if len(parts) < len(fixed) + greedy or (not greedy and len(parts) != len(fixed)):
        return None
    captured = {}
    for part, pattern in zip(parts, fixed):
        if pattern.startswith("{") and pattern.endswith("}"):
            captured[pattern[1:-1]] = unquote(part)
        elif part != pattern:
            return None
    if greedy:
        captured[route_parts[-1][1:-2]] = unquote("/".join(parts[len(fixed) :]))
    return captured


def _handler_for_any_method(self, name):
    if name.startswith("do_"):
        return functools.partial(_answer_unrouted_method, self)
    raise AttributeError(name)


def _answer_unrouted_method(handler):
    # Read the body, if any, so the connection can serve its next request.
    length = int(handler.headers.get("content-length") or 0)
    if length > 0:
        handler.rfile.read(length)
    app = handler.local_gateway._app_object
    matcher = handler.local_gateway.event_converter._route_matcher
    try:
        path = matcher.match_route(handler.path).route
    except ValueError:
        path = None
    allowed = allowed_methods(handled_methods(app, path)) if path else []
    response = method_not_allowed(handler.command, path, allowed) if allowed else not_found()
    answer = with_security_headers(response, services.s3_origins).to_dict()
    handler._send_http_response(answer["statusCode"], answer["headers"], answer["body"])
