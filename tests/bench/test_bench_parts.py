"""The benchmark's own parts that need no stack: images, statistics, the table."""

import io
import itertools
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image

from bench.calls import operation_name
from bench.cpu import cpu_seconds
from bench.images import png_of_size, png_over_pixels
from bench.load import _broken_state
from bench.report import (
    README_END,
    README_START,
    Figure,
    missed,
    quote_in_readme,
    table,
    write_results,
)
from bench.stats import alternate, percentile, summarize
from bench.upload_overhead import break_even_round_trip, modelled_ratio
from chalicelib.images import AvatarRules, ImageTooLarge, make_avatar


@pytest.mark.parametrize("size", [2_000, 50_000, 500_000, 1_000_000])
def test_png_of_size_is_a_real_png_of_exactly_that_size(size):
    content = png_of_size(size, seed=size)
    assert len(content) == size
    with Image.open(io.BytesIO(content)) as image:
        image.load()  # decodes every pixel: the file is whole
        assert image.format == "PNG"
    assert make_avatar(content, AvatarRules()).content_type == "image/webp"


def test_png_over_pixels_is_small_and_refused_for_its_pixel_count_alone():
    content = png_over_pixels(50_000_000)
    assert len(content) < 20_000
    with Image.open(io.BytesIO(content)) as image:
        assert image.width * image.height > 50_000_000
    with pytest.raises(ImageTooLarge):
        make_avatar(content, AvatarRules(max_pixels=50_000_000))


def test_png_of_size_is_the_same_for_the_same_seed_and_differs_across_seeds():
    assert png_of_size(5_000, seed=1) == png_of_size(5_000, seed=1)
    assert png_of_size(5_000, seed=1) != png_of_size(5_000, seed=2)


def test_percentile_is_nearest_rank_and_always_a_measured_value():
    values = list(range(1, 101))
    assert percentile(values, 95) == 95
    assert percentile(values, 50) == 50
    assert percentile([3.0, 1.0, 2.0], 95) == 3.0
    assert percentile([7.0], 95) == 7.0


def test_summarize_gives_count_median_and_p95():
    summary = summarize([0.010, 0.030, 0.020, 0.100])
    assert (summary.count, summary.median, summary.p95) == (4, 0.025, 0.100)
    with pytest.raises(ValueError):
        summarize([])


def test_alternate_flips_the_order_every_round_and_keeps_the_last_runs_in_order():
    calls = []

    def counter(name, first):
        values = itertools.count(first)

        def measure():
            calls.append(name)
            return next(values)

        return measure

    timings = alternate({"a": counter("a", 1), "b": counter("b", 101)}, runs=3, warmup=2)

    assert calls == ["a", "b", "b", "a", "a", "b", "b", "a", "a", "b"]
    assert timings == {"a": [3, 4, 5], "b": [103, 104, 105]}


def test_the_table_has_one_row_a_figure_and_a_row_opening_each_section():
    figures = [
        Figure("Calls", "GET /users", "1 (Scan)", "<= 1", True),
        Figure("Calls", "GET /", "1 (GetObject)"),
        Figure("Time", "ratio", "1.40", "<= 1.3", False),
    ]
    lines = table(figures).splitlines()
    assert lines[2] == "| **Calls** | | | |"
    assert lines[3] == "| GET /users | 1 (Scan) | <= 1 | met |"
    assert lines[4] == "| GET / | 1 (GetObject) |  |  |"
    assert lines[5] == "| **Time** | | | |"
    assert lines[6] == "| ratio | 1.40 | <= 1.3 | **not met** |"
    assert missed(figures) == [figures[2]]


def test_results_name_the_machine_and_every_missed_target(tmp_path):
    figures = [Figure("Time", "ratio", "1.40", "<= 1.3", False)]
    path = tmp_path / "results.md"
    write_results(path, figures, seconds=12.3, how="- options: --runs 3")
    text = path.read_text()
    assert "## Run\n\n- options: --runs 3\n" in text
    assert "logical cores" in text and "Python " in text and "moto " in text
    assert "1 target(s) not met: ratio" in text
    assert "| ratio | 1.40 | <= 1.3 | **not met** |" in text


def test_the_readme_quote_replaces_only_what_lies_between_its_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\n{README_START}\nold rows\n{README_END}\n\n## Next\n")
    figures = [
        Figure("Calls", "GET /users", "1 (Scan)", "<= 1", True),
        Figure("Calls", "GET /", "1 (GetObject)"),  # no target: not quoted
    ]

    quote_in_readme(readme, figures)

    text = readme.read_text()
    assert text.startswith(f"# Title\n\n{README_START}\n")
    assert text.endswith(f"{README_END}\n\n## Next\n")
    assert "old rows" not in text
    assert "| GET /users | 1 (Scan) | <= 1 | met |" in text
    assert "GET / |" not in text


