"""Unit tests for chalicelib.lifecycle: S3's Expiration header and lifecycle rules."""

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.lifecycle import expiry_from_header, expiry_from_rules

UTC = timezone.utc
LAST_MODIFIED = datetime(2026, 11, 24, 17, 20, 55, tzinfo=UTC)
KEY = "pending/0123456789abcdef0123456789abcdef"


def _days_rule(days=1, prefix="pending/", status="Enabled", rule_id="expire-pending"):
    return {
        "ID": rule_id,
        "Status": status,
        "Filter": {"Prefix": prefix},
        "Expiration": {"Days": days},
    }


# --- expiry_from_header --------------------------------------------------------


def test_expiry_from_header_reads_the_date_of_s3s_expiration_header():
    header = 'expiry-date="Fri, 23 Dec 2012 00:00:00 GMT", rule-id="x"'
    expiry = expiry_from_header(header)
    assert expiry == datetime(2012, 12, 23, 0, 0, 0, tzinfo=UTC)
    assert expiry.tzinfo is not None
    assert expiry.utcoffset() == timedelta(0)


def test_expiry_from_header_reads_the_date_whatever_the_order_of_the_fields():
    header = 'rule-id="expire pending", expiry-date="Thu, 26 Nov 2026 00:00:00 GMT"'
    assert expiry_from_header(header) == datetime(2026, 11, 26, tzinfo=UTC)


def test_expiry_from_header_converts_an_offset_date_to_utc():
    header = 'expiry-date="Fri, 23 Dec 2012 02:00:00 +0200", rule-id="x"'
    expiry = expiry_from_header(header)
    assert expiry == datetime(2012, 12, 23, 0, 0, 0, tzinfo=UTC)
    assert expiry.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        'rule-id="x"',
        'expiry-date="", rule-id="x"',
        'expiry-date="not a date", rule-id="x"',
        'expiry-date="Fri, 99 Dec 2012 00:00:00 GMT", rule-id="x"',
        "expiry-date=Fri, 23 Dec 2012 00:00:00 GMT",
    ],
)
def test_expiry_from_header_gives_none_for_a_missing_or_garbled_header(header):
    assert expiry_from_header(header) is None


# --- expiry_from_rules -----------------------------------------------------------


def test_a_one_day_rule_expires_at_the_next_midnight_utc_after_a_day():
    expiry = expiry_from_rules([_days_rule()], KEY, LAST_MODIFIED)
    assert expiry == datetime(2026, 11, 26, 0, 0, 0, tzinfo=UTC)
    assert expiry.utcoffset() == timedelta(0)


def test_a_seven_day_rule_expires_at_the_next_midnight_utc_after_seven_days():
    expiry = expiry_from_rules([_days_rule(days=7)], KEY, LAST_MODIFIED)
    assert expiry == datetime(2026, 12, 2, 0, 0, 0, tzinfo=UTC)


def test_an_object_modified_exactly_at_midnight_expires_exactly_days_later():
    midnight = datetime(2026, 11, 24, 0, 0, 0, tzinfo=UTC)
    assert expiry_from_rules([_days_rule()], KEY, midnight) == datetime(
        2026, 11, 25, 0, 0, 0, tzinfo=UTC
    )


def test_an_object_modified_one_microsecond_after_midnight_rounds_up_a_day():
    moment = datetime(2026, 11, 24, 0, 0, 0, 1, tzinfo=UTC)
    assert expiry_from_rules([_days_rule()], KEY, moment) == datetime(
        2026, 11, 26, 0, 0, 0, tzinfo=UTC
    )


def test_a_last_modified_in_another_time_zone_is_rounded_in_utc():
    # 2026-11-24T23:30-05:00 is 2026-11-25T04:30Z; + 1 day, then up to midnight UTC.
    eastern = timezone(timedelta(hours=-5))
    moment = datetime(2026, 11, 24, 23, 30, tzinfo=eastern)
    expiry = expiry_from_rules([_days_rule()], KEY, moment)
    assert expiry == datetime(2026, 11, 27, 0, 0, 0, tzinfo=UTC)
    assert expiry.utcoffset() == timedelta(0)


def test_a_key_outside_the_rules_prefix_has_no_expiry():
    assert expiry_from_rules([_days_rule()], "avatars/0123456789abcdef", LAST_MODIFIED) is None


def test_a_key_that_only_contains_the_prefix_later_has_no_expiry():
    assert expiry_from_rules([_days_rule()], "avatars/pending/abc", LAST_MODIFIED) is None


def test_a_disabled_rule_is_ignored():
    assert expiry_from_rules([_days_rule(status="Disabled")], KEY, LAST_MODIFIED) is None


