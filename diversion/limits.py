"""The bounds every request is held to before anything reaches the database.

Ids are PostgreSQL ``integer`` columns: a larger number in a query is an error there
("integer out of range"), not an empty answer, so an id beyond the range is read here
as ``NO_ROW``, an id no row has: the service answers as it does for any missing record
(a 404, or an empty list). JSON nested deeper than any body of ours is refused before
the parser recurses into it.
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

# The largest value an integer primary key (PostgreSQL ``integer``) holds.
MAX_ID = 2**31 - 1

# What an id beyond that range is read as: ids start at 1, so no row has it.
NO_ROW = -1

# The deepest nesting a request body of this API has is three (a case's participant);
# anything much deeper is an attack on the parser, whose recursion ends in a crash.
MAX_JSON_DEPTH = 32


class IdConverter(IntegerConverter):
    """Flask's ``int`` converter for ids: a number beyond an integer column is ``NO_ROW``.

    ``/cases/2147483648`` reaches its view, which finds no such case: a 404, audited
    like any other. (Refusing the match instead would answer 405 where a path has
    views for several methods.)
    """

    def __init__(self, url_map, *args, **kwargs):
        super().__init__(url_map, *args, **kwargs)
        self.max = MAX_ID  # as the OpenAPI document states the range

    def to_python(self, value: str) -> int:
        number = int(value)
        return number if number <= MAX_ID else NO_ROW


def id_or_none(value: object) -> int | None:
    """Read a whole number an id column can hold from text, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.strip().isdigit():
        number = int(value.strip())
    else:
        return None
    return number if 0 <= number <= MAX_ID else None


def json_too_deep(body: bytes | str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Say whether a JSON text nests arrays and objects deeper than ``limit``.

    Counts brackets outside strings in one pass, without parsing, so a hostile body
    costs no more than its length.
    """
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False
