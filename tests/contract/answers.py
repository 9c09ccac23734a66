"""An answer of the app checked against its description (chalicelib/openapi.yaml).

`problems(method, url, status, headers, body)` lists how an answer departs from
the description: a status it does not list, a Content-Type it does not name, a
body or header its schema refuses, an error code its response does not name.
Paths and methods the description has no operation for must answer as its
general rules say: 404 `not_found`, 405 `method_not_allowed` with `Allow`,
HEAD as the GET without a body, OPTIONS 204 with `Allow`.
"""

import json
import re

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from chalicelib.api_description import api_description

DESCRIPTION = api_description()
_URI = "urn:avatars-api"
_REGISTRY = Registry().with_resource(_URI, Resource(DESCRIPTION, specification=DRAFT202012))
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def operations():
    """Every (METHOD, path template) the description documents."""
    return {
        (method.upper(), path)
        for path, item in DESCRIPTION["paths"].items()
        for method in item
        if method in _METHODS
    }


def documented_statuses():
    return {
        (method, path, status)
        for method, path in operations()
        for status in DESCRIPTION["paths"][path][method.lower()]["responses"]
    }


def template_of(url):
    """The description's path template that `url` matches, or None."""
    path = url.split("?")[0]
    # As the local runner (and http.server before it) reads "//users".
    path = "/" + path.lstrip("/")
    if path != "/" and path.endswith("/"):
        path = path[:-1]
    for template in DESCRIPTION["paths"]:
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            return template
    return None


def problems(method, url, status, headers, body: bytes):
    headers = {name.lower(): value for name, value in headers.items()}
    template = template_of(url)
    item = DESCRIPTION["paths"].get(template, {})
    # A HEAD answers as its path's GET. Its body is not looked at: the test
    # client gives the one the function returned, which no gateway sends.
    with_body = method != "HEAD"
    operation = item.get("get" if method == "HEAD" else method.lower())
    if operation is not None:
        verb = "get" if method == "HEAD" else method.lower()
        return _operation_problems(template, verb, operation, status, headers, body, with_body)
    found = _headers_problems(DESCRIPTION["x-json-headers"], "/x-json-headers", headers)
    if template is None:
        return found + _error_problems(404, "not_found", status, headers, body, with_body)
    allow = ", ".join(sorted({m.upper() for m in item if m in _METHODS} | _implicit(item)))
    if headers.get("allow") != allow:
        found.append(f"Allow {headers.get('allow')!r}, not {allow!r}")
    if method == "OPTIONS":
        if status != 204 or body:
            found.append(f"OPTIONS answered {status} with {len(body)} bytes, not an empty 204")
        return found
    return found + _error_problems(405, "method_not_allowed", status, headers, body, with_body)


def _implicit(item):
    return {"OPTIONS"} | ({"HEAD"} if "get" in item else set())


def _error_problems(expected, code, status, headers, body, with_body):
    if status != expected:
        return [f"{status} where the rules say {expected} {code}"]
    found = _media_type_problems(headers, "application/json")
    if with_body:
        document = _json(body)
        found += _check(_component("schemas", "Error"), document)
        if document.get("error") != code:
            found.append(f"error {document.get('error')!r}, not {code!r}")
    return found


def _operation_problems(template, method, operation, status, headers, body, with_body):
    responses = operation["responses"]
    if str(status) not in responses:
        return [f"{status} is not documented for {method.upper()} {template} ({sorted(responses)})"]
    pointer = _pointer("paths", template, method, "responses", str(status))
    response, pointer = _resolve(responses[str(status)], pointer)
    found = []
    content = response.get("content")
    if content:
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in content:
            return [f"Content-Type {headers.get('content-type')!r} is not one of {list(content)}"]
        if with_body:
            instance = _json(body) if media_type == "application/json" else body.decode("utf-8")
            found += _check(pointer + _pointer("content", media_type, "schema"), instance)
    elif body and with_body:
        found.append(f"a body of {len(body)} bytes where none is documented")
    found += _headers_problems(response.get("headers") or {}, pointer + "/headers", headers)
    if status >= 400 and with_body:
        code = _json(body).get("error")
        described = operation["responses"][str(status)].get("description", "") + response.get(
            "description", ""
        )
        if f"`{code}`" not in described:
            found.append(f"error code {code!r} is not named in the {status} answer's description")
    return found


def _headers_problems(described, pointer, headers):
    """How `headers` depart from the `described` ones (a headers map at `pointer`)."""
    found = []
    for name, header in described.items():
        header, header_pointer = _resolve(header, pointer + _pointer(name))
        if name.lower() not in headers:
            if header.get("required"):
                found.append(f"no {name} header")
            continue
        found += [
            f"{name}: {problem}"
            for problem in _check(header_pointer + "/schema", headers[name.lower()])
        ]
    return found


def _media_type_problems(headers, expected):
    actual = headers.get("content-type", "").split(";")[0].strip().lower()
    return [] if actual == expected else [f"Content-Type {actual!r}, not {expected!r}"]


def _json(body):
    try:
        value = json.loads(body)
    except ValueError:
        return {"<not JSON>": body[:80].decode("utf-8", "replace")}
    return value


def _check(pointer_or_schema, instance):
    schema = {"$ref": _URI + "#" + pointer_or_schema}
    validator = Draft202012Validator(schema, registry=_REGISTRY, format_checker=FormatChecker())
    return [
        f"{'/'.join(map(str, error.absolute_path)) or 'body'}: {error.message}"
        for error in validator.iter_errors(instance)
    ]


def _component(kind, name):
    return _pointer("components", kind, name)


def _pointer(*parts):
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def _resolve(node, pointer):
    while "$ref" in node:
        pointer = node["$ref"][1:]
        node = DESCRIPTION
        for part in pointer.strip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node, pointer