def test_every_row_the_readme_quotes_is_in_the_committed_results():
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text()
    quote = readme.split(README_START, 1)[1].split(README_END, 1)[0]
    rows = [line for line in quote.splitlines() if line.startswith("| ") and "**" not in line]
    results = (root / "bench" / "results.md").read_text().splitlines()
    assert len(rows) >= 10  # the header and every targeted figure
    assert [row for row in rows if row not in results] == []


SIGNED = "AWS4-HMAC-SHA256 Credential=local/20261124/us-east-1/{service}/aws4_request, X=y"


def request(method, url, service=None, **headers):
    if service:
        headers["Authorization"] = SIGNED.format(service=service)
    return {"method": method, "url": url, "headers": headers}


@pytest.mark.parametrize(
    "entry, name",
    [
        (request("GET", "http://e/avatars-local/pending/k", "s3", Range="bytes=0-1"), "GetObject"),
        (request("HEAD", "http://e/avatars-local/avatars/k", "s3"), "HeadObject"),
        (
            request("PUT", "http://e/b/avatars/k", "s3", **{"X-Amz-Copy-Source": "b/k"}),
            "CopyObject",
        ),
        (request("PUT", "http://e/b/web/index.html", "s3"), "PutObject"),
        (request("POST", "http://e/b?delete", "s3"), "DeleteObjects"),
        (request("DELETE", "http://e/b/pending/k", "s3"), "DeleteObject"),
        (request("GET", "http://e/b?list-type=2&prefix=pending%2F", "s3"), "ListObjectsV2"),
        (request("GET", "http://e/b?lifecycle", "s3"), "GetBucketLifecycleConfiguration"),
        (
            request("POST", "http://e/", "dynamodb", **{"X-Amz-Target": "DynamoDB_20120810.Scan"}),
            "Scan",
        ),
        (request("POST", "http://e/b", None), "unsigned POST /b"),  # a browser's form
    ],
)
def test_each_recorded_request_is_named_as_its_aws_operation(entry, name):
    assert operation_name(entry) == name


def test_the_event_bridges_sqs_polling_is_not_counted():
    polling = request("POST", "http://e/", "sqs", **{"X-Amz-Target": "AmazonSQS.ReceiveMessage"})
    assert operation_name(polling) is None


def test_broken_state_names_a_dangling_avatar_and_an_orphaned_one_of_the_users_only(aws):
    stack = SimpleNamespace(s3=aws.s3, dynamodb=aws.dynamodb, settings=aws.settings)
    bucket, table = aws.settings.bucket_name, aws.settings.table_name

    def user(name, avatar):
        aws.dynamodb.put_item(
            TableName=table,
            Item={"Username": {"S": name}, "Name": {"S": name}, "Avatar": {"S": avatar}},
        )

    def avatar(key, owner):
        aws.s3.put_object(Bucket=bucket, Key=key, Body=b"x", Metadata={"username": owner})

    user("bench-fine", "avatars/fine")
    avatar("avatars/fine", "bench-fine")
    assert _broken_state(stack, ["bench-fine"]) == []

    user("bench-dangling", "avatars/gone")
    avatar("avatars/left-over", "bench-fine")
    avatar("avatars/someone-elses", "not-a-bench-user")

    assert sorted(_broken_state(stack, ["bench-fine", "bench-dangling"])) == [
        "avatars/left-over of bench-fine is referenced by no one",
        "bench-dangling points at missing avatars/gone",
    ]


def test_the_modelled_ratio_meets_its_target_exactly_at_the_break_even_round_trip():
    change, bare, transfer = 0.050, 0.010, 0.400
    round_trip = break_even_round_trip(change, bare, transfer, ratio=1.2)
    assert round_trip == pytest.approx(0.0233, abs=1e-4)
    assert modelled_ratio(change, bare, transfer, round_trip) == pytest.approx(1.2)
    assert modelled_ratio(change, bare, transfer, round_trip * 2) > 1.2
    # Already over the target with no latency at all: no round trip is short enough.
    assert break_even_round_trip(0.5, bare, transfer, ratio=1.2) == 0.0


def test_cpu_seconds_reads_a_live_process_and_knows_no_dead_one():
    spent = cpu_seconds(os.getpid())
    assert spent is not None and spent > 0
    assert cpu_seconds(2**22 + 12345) is None  # above the kernel's largest pid
