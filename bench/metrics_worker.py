"""One metrics library in a fresh interpreter: its import after boto3, and its EMF documents.

bench/metrics_library.py runs `python -m bench.metrics_worker '<json>'`, one
process per run, each library in turn. The worker imports boto3 (which every
function of the app imports anyway), then times the import of the library,
then the recording and printing of one EMF document, the first and then
`documents` more, with standard output sent to /dev/null. It prints one line
of JSON, with the first document as the library printed it.

Nothing but the standard library is imported before the timed import. With
`path`, that folder comes first on sys.path: the library's files copied
without their .pyc, as the Lambda's zip holds them.
"""

import importlib
import io
import json
import os
import sys
import time

# What each library's documented Lambda usage imports.
MODULES = {
    "aws-lambda-powertools": "aws_lambda_powertools.metrics",
    "aws-embedded-metrics": "aws_embedded_metrics.logger.metrics_logger_factory",
}


def powertools_document():
    """FinalizeOutcome, Count, one dimension Outcome: as chalicelib/metrics.py prints it."""
    from aws_lambda_powertools.metrics import EphemeralMetrics

    # service="": Powertools' `service` dimension left out, whatever the environment.
    document = EphemeralMetrics(namespace="Avatars", service="")
    document.add_dimension(name="Outcome", value="finalized")
    document.add_metric(name="FinalizeOutcome", unit="Count", value=1)
    document.flush_metrics()


def embedded_metrics_document():
    """The same document with aws-embedded-metrics, as its @metric_scope would print it."""
    from aws_embedded_metrics.logger.metrics_logger_factory import create_metrics_logger

    document = create_metrics_logger()
    document.set_namespace("Avatars")
    # Replaces its default dimensions (LogGroup, ServiceName, ServiceType).
    document.set_dimensions({"Outcome": "finalized"})
    document.put_metric("FinalizeOutcome", 1, "Count")
    document.flush_sync()


DOCUMENTS = {
    "aws-lambda-powertools": powertools_document,
    "aws-embedded-metrics": embedded_metrics_document,
}


def main(options: dict) -> dict:
    if options.get("path"):
        sys.path.insert(0, options["path"])
    import boto3  # noqa: F401

    started = time.perf_counter()
    importlib.import_module(MODULES[options["library"]])
    imported = time.perf_counter() - started

    write = DOCUMENTS[options["library"]]
    real_stdout = sys.stdout
    first_output = io.StringIO()
    try:
        sys.stdout = first_output
        started = time.perf_counter()
        write()
        first = time.perf_counter() - started
        with open(os.devnull, "w") as sink:
            sys.stdout = sink
            following = []
            for _ in range(options["documents"]):
                started = time.perf_counter()
                write()
                following.append(time.perf_counter() - started)
    finally:
        sys.stdout = real_stdout
    return {
        "import": imported,
        "first": first,
        "following": following,
        "output": first_output.getvalue(),
    }


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
