"""Read one template file as strict JSON, and find where an object of it starts (for error messages).

A template is untrusted input: its bytes must be UTF-8, its numbers finite (Python's json module
accepts NaN and Infinity, which JSON does not) and its arrays and objects nested no deeper than
:data:`MAX_NESTING` (the json module decodes by recursion: 100,000 levels of ``[[[…]]]`` would end in a
RecursionError, a traceback instead of an error naming the file); a whole number of more digits than Python
converts (4,300) is refused likewise. Errors name the file's line and column; the place of an
object is looked up in the text only when a problem has to be reported.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

JsonPath = tuple[str | int, ...]
_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'
_STRINGS = re.compile(_STRING)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_BRACKET = re.compile(_STRING + r"|([\[{])|([\]}])")
MAX_NESTING = 100
"""Arrays and objects inside each other a file may hold (the real templates and index hold at most 10)."""


@dataclass(frozen=True)
class Fault:
    """One thing wrong with a template: a message, and where (a JSON path, or a character offset)."""

    message: str
    where: JsonPath = ()
    offset: int | None = None


class Faults(Exception):
    """A template cannot be read: every fault found in it."""

    def __init__(self, faults: list[Fault]) -> None:
        self.faults = faults
        super().__init__("; ".join(fault.message for fault in faults))


def parse(raw: bytes) -> tuple[str, Any]:
    """The text and the JSON value of a template file (Faults when it is not strict UTF-8 JSON)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        text = raw[: err.start].decode("utf-8")
        message = f"byte 0x{raw[err.start]:02x} is not UTF-8: the file must be UTF-8 text"
        raise Faults([Fault(message, offset=len(text))]) from err
    constants: list[str] = []
    long_numbers: list[str] = []

    def integer(literal: str) -> int:
        try:
            return int(literal)
        except ValueError:  # more digits than Python converts (4,300)
            long_numbers.append(literal)
            return 0

    try:
        value = json.loads(text, parse_constant=constants.append, parse_int=integer)
        deep = _nesting(text) > MAX_NESTING
    except json.JSONDecodeError as err:
        raise Faults([Fault(f"not JSON: {err.msg}", offset=err.pos)]) from err
    except RecursionError:  # the decoder recurses once per level: far too deep
        deep = True
    if deep:
        message = f"arrays and objects nest more than {MAX_NESTING} deep (the package's own files: about 10)"
        raise Faults([Fault(message, offset=_too_deep(text))])
    if constants:
        offset, name = _outside_strings(text, r"-?Infinity|NaN")
        raise Faults([Fault(f"{name} is not a JSON number: write a finite number", offset=offset)])
    if long_numbers:
        offset, number = _outside_strings(text, re.escape(long_numbers[0]))
        message = f"a whole number of {len(number.lstrip('-'))} digits: more than any value a template holds"
        raise Faults([Fault(message, offset=offset)])
    return text, value


def _outside_strings(text: str, token: str) -> tuple[int, str]:
    """The offset and text of the first match of token outside JSON strings (the decoder found one)."""
    pattern = re.compile(_STRING + "|(" + token + ")")
    match = next(m for m in pattern.finditer(text) if m.group(1))
    return match.start(1), match.group(1)


def _nesting(text: str) -> int:
    """How deep the arrays and objects of a JSON text nest: its strings removed, then its brackets counted.

    Run on text the decoder read, whose strings all end (a pattern of strings on text that is not JSON
    can take time in the square of its length)."""
    depth = deepest = 0
    for bracket in _NOT_BRACKET.sub("", _STRINGS.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _too_deep(text: str) -> int:
    """The offset of the first bracket that opens level MAX_NESTING + 1 (0 when none does).

    It lies before the place where the decoder gave up, in text the decoder read."""
    depth = 0
    for match in _BRACKET.finditer(text):
        if match.group(1):
            depth += 1
            if depth > MAX_NESTING:
                return match.start()
        elif match.group(2):
            depth -= 1
    return 0


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - text.rfind("\n", 0, offset)


def locate(text: str, where: JsonPath) -> int:
    """The offset where the value at a JSON path starts (or its nearest existing parent; 0 for the file).

    Walks the text itself, skipping the values it passes with the standard decoder, so that the place is
    the one in the file (for a key given twice, the last, which is the one a JSON reader keeps).
    """
    decoder = json.JSONDecoder()
    pos = _blank(text, 0)
    for part in where:
        inner = _member(decoder, text, pos, part)
        if inner is None:
            break
        pos = inner
    return pos


def _member(decoder: json.JSONDecoder, text: str, pos: int, part: str | int) -> int | None:
    """Where the member `part` of the object or array starting at pos starts (None when it has none)."""
    opening = text[pos : pos + 1]
    if (opening, isinstance(part, str)) not in (("{", True), ("[", False)):
        return None
    closing = "}" if opening == "{" else "]"
    pos = _blank(text, pos + 1)
    found: int | None = None
    index = 0
    while pos < len(text) and text[pos] != closing:
        if opening == "{":
            key, pos = decoder.raw_decode(text, pos)
            pos = _blank(text, _blank(text, pos) + 1)  # past the colon
            if key == part:
                found = pos
        elif index == part:
            return pos
        _, pos = decoder.raw_decode(text, pos)
        index += 1
        pos = _blank(text, pos)
        if text[pos : pos + 1] == ",":
            pos = _blank(text, pos + 1)
    return found


def _blank(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos
