"""Text a person could have typed, and that every database and mail server can hold.

A NUL byte cannot be stored in PostgreSQL text, and a lone UTF-16 surrogate (a JSON
escape like ``\\ud800`` with no partner) cannot be written as UTF-8 at all: both are
refused where text comes in, never passed on to fail deeper down.
"""

from __future__ import annotations

import re

_UNUSABLE = re.compile("[\x00\ud800-\udfff]")


def has_unusable_characters(value: str) -> bool:
    """Say whether the text holds a NUL byte or an unpaired surrogate."""
    return _UNUSABLE.search(value) is not None


def without_unusable_characters(value: str) -> str:
    """Drop NUL bytes and unpaired surrogates (for a search term or a log line)."""
    return _UNUSABLE.sub("", value)


def unusable_characters_message(label: str) -> str:
    """The error a person reads when a field holds such a character."""
    return f"{label} must not include hidden or invalid characters"
