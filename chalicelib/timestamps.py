"""ISO 8601 in UTC, the one timestamp format of the HTTP answers."""

from datetime import datetime, timezone


def iso_utc(moment: datetime) -> str:
    """`2026-11-24T17:30:00Z` for a datetime (to the second)."""
    moment = moment.astimezone(timezone.utc).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")
