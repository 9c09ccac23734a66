"""bench/metrics_library.py: the two metrics libraries, sized, imported and printing EMF."""

import json

import pytest

from bench.metrics_library import (
    CANDIDATES,
    SECTION,
    check_document,
    compare_metrics_libraries,
    dependency_closure,
    library_in_requirements,
    package_addition,
)


def test_the_app_uses_powertools_and_pins_it_alone():
    assert library_in_requirements() == "aws-lambda-powertools"


@pytest.mark.parametrize("pins", [[], list(CANDIDATES)], ids=["neither", "both"])
def test_requirements_must_pin_exactly_one_candidate(tmp_path, pins):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# a comment\nboto3==1.44.8\n" + "".join(f"{p}==1\n" for p in pins))
    with pytest.raises(RuntimeError, match="exactly one"):
        library_in_requirements(requirements)


def test_the_closure_follows_requirements_and_skips_other_platforms_and_extras():
    closure = dependency_closure({"boto3"})
    assert {"boto3", "botocore", "jmespath", "s3transfer", "urllib3", "python-dateutil"} <= closure
    # Powertools' extras (pydantic, aws-xray-sdk...) are not installed with it.
    assert dependency_closure({"aws-lambda-powertools"}) == {
        "aws-lambda-powertools",
        "jmespath",
        "typing-extensions",
    }


def test_what_a_library_adds_leaves_out_what_the_zip_holds_and_all_bytecode():
    addition = package_addition("aws-lambda-powertools")

    names = [entry.split()[0] for entry in addition.distributions]
    assert names == ["aws-lambda-powertools", "typing-extensions"]  # jmespath: boto3's
    assert "aws_lambda_powertools/metrics/metrics.py" in addition.files
    assert not any(name.endswith(".pyc") or "__pycache__" in name for name in addition.files)
    assert addition.unzipped == sum(path.stat().st_size for path in addition.files.values())
    assert 0 < addition.zipped < addition.unzipped


def test_aws_embedded_metrics_brings_aiohttp_and_its_dependencies():
    names = {entry.split()[0] for entry in package_addition("aws-embedded-metrics").distributions}
    assert {"aws-embedded-metrics", "aiohttp", "multidict", "yarl", "frozenlist"} <= names
    assert not names & {"boto3", "botocore", "urllib3", "jmespath"}


def _document(dimensions, **members):
    directive = {
        "Namespace": "Avatars",
        "Dimensions": dimensions,
        "Metrics": [{"Name": "FinalizeOutcome", "Unit": "Count"}],
    }
    return json.dumps({"_aws": {"Timestamp": 1, "CloudWatchMetrics": [directive]}, **members})


def test_the_document_check_accepts_a_value_or_a_list_and_only_the_outcome_dimension():
    check_document("x", _document([["Outcome"]], Outcome="finalized", FinalizeOutcome=1))
    check_document("x", _document([["Outcome"]], Outcome="finalized", FinalizeOutcome=[1.0]))
    # aws-embedded-metrics' defaults, and Powertools' service dimension.
    defaults = ["LogGroup", "ServiceName", "ServiceType", "Outcome"]
    for dimensions in ([defaults], [["Outcome", "service"]]):
        with pytest.raises(RuntimeError, match="another document"):
            check_document(
                "x",
                _document(
                    dimensions,
                    Outcome="finalized",
                    service="x",
                    LogGroup="g",
                    ServiceName="s",
                    ServiceType="t",
                    FinalizeOutcome=1,
                ),
            )


def test_a_short_comparison_measures_both_and_judges_the_apps_choice():
    figures = {figure.name: figure for figure in compare_metrics_libraries(runs=1)}

    assert {figure.section for figure in figures.values()} == {SECTION}
    for library in CANDIDATES:
        assert "MiB zipped" in figures[f"{library}: added to the Lambda package"].measured
        assert figures[f"{library}: import after boto3, 1 runs"].measured.startswith("median ")
        from_source = f"{library}: import after boto3 from source, no .pyc (as in the zip), 1 runs"
        assert from_source in figures
        assert "µs" in figures[f"{library}: record and print one EMF document, 1 runs"].measured
    (judged,) = [figure for figure in figures.values() if figure.target]
    assert judged.name.startswith("the app's library (aws-lambda-powertools)")
    assert judged.met is True
