"""chalicelib/metrics.py: finalize's outcomes, and the EMF documents an invocation prints."""

import re
import threading

import pytest

from chalicelib import metrics
from tests.observability import emf_documents, metric, metric_values


@pytest.mark.parametrize(
    "status, error, committed, outcome",
    [
        (200, None, True, "finalized"),
        (200, None, False, "retry"),
        (400, "invalid_key", False, "bad_request"),
        (400, "invalid_json", False, "bad_request"),
        (415, "json_required", False, "bad_request"),
        (401, "not_signed_in", False, "not_signed_in"),
        (403, "not_your_upload", False, "not_yours"),
        (404, "no_such_upload", False, "no_such_upload"),
        (409, "upload_conflict", False, "conflict"),
        (413, "too_large", False, "too_large"),
        (413, "image_too_large", False, "too_many_pixels"),
        (415, "not_an_image", False, "not_an_image"),
        (503, "service_unavailable", False, "aws_error"),
        # Committed, then an AWS call failed: the client saw a 503.
        (503, "service_unavailable", True, "aws_error"),
        (500, "internal_error", False, "internal_error"),
        (500, None, False, "internal_error"),
        (418, None, False, "internal_error"),
    ],
)
def test_a_finalize_answer_has_one_outcome(status, error, committed, outcome):
    assert metrics.finalize_outcome(status, error, committed) == outcome


def test_the_outcomes_are_distinct_snake_case_names():
    assert len(set(metrics.OUTCOMES)) == len(metrics.OUTCOMES) == 12
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", outcome) for outcome in metrics.OUTCOMES)


def test_an_invocation_prints_one_document_per_dimension_set(capsys):
    with metrics.invocation():
        metrics.record_pending_upload()
        metrics.record_answer("POST", "/avatar", 200, None, 12.5)
        metrics.record_pending_upload()

    documents = emf_documents(capsys.readouterr().out)
    assert [document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] for document in documents] == [
        [[]],
        [["Outcome"]],
    ]
    no_dimensions, by_outcome = documents
    assert no_dimensions["PendingUploadsSeen"] == [1.0, 1.0]
    assert no_dimensions["FinalizeLatency"] == [12.5]
    assert (by_outcome["Outcome"], by_outcome["FinalizeOutcome"]) == ("retry", [1.0])


def test_a_commit_recorded_in_the_invocation_makes_its_200_finalized(capsys):
    with metrics.invocation():
        metrics.record_commit()
        metrics.record_answer("POST", "/avatar", 200, None, 3.0)
    with metrics.invocation():
        metrics.record_answer("POST", "/avatar", 200, None, 3.0)

    outcomes = metric(capsys.readouterr().out, metrics.FINALIZE_OUTCOME)
    assert [dims["Outcome"] for _, dims, _ in outcomes] == ["finalized", "retry"]


def test_an_invocation_with_no_metric_prints_nothing(capsys):
    with metrics.invocation():
        metrics.record_answer("GET", "/users", 200, None, 1.0)

    assert capsys.readouterr().out == ""


def test_nothing_is_recorded_outside_an_invocation(capsys):
    metrics.record_pending_upload()
    metrics.record_sweep(swept=1, failures=0)
    with metrics.image_processing():
        pass
    with metrics.invocation():
        pass

    assert capsys.readouterr().out == ""


def test_an_invocation_that_raises_still_prints_what_it_recorded(capsys):
    with pytest.raises(RuntimeError):
        with metrics.invocation():
            metrics.record_sweep(swept=2, failures=1)
            raise RuntimeError("the sweep stopped")

    assert sorted(metric_values(capsys.readouterr().out)) == [
        ("OrphansSwept", "Count", {}, [2.0]),
        ("SweepFailures", "Count", {}, [1.0]),
    ]


def test_image_processing_is_timed_when_the_block_raises(capsys):
    with metrics.invocation():
        with pytest.raises(ValueError):
            with metrics.image_processing():
                raise ValueError("not an image")

    ((unit, dimensions, (milliseconds,)),) = metric(
        capsys.readouterr().out, metrics.IMAGE_PROCESSING_TIME
    )
    assert (unit, dimensions) == ("Milliseconds", {}) and milliseconds >= 0


def test_powertools_environment_variables_change_neither_namespace_nor_dimensions(
    capsys, monkeypatch
):
    # Powertools adds a `service` dimension when it has a service name, and
    # takes its namespace from here when given none.
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "avatars")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Other")
    with metrics.invocation():
        metrics.record_answer("POST", "/avatar", 503, "service_unavailable", 1.0)
        metrics.record_sweep(swept=0, failures=1)

    for document in emf_documents(capsys.readouterr().out):
        (directive,) = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "Avatars"
        assert directive["Dimensions"] in ([["Outcome"]], [[]])
        assert "service" not in document


def test_a_metric_that_cannot_be_written_is_logged_and_fails_nothing(capsys, caplog):
    with metrics.invocation() as recorded:
        recorded.add("Broken", "NotAUnit", 1)

    assert capsys.readouterr().out == ""
    assert "could not be printed" in caplog.text


def test_concurrent_invocations_on_threads_keep_their_own_metrics(capsys):
    # chalice local (make run) answers each request on a thread of its own.
    first_recorded, second_done = threading.Event(), threading.Event()

    def first():
        with metrics.invocation():
            metrics.record_answer("POST", "/avatar", 404, "no_such_upload", 1.0)
            first_recorded.set()
            second_done.wait(5)

    def second():
        first_recorded.wait(5)
        with metrics.invocation():
            metrics.record_commit()
            metrics.record_answer("POST", "/avatar", 200, None, 2.0)
        second_done.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    outcomes = metric(capsys.readouterr().out, metrics.FINALIZE_OUTCOME)
    assert [dims["Outcome"] for _, dims, _ in outcomes] == ["finalized", "no_such_upload"]