def test_a_rule_without_a_status_is_ignored():
    rule = _days_rule()
    del rule["Status"]
    assert expiry_from_rules([rule], KEY, LAST_MODIFIED) is None


def test_a_filter_and_prefix_is_honoured():
    rule = {
        "Status": "Enabled",
        "Filter": {"And": {"Prefix": "pending/", "Tags": [{"Key": "k", "Value": "v"}]}},
        "Expiration": {"Days": 1},
    }
    assert expiry_from_rules([rule], KEY, LAST_MODIFIED) == datetime(2026, 11, 26, tzinfo=UTC)
    assert expiry_from_rules([rule], "avatars/abc", LAST_MODIFIED) is None


def test_a_legacy_top_level_prefix_is_honoured():
    rule = {"Status": "Enabled", "Prefix": "pending/", "Expiration": {"Days": 1}}
    assert expiry_from_rules([rule], KEY, LAST_MODIFIED) == datetime(2026, 11, 26, tzinfo=UTC)
    assert expiry_from_rules([rule], "avatars/abc", LAST_MODIFIED) is None


def test_a_rule_with_an_empty_prefix_applies_to_every_key():
    rule = _days_rule(prefix="")
    assert expiry_from_rules([rule], "avatars/abc", LAST_MODIFIED) == datetime(
        2026, 11, 26, tzinfo=UTC
    )


def test_the_earliest_of_two_matching_rules_wins():
    rules = [_days_rule(days=7, rule_id="slow"), _days_rule(days=2, rule_id="fast")]
    assert expiry_from_rules(rules, KEY, LAST_MODIFIED) == datetime(2026, 11, 27, tzinfo=UTC)
    assert expiry_from_rules(list(reversed(rules)), KEY, LAST_MODIFIED) == datetime(
        2026, 11, 27, tzinfo=UTC
    )


def test_only_matching_enabled_rules_compete_for_the_earliest():
    rules = [
        _days_rule(days=1, prefix="avatars/"),
        _days_rule(days=1, status="Disabled"),
        _days_rule(days=3),
    ]
    assert expiry_from_rules(rules, KEY, LAST_MODIFIED) == datetime(2026, 11, 28, tzinfo=UTC)


def test_a_rule_that_only_aborts_incomplete_multipart_uploads_gives_no_expiry():
    rule = {
        "Status": "Enabled",
        "Filter": {"Prefix": "pending/"},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
    }
    assert expiry_from_rules([rule], KEY, LAST_MODIFIED) is None


def test_a_rule_that_only_removes_expired_delete_markers_gives_no_expiry():
    rule = {
        "Status": "Enabled",
        "Filter": {"Prefix": "pending/"},
        "Expiration": {"ExpiredObjectDeleteMarker": True},
    }
    assert expiry_from_rules([rule], KEY, LAST_MODIFIED) is None


def test_an_expiration_date_rule_gives_that_date():
    date = datetime(2027, 1, 1, tzinfo=UTC)
    rule = {"Status": "Enabled", "Filter": {"Prefix": "pending/"}, "Expiration": {"Date": date}}
    assert expiry_from_rules([rule], KEY, LAST_MODIFIED) == date


def test_an_expiration_date_already_past_gives_the_last_modified_time():
    date = datetime(2020, 1, 1, tzinfo=UTC)
    rule = {"Status": "Enabled", "Filter": {"Prefix": "pending/"}, "Expiration": {"Date": date}}
    assert expiry_from_rules([rule], KEY, LAST_MODIFIED) == LAST_MODIFIED


def test_a_date_rule_and_a_days_rule_compete_for_the_earliest():
    date_rule = {
        "Status": "Enabled",
        "Filter": {"Prefix": "pending/"},
        "Expiration": {"Date": datetime(2026, 11, 25, 12, tzinfo=UTC)},
    }
    assert expiry_from_rules([_days_rule(), date_rule], KEY, LAST_MODIFIED) == datetime(
        2026, 11, 25, 12, tzinfo=UTC
    )


def test_no_rules_give_no_expiry():
    assert expiry_from_rules([], KEY, LAST_MODIFIED) is None


def test_rules_may_be_any_iterable():
    rules = (rule for rule in [_days_rule()])
    assert expiry_from_rules(rules, KEY, LAST_MODIFIED) == datetime(2026, 11, 26, tzinfo=UTC)


def test_expiry_from_header_reads_minus_zero_zone_as_utc():
    parsed = expiry_from_header('expiry-date="Fri, 23 Dec 2012 00:00:00 -0000", rule-id="x"')
    assert parsed == datetime(2012, 12, 23, tzinfo=timezone.utc)
