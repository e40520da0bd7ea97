"""Where a value stands in a JSON text: line and column of a JSON path, for errors that name their place.

The snapshot is validated by pydantic straight from its JSON text (fast, and without Python's recursion
limit); only when it is wrong do we walk the text, along the failing path, to the value's position.
The walk decodes keys with the standard library's scanner and skips the values it passes over.
"""

from __future__ import annotations

import json
import re

Pos = tuple[int, int]

_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")
_AT = re.compile(r"line (\d+) column (\d+)")


def line_col(text: str, offset: int) -> Pos:
    """1-based line and column of a character offset."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def json_position(text: str, path: tuple[int | str, ...]) -> tuple[Pos, tuple[int | str, ...]]:
    """The position of the deepest value along path that the text holds, and the part of path found.

    Parts that name nothing in the text (pydantic adds union tags and validator names) are skipped.
    """
    offset, found = _skip_space(text, 0), []
    for part in path:
        inner = _child(text, offset, part)
        if inner is None:
            continue
        offset = inner
        found.append(part)
    return line_col(text, offset), tuple(found)


def position_in_message(message: str) -> Pos | None:
    """The 'line L column C' a JSON parser names in its error message, if any."""
    match = _AT.search(message)
    return (int(match[1]), int(match[2])) if match else None


def _skip_space(text: str, offset: int) -> int:
    match = _SPACE.match(text, offset)
    return match.end() if match else offset


def _child(text: str, offset: int, part: int | str) -> int | None:
    """Offset of the member (object key or array index) part of the container at offset, if present."""
    opening = text[offset : offset + 1]
    if opening == "{" and isinstance(part, str):
        return _member(text, offset + 1, part)
    if opening == "[" and isinstance(part, int):
        return _item(text, offset + 1, part)
    return None


def _member(text: str, offset: int, key: str) -> int | None:
    offset = _skip_space(text, offset)
    at: int | None = offset
    while at is not None and text.startswith('"', at):
        name, end = _DECODER.raw_decode(text, at)
        value = _skip_space(text, _skip_space(text, end) + 1)  # past ':'
        if name == key:
            return value
        at = _next(text, value)
    return None


def _item(text: str, offset: int, index: int) -> int | None:
    offset = _skip_space(text, offset)
    if text.startswith("]", offset):
        return None
    for _ in range(index):
        found = _next(text, offset)
        if found is None:
            return None
        offset = found
    return offset


def _next(text: str, offset: int) -> int | None:
    """Offset of the value after the one at offset (past its ','), or None after the last one."""
    try:
        _, end = _DECODER.raw_decode(text, offset)
    except (ValueError, RecursionError):
        return None
    end = _skip_space(text, end)
    if not text.startswith(",", end):
        return None
    return _skip_space(text, end + 1)
