"""The field types of the data model: ids, Hub names, paths, https links and the two kinds of text.

Every string of a data file passes one of these: single-line text refuses line breaks, prose keeps its
paragraphs but cannot open a Markdown block, and both refuse control, bidi and invisible characters after
YAML unescaping. Hub ids follow the Hub's own rules, naming the character that breaks them.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

from generator import vocabulary
from generator.text import character_name, refuse_unsafe

SLUG_PATTERN = r"^[a-z0-9]+(?:[-.][a-z0-9]+)*$"
HUB_NAME_MAX = 96
"""The Hub's limit on one name (a user, an organisation or a repo's name)."""
MAX_RANK = 100_000
"""Largest rank a data file may claim: real LoRAs have ranks up to a few thousand."""
_HUB_NAME_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-_.")
_HUB_NAME = r"[A-Za-z0-9_.\-]+"  # for editors' JSON Schema only: check_hub_id decides, with a message


def _checked_input(check: Callable[[str], str] | None = None, *, multiline: bool = False) -> BeforeValidator:
    """Checks a raw string before any other rule (type, pattern), so that the message names the fault.

    First no unsafe character (trailing newlines aside: YAML's `>` and `|` blocks end with one, and
    stripping removes it), then the check on the stripped value.
    """

    def validate(value: object) -> object:
        if isinstance(value, str):
            refuse_unsafe(value.rstrip("\n"), multiline=multiline)
            if check is not None:
                check(value.strip())
        return value

    return BeforeValidator(validate)


# Markdown block constructs a line of prose could open; the md filter escapes the others (# > - + * | and <,
# so that raw HTML stays text)
_BLOCK_STARTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r" {4}"), "starts with 4 or more spaces, which Markdown shows as a code block"),
    (re.compile(r" {0,3}(?:```|~~~)"), "starts a fenced code block (``` or ~~~)"),
    (re.compile(r" {0,3}(?:\?\?\?|!!!)"), "starts a collapsible or admonition block (??? or !!!)"),
    (re.compile(r" {0,3}=+ *$"), "is a row of '=', which makes the line above a heading"),
)


def check_prose(value: str) -> str:
    """Prose keeps its lines and paragraphs, but no line may open a Markdown block: ValueError naming the line."""
    for number, line in enumerate(value.split("\n"), start=1):
        for pattern, problem in _BLOCK_STARTS:
            if pattern.match(line):
                raise ValueError(f"line {number} of the text {problem}; write plain sentences")
    return value


def check_hub_id(value: str) -> str:
    """A Hub id by the Hub's own rules: 'owner/name' or one user or organisation name; ValueError naming the fault.

    Each name holds only ASCII letters, digits, '-', '_' and '.' (so no look-alike letter from another
    script), at most 96 of them, no '--' or '..', and neither starts nor ends with '-' or '.'.
    """
    names = value.split("/")
    if len(names) > 2:
        raise ValueError("a Hub id is 'owner/name' or a user or organisation name: at most one '/'")
    start = 1
    for name in names:
        _check_hub_name(name, start)
        start += len(name) + 1
    if value.endswith(".git"):
        raise ValueError("a Hub id may not end in '.git'")
    return value


def check_repo_id(value: str) -> str:
    """A Hub repo id 'owner/name' (see :func:`check_hub_id`); ValueError naming the fault."""
    if value.count("/") != 1:
        raise ValueError("a repo id is 'owner/name', with exactly one '/'")
    return check_hub_id(value)


def _check_hub_name(name: str, start: int) -> None:
    """One name of a Hub id, whose first character is at (1-based) position start of the id."""
    for position, char in enumerate(name, start=start):
        if char not in _HUB_NAME_CHARACTERS:
            raise ValueError(
                f"character {character_name(char)} at position {position} is not allowed in a Hub id; "
                "use ASCII letters, digits, '-', '_' and '.'"
            )
    if not name:
        raise ValueError("a Hub id may not have an empty name (a leading, trailing or double '/')")
    if len(name) > HUB_NAME_MAX:
        raise ValueError(f"a name of a Hub id has at most {HUB_NAME_MAX} characters, not {len(name)}")
    if "--" in name or ".." in name:
        raise ValueError("a Hub id may not contain '--' or '..'")
    if name[0] in "-." or name[-1] in "-.":
        raise ValueError("a name of a Hub id may not start or end with '-' or '.'")


_LINE = _checked_input()
Slug = Annotated[
    str,
    StringConstraints(pattern=SLUG_PATTERN, max_length=100),
    _LINE,
    Field(description="lower-case id: letters, digits, '-' and '.', e.g. wan22-t2v-high-lightning"),
]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), _LINE]
"""Text on one line: names, titles, labels (they reach table cells, headings and terminals)."""
Prose = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
    _checked_input(multiline=True),
    AfterValidator(check_prose),
    Field(
        description="text; may hold several lines and paragraphs, but no Markdown block (code, fence, ???, !!!)"
    ),
]
"""Free text in sentences, possibly in paragraphs (comments, notes, descriptions)."""
RepoId = Annotated[
    str,
    StringConstraints(pattern=f"^{_HUB_NAME}/{_HUB_NAME}$", max_length=2 * HUB_NAME_MAX + 1),
    _checked_input(check_repo_id),
    Field(description="Hugging Face repo id 'owner/name'"),
]
HubId = Annotated[
    str,
    StringConstraints(pattern=f"^{_HUB_NAME}(?:/{_HUB_NAME})?$", max_length=2 * HUB_NAME_MAX + 1),
    _checked_input(check_hub_id),
    Field(description="'owner/name' for file/folder/repo; the user or org name for user"),
]
MAX_PATH = 1000
"""Longest path inside a repo the catalog holds, in characters. The Hub (git) sets no practical limit, but no
disk that ComfyUI saves to holds a longer one; a longer name is refused with this number."""


_SURROGATE = re.compile("[\ud800-\udfff]")
UNSHOWN_PATH = (
    "a path in the catalog must show as what it is, so names holding control, line-break or invisible "
    "characters are refused, although the Hub allows them"
)
"""Why such a name is refused (the Hub has them: they cannot be catalogued, and discovery says so)."""


def check_repo_path(value: str) -> str:
    """A path inside a repo that the catalog can hold as it is; ValueError naming the fault and why.

    The Hub accepts almost any name (git does). The catalog refuses only what it cannot keep or show as it is:
    control, line-break and invisible characters and lone surrogates (a name must show as what it is, and two
    names must not look alike), white space at either end (YAML and the loader strip it), an empty, '.' or '..'
    segment or a '/' at either end (no file has such a path), and more than MAX_PATH characters. Spaces inside,
    letters of any script and a leading '-' are kept.
    """
    lone = _SURROGATE.search(value)
    if lone:
        raise ValueError(f"lone surrogate {character_name(lone.group())} is not a character; {UNSHOWN_PATH}")
    refuse_unsafe(value)  # the message every field gives; UNSHOWN_PATH says why where a path is proposed
    if value != value.strip():
        raise ValueError(
            "the path starts or ends with white space, which data files cannot keep (YAML strips it)"
        )
    if len(value) > MAX_PATH:
        raise ValueError(f"a path has at most {MAX_PATH:,} characters, not {len(value):,}")
    if any(part in ("", ".", "..") for part in value.split("/")):
        raise ValueError("path segments may not be empty, '.' or '..' (nor start or end with '/')")
    return value


def _raw_repo_path(value: object) -> object:
    """check_repo_path on the value as written (the trailing newline of a YAML block aside), before stripping."""
    if isinstance(value, str):
        check_repo_path(value.rstrip("\n"))
    return value


RepoPath = Annotated[
    str,
    StringConstraints(pattern=r"^[^/\s](?:[^\n\r\t]*[^/\s])?$", max_length=MAX_PATH),
    BeforeValidator(_raw_repo_path),
    Field(
        description="path inside the repo: no '/' or white space at either end, no empty, '.' or '..' segment, "
        "no control or invisible character"
    ),
]


def _https_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https":
        raise ValueError(f"only https:// links are allowed, not {parts.scheme or 'a relative'} link")
    if not parts.netloc or parts.username or parts.password:
        raise ValueError("the link needs a host and no user name or password")
    if re.search(r"\s", value):
        raise ValueError("the link may not contain white space")
    return value


HttpsUrl = Annotated[str, StringConstraints(max_length=2000), _LINE, AfterValidator(_https_url)]


def _version_string(value: object) -> object:
    """YAML reads `2.1` as a float; accept it as the string "2.1"."""
    return repr(value) if isinstance(value, float) else value


Generation = Annotated[vocabulary.Generation, BeforeValidator(_version_string)]
Recommendation = Literal["recommended", "worth-trying", "listed", "deprecated"]
Source = Annotated[
    Literal["seed", "contributor", "official-templates"],
    Field(
        description="whose words the comment and notes are: 'seed' = the project's original page "
        "(kept exactly as it said them), 'contributor' = the person who added the entry, "
        "'official-templates' = written by `import-templates` from ComfyUI's official workflow templates"
    ),
]
