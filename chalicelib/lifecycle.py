"""When S3 will expire an object, from its own answer or the bucket's rules. Pure.

Real S3 reports an object's expiry in the `Expiration` header of HEAD/GET; an
emulator may not (moto never does), so the date the lifecycle rule implies is
the fallback: last modified + the rule's days, rounded up to the next midnight
UTC, as S3 computes it.
"""

import re
from datetime import datetime, time, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Iterable, Optional

_EXPIRY_DATE = re.compile(r'expiry-date="([^"]+)"')


def expiry_from_header(expiration_header: Optional[str]) -> Optional[datetime]:
    """The date in S3's `x-amz-expiration`: `expiry-date="Fri, 23 Dec 2012 00:00:00 GMT", rule-id="..."`."""
    match = _EXPIRY_DATE.search(expiration_header or "")
    if not match:
        return None
    try:
        moment = parsedate_to_datetime(match.group(1))
    except (TypeError, ValueError):
        return None
    # "-0000" parses as naive: it still means UTC.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def expiry_from_rules(
    rules: Iterable[dict], key: str, last_modified: datetime
) -> Optional[datetime]:
    """The earliest expiry that an enabled rule of the bucket gives `key`."""
    expiries = []
    for rule in rules:
        if rule.get("Status") != "Enabled" or not key.startswith(_rule_prefix(rule)):
            continue
        expiration = rule.get("Expiration", {})
        if "Days" in expiration:
            expiries.append(_next_midnight(last_modified + timedelta(days=expiration["Days"])))
        elif "Date" in expiration:
            expiries.append(max(expiration["Date"], last_modified))
    return min(expiries, default=None)


def _rule_prefix(rule: dict) -> str:
    # A rule's prefix is in Filter.Prefix, Filter.And.Prefix, or the legacy
    # top-level Prefix; a rule with a tag or size filter is treated by prefix
    # only, which is enough for the rules this app's bucket has.
    rule_filter = rule.get("Filter", {})
    return (
        rule_filter.get("Prefix")
        or rule_filter.get("And", {}).get("Prefix")
        or rule.get("Prefix")
        or ""
    )


def _next_midnight(moment: datetime) -> datetime:
    moment = moment.astimezone(timezone.utc)
    midnight = datetime.combine(moment.date(), time(0), tzinfo=timezone.utc)
    return midnight if moment == midnight else midnight + timedelta(days=1)
