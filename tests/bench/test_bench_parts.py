"""The benchmark's own parts that need no stack: images, statistics, the table."""

import io
from pathlib import Path

import pytest
from PIL import Image

from bench.images import png_of_size
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
from chalicelib.images import SNIFF_BYTES, sniff_image_type


@pytest.mark.parametrize("size", [2_000, 50_000, 500_000, 1_000_000])
def test_png_of_size_is_a_real_png_of_exactly_that_size(size):
    content = png_of_size(size, seed=size)
    assert len(content) == size
    assert sniff_image_type(content[:SNIFF_BYTES]) == "image/png"
    with Image.open(io.BytesIO(content)) as image:
        image.load()  # decodes every pixel: the file is whole
        assert image.format == "PNG"


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


def test_alternate_flips_the_order_every_round_and_drops_the_warmup():
    calls = []

    def measure(name, seconds):
        def run():
            calls.append(name)
            return seconds

        return run

    timings = alternate({"a": measure("a", 1.0), "b": measure("b", 2.0)}, runs=3, warmup=1)

    assert calls == ["a", "b", "b", "a", "a", "b", "b", "a"]
    assert timings == {"a": [1.0, 1.0, 1.0], "b": [2.0, 2.0, 2.0]}


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
    write_results(path, figures, seconds=12.3)
    text = path.read_text()
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
