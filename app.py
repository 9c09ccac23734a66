"""Routes and events only: each parses the request, calls chalicelib, shapes the answer."""

from chalice import Chalice, Rate, Response

from chalicelib import access_log, auth, metrics, services
from chalicelib.api_description import api_description
from chalicelib.errors import NotFound
from chalicelib.events import pending_upload_log_lines
from chalicelib.http import (
    ANY_CONTENT_TYPE,
    json_body,
    json_errors,
    optional_json_body,
    required_string,
)
from chalicelib.routing import answer_every_method
from chalicelib.security_headers import with_security_headers
from chalicelib.sessions import MAX_USERNAME_LENGTH
from chalicelib.settings import PENDING_PREFIX, event_bucket_name
from chalicelib.uploads import parse_upload_key

app = Chalice(app_name="avatars")


# Every route takes any Content-Type, so that the routes with a body refuse a
# wrong one themselves (Chalice's own 415 has another body shape) and the
# others ignore it.
def route(path, method):
    return app.route(path, methods=[method], content_types=ANY_CONTENT_TYPE)


# Middleware runs in the order registered, the first outermost. This one is
# every function's: their metrics, printed as EMF documents when the invocation ends.
@app.middleware("all")
def publish_metrics(event, get_response):
    with metrics.invocation():
        return get_response(event)


# One JSON line per request. Outside the security headers' middleware, so that
# it logs the status the client gets.
@app.middleware("http")
def log_access(event, get_response):
    return access_log.answer_and_log(event, get_response)


@app.middleware("http")
def add_security_headers(event, get_response):
    return with_security_headers(get_response(event), services.storage_origins)


@route("/", "GET")
@json_errors
def index():
    return _asset_response("index.html")


@route("/static/{name}", "GET")
@json_errors
def static_file(name):
    return _asset_response(name)


@route("/openapi.json", "GET")
@json_errors
def openapi_description():
    return Response(
        body=api_description(),
        headers={"Content-Type": "application/json", "Cache-Control": "no-cache"},
    )


@route("/users", "GET")
@json_errors
def list_users():
    uploads = services.upload_service()
    return {
        "users": [
            {
                "username": user.username,
                "name": user.name,
                "avatarUrl": uploads.avatar_url(user.avatar) if user.avatar else None,
            }
            for user in services.user_repository().list_users()
        ]
    }


@route("/whoami", "GET")
@json_errors
def whoami():
    return {"username": auth.current_user(app.current_request)}


@route("/login", "PUT")
@json_errors
def login():
    body = json_body(app.current_request)
    username = required_string(body, "username", MAX_USERNAME_LENGTH)
    if services.user_repository().get_user(username) is None:
        raise NotFound(f"There is no user {username!r}.", code="no_such_user")
    return Response(body="", status_code=204, headers={"Set-Cookie": auth.start_session(username)})


@route("/logout", "POST")
@json_errors
def logout():
    optional_json_body(app.current_request)
    return Response(body="", status_code=204, headers={"Set-Cookie": auth.end_session()})


@route("/user/{username}/avatar", "GET")
@json_errors
def user_avatar(username):
    user = services.user_repository().get_user(username)
    if user is None or not user.avatar:
        raise NotFound(f"User {username!r} has no avatar.", code="no_such_avatar")
    url = services.upload_service().avatar_url(user.avatar)
    return Response(body="", status_code=303, headers={"Location": url})


@route("/uploads", "POST")
@json_errors
def create_upload():
    optional_json_body(app.current_request)
    username = auth.require_user(app.current_request)
    return Response(body=services.upload_service().create_upload(username), status_code=201)


@route("/avatar", "POST")
@json_errors
def finalize_upload():
    # The body is checked before the session so that a malformed request reads
    # as 400 whoever sends it; the key is proof only with a session (401).
    key = parse_upload_key(json_body(app.current_request).get("key"))
    username = auth.require_user(app.current_request)
    return services.upload_service().finalize_upload(username, key)


@route("/debug/bucket", "GET")
@json_errors
def debug_bucket():
    return services.bucket_view()


@route("/debug/table", "GET")
@json_errors
def debug_table():
    return {"items": services.table_items()}


answer_every_method(app)


@app.on_s3_event(bucket=event_bucket_name(), events=["s3:ObjectCreated:*"], prefix=PENDING_PREFIX)
def log_pending_upload(event):
    for line in pending_upload_log_lines(event):
        print(line, flush=True)
        metrics.record_pending_upload()


@app.schedule(Rate(1, unit=Rate.DAYS))
def sweep_orphaned_avatars(event):
    services.sweep_orphaned_avatars()


def _asset_response(name):
    text, content_type = services.static_assets().read(name)
    return Response(
        body=text,
        headers={
            "Content-Type": content_type,
            # Revalidate on every load, so a re-published page shows at once.
            "Cache-Control": "no-cache",
        },
    )
