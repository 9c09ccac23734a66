"""`chalice local` routing and answering as API Gateway does, for `make run` and the tests.

The differences that matter to this app's contract (chalicelib/routing.py):
1. API Gateway matches a greedy resource (`/{proxy+}`) against one or more
   path segments, after every other resource; `chalice local` matches it as
   exactly one segment, and answers API Gateway's 403 "Missing
   Authentication Token" for the rest. Here every path no other route
   matches, whatever its form (`//x`, `http://host/x`, `*`), reaches the
   catch-all.
2. API Gateway percent-decodes path parameters (`/user/%6Bburns/avatar` is
   kburns's); `chalice local` passes them as sent.
3. A method API Gateway does not route (TRACE, QUERY, CONNECT, ...) never
   reaches the app; `chalice local` answers it with http.server's HTML 501.
   Here the app's own JSON answer for a method a path lacks is sent: 405
   with `Allow`, or 404 where there is no such path. What API Gateway itself
   answers to those methods only AWS shows.
4. A gateway sends no body to a HEAD; `chalice local` sends the app's. Here
   the headers go out (Content-Length the GET's) and the body does not.
5. http.server refuses a malformed request (request line, headers, a URI
   over 64 KiB) with an HTML page; here in the `{"error", "message"}` shape.
   A Content-Length that is not a number, and a chunked body, which
   http.server cannot read and would leave on the connection, are refused
   the same way.

`apply()` patches chalice.local's classes in place; it is idempotent.
"""

import functools
import json
from http import HTTPStatus
from urllib.parse import parse_qs, unquote, urlsplit

import chalice
from chalice.local import ChaliceRequestHandler, MatchResult, RouteMatcher

from chalicelib import services
from chalicelib.routing import allowed_methods, handled_methods, method_not_allowed, not_found
from chalicelib.security_headers import security_headers, with_security_headers

# The patches replace methods of, and read attributes private to, this release.
CHALICE_VERSION = "1.34.0"

_applied = False
_original_parse_request = ChaliceRequestHandler.parse_request


def apply():
    global _applied
    if _applied:
        return
    if chalice.__version__ != CHALICE_VERSION:
        raise RuntimeError(
            f"devtools/local_gateway.py patches chalice {CHALICE_VERSION}, not "
            f"{chalice.__version__}: check each patch against the new release."
        )
    RouteMatcher.match_route = _match_route
    # http.server looks a method's handler up as `do_<METHOD>`; chalice local
    # defines those of API Gateway, and this answers every other.
    ChaliceRequestHandler.__getattr__ = _handler_for_any_method
    ChaliceRequestHandler._send_http_response_with_body = _send_answer
    ChaliceRequestHandler.send_error = _send_json_error
    ChaliceRequestHandler.parse_request = _parse_request
    _applied = True


def _match_route(self, url: str) -> MatchResult:
    target = urlsplit(url) if "://" in url.split("?", 1)[0] else None
    path, _, query = (target.path, None, target.query) if target else url.partition("?")
    query_params = parse_qs(query, keep_blank_values=True)
    # http.server reads "//users" as "/users" (CPython gh-87389); so does this.
    path = "/" + path.lstrip("/") if path.startswith("/") else path
    # API Gateway drops a trailing slash, except the root's.
    if path != "/" and path.endswith("/"):
        path = path[:-1]
    parts = path.split("/")
    # Greedy routes last; otherwise chalice's order: literals before variables.
    routes = sorted(self.route_urls, key=_is_greedy)
    for route in routes:
        captured = _match(parts, route.split("/"))
        if captured is not None:
            return MatchResult(route, captured, query_params)
    # A target that is no path at all (`*`, `users`) is still no route of the
    # API's: the catch-all's.
    root_catch_all = [route for route in routes if _is_greedy(route) and route.count("/") == 1]
    if root_catch_all:
        (route,) = root_catch_all
        return MatchResult(route, {route[2:-2]: unquote(path.lstrip("/"))}, query_params)
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
    answer = with_security_headers(response, services.storage_origins).to_dict()
    handler._send_http_response(answer["statusCode"], answer["headers"], answer["body"])


def _send_answer(self, code, headers, body):
    """chalice local's, but with no body after the headers of a HEAD."""
    self.send_response(code)
    if not isinstance(body, bytes):
        body = body.encode("utf-8")
    self.send_header("Content-Length", str(len(body)))
    self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
    self._send_headers(headers)
    if self.command != "HEAD":
        self.wfile.write(body)


def _send_json_error(self, code, message=None, explain=None):
    """http.server's refusal of a request it could not read, as JSON; the
    connection is closed, as http.server does."""
    status = HTTPStatus(code)
    self.log_error("code %d, message %s", code, message)
    body = json.dumps(
        {
            "error": status.phrase.lower().replace(" ", "_").replace("-", "_"),
            "message": message or status.description or status.phrase,
        }
    ).encode("utf-8")
    # http.server answers a request line it could not read as HTTP/0.9: the
    # body alone, no status line. Whoever sent it gets a whole HTTP/1.1 answer.
    if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
        self.request_version = "HTTP/1.1"
    self.send_response(code)
    self.send_header("Connection", "close")
    self.send_header("Content-Type", "application/json")
    self.send_header("Content-Length", str(len(body)))
    for name, value in security_headers("application/json", ()).items():
        self.send_header(name, value)
    self.end_headers()
    if getattr(self, "command", None) != "HEAD":
        self.wfile.write(body)


def _parse_request(self):
    if not _original_parse_request(self):
        return False
    length = self.headers.get("content-length")
    if length is not None and not length.strip().isdigit():
        self.send_error(HTTPStatus.BAD_REQUEST, "Content-Length is not a number of bytes.")
        return False
    if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
        self.send_error(HTTPStatus.LENGTH_REQUIRED, "Send the body with a Content-Length.")
        return False
    return True
