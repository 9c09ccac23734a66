"""An answer in the contract's shape for every method on every path.

Left alone, API Gateway answers a path it has no resource for, or a method a
resource lacks, with its own 403 `{"message": "Missing Authentication Token"}`,
and Chalice answers 405 in a shape of its own. So every resource API Gateway
will have gets a view for each method it routes: HEAD runs the GET, OPTIONS
lists the methods, the others answer 405 with `Allow`. Resources that are
only a step towards a route (`/user/{username}`) and a greedy catch-all for
every other path answer 404. A HEAD answer keeps its body here, so that its
Content-Length is the GET's: the gateway (API Gateway, or the local runner)
sends no body to a HEAD.
"""

from typing import Dict, Iterable, List, Optional, Set

from chalice import Chalice, Response

from .errors import MethodNotAllowed, NotFound
from .http import ANY_CONTENT_TYPE, error_response

# What API Gateway routes to an integration (its ANY). The local runner answers
# any other method itself (devtools/local_gateway.py).
ROUTED_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
# API Gateway's greedy path variable: it matches what no other resource does.
CATCH_ALL_PATH = "/{proxy+}"
# Set on the views this module adds, to tell them from the app's own.
_ADDED = "answers_a_missing_method"


def handled_methods(app: Chalice, path: Optional[str]) -> Set[str]:
    """The methods of `path` that the app's own views handle (none for a path it lacks)."""
    return {
        method
        for method, entry in app.routes.get(path, {}).items()
        if not getattr(entry.view_function, _ADDED, False)
    }


def allowed_methods(handled: Iterable[str]) -> List[str]:
    """The `Allow` list of a path whose views handle `handled`."""
    methods = set(handled)
    if "GET" in methods:
        methods.add("HEAD")
    if methods:
        methods.add("OPTIONS")
    return sorted(methods)


def method_not_allowed(method: str, path: str, allowed: List[str]) -> Response:
    allow = ", ".join(allowed)
    return error_response(
        MethodNotAllowed(f"{method} is not allowed on {path}. Allowed: {allow}."),
        headers={"Allow": allow},
    )


def not_found() -> Response:
    return error_response(NotFound("There is nothing at this path."))


def answer_every_method(app: Chalice) -> None:
    """Give every path and method the app does not handle its answer. Call it
    once, after the app's own routes."""
    handled_by_path = {path: handled_methods(app, path) for path in list(app.routes)}
    for path in sorted(_resources(handled_by_path) | {CATCH_ALL_PATH}):
        handled = handled_by_path.get(path, set())
        for method in ROUTED_METHODS:
            if method not in handled:
                view = _view_for(app, path, method, handled)
                setattr(view, _ADDED, True)
                app.route(path, methods=[method], content_types=ANY_CONTENT_TYPE)(view)


def _resources(handled_by_path: Dict[str, Set[str]]) -> Set[str]:
    """Every path API Gateway makes a resource for: the routes and their parents."""
    resources = set()
    for path in handled_by_path:
        parts = path.strip("/").split("/")
        for end in range(1, len(parts) + 1):
            resources.add("/" + "/".join(parts[:end]))
    resources.add("/")
    return resources


def _view_for(app: Chalice, path: str, method: str, handled: Set[str]):
    if not handled:

        def nothing_here(**_path_params):
            return not_found()

        return nothing_here
    allowed = allowed_methods(handled)
    if method == "HEAD" and "GET" in handled:
        get_view = app.routes[path]["GET"].view_function

        # A view of its own (not the GET's), so that it can be marked as added.
        def head(**path_params):
            return get_view(**path_params)

        return head
    if method == "OPTIONS":

        def options(**_path_params):
            return Response(body="", status_code=204, headers={"Allow": ", ".join(allowed)})

        return options

    def other_method(**_path_params):
        return method_not_allowed(app.current_request.method, path, allowed)

    return other_method
