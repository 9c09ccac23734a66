"""Unit tests for chalicelib.timestamps.iso_utc."""

import re
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.timestamps import iso_utc

ISO_Z = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def test_iso_utc_of_a_utc_datetime():
    assert iso_utc(datetime(2026, 11, 24, 17, 30, 0, tzinfo=timezone.utc)) == "2026-11-24T17:30:00Z"


def test_iso_utc_drops_microseconds():
    moment = datetime(2026, 11, 24, 17, 30, 5, 999999, tzinfo=timezone.utc)
    assert iso_utc(moment) == "2026-11-24T17:30:05Z"


def test_iso_utc_converts_a_datetime_in_another_time_zone_to_utc():
    tokyo = timezone(timedelta(hours=9))
    assert iso_utc(datetime(2026, 11, 25, 2, 30, tzinfo=tokyo)) == "2026-11-24T17:30:00Z"


def test_iso_utc_converts_across_a_date_boundary():
    west = timezone(timedelta(hours=-8))
    assert iso_utc(datetime(2026, 12, 31, 20, 0, tzinfo=west)) == "2027-01-01T04:00:00Z"


def test_iso_utc_of_the_epoch():
    assert iso_utc(datetime(1970, 1, 1, tzinfo=timezone.utc)) == "1970-01-01T00:00:00Z"


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
        datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    ],
)
def test_iso_utc_always_has_the_yyyy_mm_dd_t_hh_mm_ss_z_shape(moment):
    assert ISO_Z.fullmatch(iso_utc(moment))
