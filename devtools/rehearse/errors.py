"""The rehearsal's own error: why it cannot start, or cannot go on."""


class RehearsalError(Exception):
    """The rehearsal cannot start; the message says why."""
