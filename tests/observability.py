"""Reading what the app prints: JSON log lines, access lines and EMF documents.

Every line the app prints is a JSON object. An EMF document is one with an
`_aws` member (CloudWatch's Embedded Metric Format); the access log's lines
have `"type": "access"`.
"""

import json

from chalicelib import metrics


def printed(out: str) -> list:
    """Every line of `out` (captured standard output), parsed."""
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def log_lines(out: str) -> list:
    """The lines that are neither EMF documents nor access lines."""
    return [line for line in printed(out) if "_aws" not in line and line.get("type") != "access"]


def access_lines(out: str) -> list:
    return [line for line in printed(out) if line.get("type") == "access"]


def emf_documents(out: str) -> list:
    return [line for line in printed(out) if "_aws" in line]


def metric_values(out: str) -> list:
    """Every metric value in the EMF documents of `out`, as (name, unit,
    dimensions, values), checking each document's shape on the way: the
    namespace, one directive, one dimension set, each dimension and value a
    top-level member."""
    found = []
    for document in emf_documents(out):
        assert isinstance(document["_aws"]["Timestamp"], int)
        (directive,) = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == metrics.NAMESPACE
        (dimension_set,) = directive["Dimensions"]
        dimensions = {name: document[name] for name in dimension_set}
        for metric in directive["Metrics"]:
            assert set(metric) == {"Name", "Unit"}, metric  # standard resolution
            value = document[metric["Name"]]
            values = value if isinstance(value, list) else [value]
            found.append((metric["Name"], metric["Unit"], dimensions, values))
    return found


def metric(out: str, name: str) -> list:
    """The (unit, dimensions, values) of each document's `name` in `out`."""
    return [(unit, dims, values) for each, unit, dims, values in metric_values(out) if each == name]
