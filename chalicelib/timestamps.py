"""ISO 8601 in UTC, the one timestamp format of the HTTP answers."""

from datetime import datetime, timezone
from typing import Union


def iso_utc(moment: Union[datetime, float]) -> str:
    """`2026-11-24T17:30:00Z` for a datetime or Unix seconds (to the second)."""
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(int(moment), tz=timezone.utc)
    moment = moment.astimezone(timezone.utc).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")
