"""Characters that must never reach a page, a terminal or a CI log unescaped, defined once.

Data files, the snapshot and Hub answers are untrusted. After YAML or JSON unescaping, a value may hold
control characters (ANSI escapes, DEL), bidirectional overrides that make text read differently from
what it is (U+202E), other invisible format characters (zero-width spaces, tag characters) that make two
different values look alike, or line breaks that restructure Markdown or inject GitHub workflow commands.
Validation refuses them (:func:`unsafe_character`); every message we print goes through
:func:`printable`, which shows them as visible escapes instead.
"""

from __future__ import annotations

import re
import unicodedata

_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
# Every Unicode format character (category Cf, up to Unicode 15.1): invisible, yet they change what text shows
# or how it compares: zero-width spaces and joiners, word joiner and invisible operators, interlinear annotation
# marks, tag characters (U+E0001, U+E0020-U+E007F), the soft hyphen and the bidi controls above.
# tests/test_hostile_data.py checks that this covers every Cf character of the running Python's Unicode data.
FORMAT_CHARACTERS = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
# Lone surrogates (U+D800-U+DFFF) are no characters at all: YAML's "\ud800" escape makes one, and no UTF-8
# page or file can hold it (writing it raises)
SURROGATES = "\ud800-\udfff"
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029" + FORMAT_CHARACTERS + SURROGATES + "]")
# unicodedata names no control character: their Unicode name aliases (C0, DEL and the C1 codes terminals obey)
_C0_NAMES = (
    "NULL",
    "START OF HEADING",
    "START OF TEXT",
    "END OF TEXT",
    "END OF TRANSMISSION",
    "ENQUIRY",
    "ACKNOWLEDGE",
    "ALERT",
    "BACKSPACE",
    "CHARACTER TABULATION",
    "LINE FEED",
    "LINE TABULATION",
    "FORM FEED",
    "CARRIAGE RETURN",
    "SHIFT OUT",
    "SHIFT IN",
    "DATA LINK ESCAPE",
    "DEVICE CONTROL ONE",
    "DEVICE CONTROL TWO",
    "DEVICE CONTROL THREE",
    "DEVICE CONTROL FOUR",
    "NEGATIVE ACKNOWLEDGE",
    "SYNCHRONOUS IDLE",
    "END OF TRANSMISSION BLOCK",
    "CANCEL",
    "END OF MEDIUM",
    "SUBSTITUTE",
    "ESCAPE",
    "INFORMATION SEPARATOR FOUR",
    "INFORMATION SEPARATOR THREE",
    "INFORMATION SEPARATOR TWO",
    "INFORMATION SEPARATOR ONE",
)
_CONTROL_NAMES = {chr(code): name for code, name in enumerate(_C0_NAMES)} | {
    "\x7f": "DELETE",
    "\x85": "NEXT LINE",
    "\x9b": "CONTROL SEQUENCE INTRODUCER",
    "\x9c": "STRING TERMINATOR",
    "\x9d": "OPERATING SYSTEM COMMAND",
}


def character_name(char: str) -> str:
    """'U+202E (RIGHT-TO-LEFT OVERRIDE)': a character named so that a reader can find it."""
    name = unicodedata.name(char, "") or _CONTROL_NAMES.get(char, "")
    return f"U+{ord(char):04X}" + (f" ({name})" if name else "")


def unsafe_message(char: str) -> str:
    """'control character U+001B (ESCAPE) is not allowed': why validation refuses a character."""
    if char in _BIDI:
        kind = "bidirectional control"
    elif is_line_break(char):
        kind = "line break"
    elif char == "\ufeff":
        kind = "byte order mark"
    elif unicodedata.category(char) == "Cf":
        kind = "invisible format character"
    elif unicodedata.category(char) == "Cs":
        kind = "lone surrogate"
    else:
        kind = "control character"
    return f"{kind} {character_name(char)} is not allowed"


def unsafe_character(value: str, *, multiline: bool = False) -> str | None:
    """The first control, format (bidi, zero-width, tag …) or line-break character of value (newlines allowed
    when multiline)."""
    for match in _CONTROL.finditer(value):
        char = match.group()
        if multiline and char == "\n":
            continue
        return char
    return None


def refuse_unsafe(value: str, *, multiline: bool = False) -> str:
    """value unchanged, or ValueError naming its first unsafe character (a pydantic validator)."""
    char = unsafe_character(value, multiline=multiline)
    if char is None:
        return value
    hint = "; the value must be a single line" if is_line_break(char) and not multiline else ""
    raise ValueError(unsafe_message(char) + hint)


def is_line_break(char: str) -> bool:
    """True for the characters that end a line somewhere (Markdown, terminals, JavaScript)."""
    return char in LINE_BREAKS


def printable(value: str) -> str:
    """value with every control, format and line-break character shown as an escape (\\n, \\x1b, \\u202e,
    \\U000e0069)."""
    return _CONTROL.sub(_escape, value)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    special = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if char in special:
        return special[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def code_span(value: str) -> str:
    """value as a Markdown code span: printable, on one line, unable to close early or hold a link.

    The span's fence is longer than any backtick run inside, as CommonMark requires.
    """
    flat = printable(value)
    longest = max((len(run) for run in re.findall("`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def one_line(value: str, limit: int = 300) -> str:
    """An untrusted message (a server's error text) as one printable line of at most limit characters."""
    flat = printable(value.strip())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
