"""Reading a page's query string: numbers within range, text a database can hold.

A value out of range or unreadable is treated as absent, as a hand-edited address
deserves: the page shows its default rather than an error.
"""

from __future__ import annotations

from flask import request

from diversion.domain.text import without_unusable_characters
from diversion.limits import MAX_ID, id_or_none


def id_arg(name: str) -> int | None:
    """Read an id (a keyset cursor, a filter) from the query string, or None."""
    return id_or_none(request.args.get(name))


def number_arg(name: str, default: int, *, low: int, high: int) -> int:
    """Read a whole number from the query string, held within low..high."""
    value = id_or_none(request.args.get(name))
    if value is None:
        return default
    return min(max(value, low), high)


def text_arg(name: str, max_length: int = 100) -> str:
    """Read a search term from the query string: trimmed, cut to length, storable."""
    return without_unusable_characters(request.args.get(name) or "").strip()[:max_length]


def form_ids(name: str) -> list[int]:
    """Read the ids a form posted under one name, leaving out any that no row could have."""
    ids = (id_or_none(value) for value in request.form.getlist(name))
    return [i for i in ids if i is not None and 0 < i <= MAX_ID]
