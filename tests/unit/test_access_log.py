"""chalicelib/access_log.py: the line printed for each answer, from a request as Chalice has it."""

import json
from types import SimpleNamespace

import pytest
from chalice import Response

from chalicelib import metrics
from chalicelib.access_log import access_line, answer_and_log
from tests.observability import access_lines, metric

API_GATEWAY_CONTEXT = {
    "resourcePath": "/user/{username}/avatar",
    "path": "/api/user/kburns/avatar",
    "httpMethod": "GET",
    "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
}


def request(method="GET", context=None, lambda_context=None, headers=None):
    """What the middleware gets: a chalice Request's attributes that the log reads."""
    return SimpleNamespace(
        method=method,
        context=dict(API_GATEWAY_CONTEXT if context is None else context),
        lambda_context=lambda_context,
        headers=headers or {},
    )


def test_the_line_is_one_json_object_with_every_field():
    line = access_line(request(), 303, None, 4.25, "kburns")

    assert "\n" not in line
    assert json.loads(line) == {
        "type": "access",
        "method": "GET",
        "route": "/user/{username}/avatar",
        "path": "/api/user/kburns/avatar",
        "status": 303,
        "error": None,
        "latencyMs": 4.25,
        "user": "kburns",
        "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    }


def test_without_an_api_gateway_request_id_the_lambda_invocations_is_logged():
    context = {key: value for key, value in API_GATEWAY_CONTEXT.items() if key != "requestId"}
    invocation = SimpleNamespace(aws_request_id="8f5a7d3e-invocation")
    asked = request(context=context, lambda_context=invocation)

    line = json.loads(access_line(asked, 200, None, 1, None))

    assert line["requestId"] == "8f5a7d3e-invocation"


def test_with_neither_request_id_the_field_is_null():
    line = json.loads(access_line(request(context={}), 404, "not_found", 1, None))

    assert (line["requestId"], line["route"], line["path"]) == (None, None, None)


def test_answer_and_log_logs_the_answer_it_returns(capsys):
    answer = Response(body={"error": "no_such_avatar", "message": "x"}, status_code=404)

    returned = answer_and_log(request(), lambda _: answer)

    (line,) = access_lines(capsys.readouterr().out)
    assert returned is answer
    assert (line["status"], line["error"], line["user"]) == (404, "no_such_avatar", None)
    assert line["latencyMs"] >= 0


def broken(_request):
    raise RuntimeError("a bug in a middleware")


def test_a_request_that_raises_is_logged_as_the_500_chalice_answers_and_raises_on(capsys):
    with pytest.raises(RuntimeError):
        answer_and_log(request(), broken)

    (line,) = access_lines(capsys.readouterr().out)
    assert (line["status"], line["error"]) == (500, None)


def test_a_finalize_that_raises_counts_as_an_internal_error(capsys):
    finalize = request("POST", {"resourcePath": "/avatar", "path": "/avatar"})

    with metrics.invocation():
        with pytest.raises(RuntimeError):
            answer_and_log(finalize, broken)

    out = capsys.readouterr().out
    assert metric(out, metrics.FINALIZE_OUTCOME) == [
        ("Count", {"Outcome": "internal_error"}, [1.0])
    ]
    (line,) = access_lines(out)
    assert metric(out, metrics.FINALIZE_LATENCY) == [("Milliseconds", {}, [line["latencyMs"]])]
